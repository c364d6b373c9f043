"""Throughput and ACK latency of the e-POP relay with N concurrent clients (127.0.0.1 only).

    python benchmarks/bench_relay.py --clients 20 --payloads 10 --size 4096 [--tls]

Starts a local receiver and a relay in this process, sends ``clients x payloads`` payloads
through ``EpopTransport`` (one connection per payload), and prints the figures. Nothing is
asserted: speed lives here, not in the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lotas_core.transmission.contract import Payload
from lotas_core.transmission.credentials import Credentials
from lotas_plugins.transport_direct.client import DirectTransport
from lotas_plugins.transport_direct.options import DirectOptions
from lotas_plugins.transport_direct.receiver import EpmsiServer, ReceiverConfig
from lotas_plugins.transport_epop.client import EpopOptions, EpopTransport
from lotas_plugins.transport_epop.relay import RelayConfig, RelayServer


def make_payloads(folder: Path, count: int, size: int) -> list[Payload]:
    payloads = []
    for i in range(count):
        body = b'{"n": %d, "pad": "' % i + os.urandom(size // 2).hex().encode()[:size] + b'"}'
        path = folder / f"p{i}.json"
        path.write_bytes(body)
        payloads.append(Payload(path, hashlib.sha256(body).hexdigest(), len(body), f"bench-{i}",
                                {"n": i}))
    return payloads


def tls_files(folder: Path) -> tuple[Path, Path, Path]:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    paths = folder / "relay.crt", folder / "relay.key", folder / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(paths[0]))
    cert.private_key_pem.write_to_path(str(paths[1]))
    ca.cert_pem.write_to_path(str(paths[2]))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--payloads", type=int, default=10, help="payloads per client")
    parser.add_argument("--size", type=int, default=4096, help="bytes per payload")
    parser.add_argument("--tls", action="store_true", help="encrypt client-relay traffic")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        total = args.clients * args.payloads
        payloads = make_payloads(root, total, args.size)
        receiver = EpmsiServer(ReceiverConfig(store=root / "received"), port=0).start()
        options = DirectOptions(base_url=receiver.url, backoff_base=0.05)
        cert = key = ca = None
        if args.tls:
            cert, key, ca = tls_files(root)
        relay = RelayServer(
            RelayConfig(spool=root / "spool", port=0, tls_cert=cert, tls_key=key,
                        max_clients=max(128, args.clients * 2),
                        # every bench client shares 127.0.0.1: lift the per-address limit
                        max_per_client=max(16, args.clients * 2)),
            lambda: DirectTransport(options, Credentials(environ={}, use_keyring=False)),
        ).start()
        client_options = EpopOptions(host="127.0.0.1", port=relay.address[1], read_timeout=60,
                                     encrypt=args.tls, tls_ca_file=ca)
        latencies: list[float] = []

        def run(batch: list[Payload]) -> None:
            client = EpopTransport(client_options)
            for payload in batch:
                start = time.perf_counter()
                client.send(payload)
                latencies.append(time.perf_counter() - start)

        batches = [payloads[i::args.clients] for i in range(args.clients)]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(run, batches))
        accepted = time.perf_counter() - start
        deadline = time.monotonic() + 600
        while relay.spool.counts()["delivered"] < total and time.monotonic() < deadline:
            time.sleep(0.01)
        delivered = time.perf_counter() - start
        stored = len(receiver.stored_payloads())
        relay.stop()
        receiver.stop()

    lat = sorted(latencies)
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    print(f"clients={args.clients} payloads={total} size={args.size} B tls={args.tls}")
    print(f"ACK latency: median {statistics.median(lat) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
          f"max {lat[-1] * 1000:.1f} ms")
    print(f"accepted: {total / accepted:.0f} payloads/s "
          f"({total * args.size / accepted / 1e6:.2f} MB/s) in {accepted:.2f} s")
    print(f"delivered to the receiver: {stored}/{total} after {delivered:.2f} s "
          f"({stored / delivered:.0f} payloads/s end to end)")


if __name__ == "__main__":
    main()
