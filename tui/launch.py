"""Open the LOTAS screen from the command line (``lotas``, ``lotas --demo``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lotas_core.errors import UsageError
from lotas_core.reading.demo import DEMO_FINESS
from lotas_core.transmission.contract import DIRECT_ROLE

#: Where ``--demo`` transmits: the local receiver (``lotas epmsi-server``'s default address).
DEMO_RECEIVER_PORT = 8765
DEMO_RECEIVER_URL = f"http://127.0.0.1:{DEMO_RECEIVER_PORT}"

if TYPE_CHECKING:
    from lotas_core.cli.context import CommandContext
    from lotas_core.plugin_host.facade import Lotas
    from lotas_core.settings import Settings


def prepare_demo(settings: Settings, lotas: Lotas) -> Settings:
    """Write the campaign's demo archive once into its default folder, and return settings
    showing it (nothing is saved).

    The demo transmits to the local receiver (``lotas epmsi-server``'s address), set here
    explicitly: nothing a demo draws leaves this computer.
    """
    # The transport of the manual's "Connexion directe" mode, as it declares itself.
    direct = lotas.manual_forms().get(DIRECT_ROLE)
    form = lotas.manual_form(direct) if direct is not None else None
    if direct is None or form is None or "base_url" not in form.fields:
        raise UsageError(
            "La démonstration transmet au récepteur local par une connexion directe, mais aucun "
            "transport de connexion directe n'est installé : réinstallez lotas.",
            "no transport declares the direct role of the manual's form")
    campaign = lotas.campaign(settings.campaign)
    folder = lotas.archive_folder(settings, campaign.id)
    from lotas_core.fsutil import ensure_private_dir

    ensure_private_dir(folder)
    # The generator is deterministic: an archive of the same name already there is this one.
    with tempfile.TemporaryDirectory(dir=folder, prefix=".demo-") as tmp:
        made = lotas.ask_campaign(campaign, "write_demo_archive", Path(tmp),
                                  finess=DEMO_FINESS, returns=Path, passes=(OSError,))
        target = folder / made.name
        if not target.exists():
            os.replace(made, target)
            print(f"lotas : archive de démonstration créée : {target}", file=sys.stderr)
    archives = settings.archives.model_copy(update={"use_default": True})
    options = {name: dict(values) for name, values in settings.transport.options.items()}
    options.setdefault(direct, {})[form.fields["base_url"]] = DEMO_RECEIVER_URL
    transport = settings.transport.model_copy(update={"name": direct, "options": options})
    return settings.model_copy(update={"finess": DEMO_FINESS, "archives": archives,
                                       "transport": transport})


def start_demo_receiver(settings: Settings) -> tuple[subprocess.Popen[str] | None, str]:
    """Start the local receiver for the demo (``lotas epmsi-server``, stopped with the screen);
    the process or None, and the French sentence that says where transmissions go."""
    import threading

    store = Path(settings.data_dir) / "epmsi-receiver"
    command = [sys.executable, "-m", "lotas_core.cli.main", "epmsi-server",
               "--port", str(DEMO_RECEIVER_PORT), "--store", str(store)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, text=True,
                               preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    lines: list[str] = []
    # a thread rather than select(): pipes cannot be selected on Windows
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()
                                                          if process.stdout else ""),
                              daemon=True)
    reader.start()
    reader.join(15)
    banner = lines[0] if lines else ""
    if DEMO_RECEIVER_URL not in banner:
        stop_demo_receiver(process)
        return None, (
            f"Démonstration : les transmissions vont au récepteur local {DEMO_RECEIVER_URL}, "
            f"mais il n'a pas pu démarrer (port {DEMO_RECEIVER_PORT} déjà pris ? un « lotas "
            "epmsi-server » tourne peut-être déjà)."
        )
    return process, (
        f"Démonstration : les transmissions vont au récepteur local {DEMO_RECEIVER_URL}, "
        f"démarré pour cette séance (reçus dans {store}) ; rien ne quitte cet ordinateur."
    )


def _die_with_parent() -> None:
    """In the receiver's process (Linux): end it if the screen is killed (a closed terminal),
    so that no receiver is left listening on the demo's port."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_demo_receiver(process: subprocess.Popen[str]) -> None:
    """End the demo's receiver (SIGTERM, then kill after 10 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def run_ui(ctx: CommandContext, demo: bool = False) -> int:
    """Run the app on the command's settings; ``demo`` opens it on the demo archive."""
    from lotas_core.plugin_host.facade import Lotas
    from lotas_tui.app import create_app, fault_texts

    loaded = ctx.loaded
    # The plugins are loaded leaving out (and naming) a broken one: the screen runs without it.
    lotas, faults = Lotas.without_broken_plugins(loaded.settings)
    settings = prepare_demo(loaded.settings, lotas) if demo else loaded.settings
    receiver, notice = start_demo_receiver(settings) if demo else (None, "")
    if notice:
        print(f"lotas : {notice}", file=sys.stderr)
    app = create_app(
        settings,
        lotas=lotas,
        plugin_faults=fault_texts(faults),
        config_file=loaded.config_file,
        config_found=loaded.config_file_found,
        demo=demo,
        startup_notice=notice,
    )
    try:
        result = app.run()
    finally:
        if receiver is not None:
            stop_demo_receiver(receiver)
    if app.return_code:  # stopped on an unexpected error, already reported in one line
        return 2
    return int(result or 0)
