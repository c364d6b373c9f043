"""The e-POP relay protocol, version 1 (documented in this plugin's README.md).

A frame is a 12-byte header, then ``length`` bytes of body::

    magic "EPOP" (4) | version u8 | type u8 | flags u16 (0) | length u32   (big-endian)

Control frames carry a UTF-8 JSON object; DATA frames carry raw payload bytes.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

MAGIC = b"EPOP"
VERSION = 1
HEADER = struct.Struct(">4sBBHI")
DEFAULT_PORT = 3358
DEFAULT_MAX_FRAME = 1 << 20  # 1 MiB per frame
DEFAULT_MAX_PAYLOAD = 64 << 20  # 64 MiB per payload
CHUNK_SIZE = 64 << 10


class FrameType(IntEnum):
    WELCOME = 0x01  # server -> client, first frame: {"protocol": 1, "tls": bool}
    PUT = 0x02  # client: {"key", "sha256", "size", "metadata"}
    DATA = 0x03  # client: raw bytes
    END = 0x04  # client: {} after the last DATA
    ACK = 0x05  # server: {"key", "state", "duplicate", "spool_id"}
    NACK = 0x06  # server: {"code", "message"}; nothing was kept
    STATUS = 0x07  # client: {"key"}
    STATUS_REPLY = 0x08  # server: {"key", "state", "receipt"?, "error"?}
    PING = 0x09  # client: {}
    PONG = 0x0A  # server: {"server": ..., "protocol": 1}
    ERROR = 0x0F  # server: {"code", "message", ...}; the connection closes after it


JSON_TYPES = frozenset(FrameType) - {FrameType.DATA}
_TIMEOUT_MESSAGES = {
    "idle_timeout": "no data within the idle timeout",
    "frame_timeout": "frame not completed within the frame deadline",
    "total_timeout": "connection lasted too long",
}


class ProtocolViolation(Exception):
    """A peer broke the protocol; ``code`` goes into the ERROR frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class PeerClosed(ProtocolViolation):
    """The peer closed the connection (cleanly between frames, or in the middle of one)."""


@dataclass(frozen=True)
class Frame:
    type: FrameType
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise ProtocolViolation("bad_json", "frame body is not valid JSON") from None
        if not isinstance(value, dict):
            raise ProtocolViolation("bad_json", "frame body is not a JSON object")
        return value


def encode(frame_type: FrameType, body: bytes | dict[str, Any] = b"") -> bytes:
    """Header plus body, ready to send."""
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return HEADER.pack(MAGIC, VERSION, int(frame_type), 0, len(body)) + body


def send(sock: socket.socket, frame_type: FrameType, body: bytes | dict[str, Any] = b"") -> None:
    sock.sendall(encode(frame_type, body))


class FrameReader:
    """Reads frames from a socket under an idle timeout, a per-frame deadline and an overall one.

    ``idle_timeout`` bounds the wait for the first byte of a frame; ``frame_timeout`` bounds the
    time from that first byte to the last one, so a peer dripping a byte at a time is cut off.
    """

    def __init__(self, sock: socket.socket, *, max_frame: int = DEFAULT_MAX_FRAME,
                 idle_timeout: float = 30.0, total_timeout: float | None = None,
                 frame_timeout: float | None = None) -> None:
        self.sock = sock
        self.max_frame = max_frame
        self.idle_timeout = idle_timeout
        self.frame_timeout = frame_timeout
        self.deadline = time.monotonic() + total_timeout if total_timeout else None
        self._frame_deadline: float | None = None

    def _limit(self) -> tuple[float, str]:
        """The time left and the code of the deadline that comes first."""
        timeout, code = self.idle_timeout, "idle_timeout"
        now = time.monotonic()
        for deadline, name in ((self._frame_deadline, "frame_timeout"),
                               (self.deadline, "total_timeout")):
            if deadline is not None and deadline - now < timeout:
                timeout, code = deadline - now, name
        return timeout, code

    def _recv_exact(self, size: int, *, at_boundary: bool) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            timeout, code = self._limit()
            if timeout <= 0:
                raise ProtocolViolation(code, _TIMEOUT_MESSAGES[code])
            self.sock.settimeout(timeout)
            try:
                chunk = self.sock.recv(min(remaining, CHUNK_SIZE))
            except TimeoutError:
                raise ProtocolViolation(code, _TIMEOUT_MESSAGES[code]) from None
            if not chunk:
                if at_boundary and remaining == size:
                    raise PeerClosed("closed", "peer closed the connection")
                raise PeerClosed("truncated", "connection closed in the middle of a frame")
            if self.frame_timeout is not None and self._frame_deadline is None:
                self._frame_deadline = time.monotonic() + self.frame_timeout
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def read(self) -> Frame:
        """The next frame; ``ProtocolViolation`` on anything malformed or too slow."""
        self._frame_deadline = None
        header = self._recv_exact(HEADER.size, at_boundary=True)
        magic, version, raw_type, _flags, length = HEADER.unpack(header)
        if magic != MAGIC:
            raise ProtocolViolation("bad_magic", "not an e-POP frame")
        if version != VERSION:
            raise ProtocolViolation("bad_version", f"protocol version {version} not supported")
        try:
            frame_type = FrameType(raw_type)
        except ValueError:
            raise ProtocolViolation("unknown_type", f"unknown frame type {raw_type}") from None
        if length > self.max_frame:
            raise ProtocolViolation("frame_too_large", f"frame of {length} bytes over the limit")
        body = self._recv_exact(length, at_boundary=False) if length else b""
        self._frame_deadline = None
        return Frame(frame_type, body)
