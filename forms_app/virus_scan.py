"""Optional virus scan of uploads by clamd (ClamAV's daemon), before anything is stored.

With CLAMD_SOCKET set (the path of clamd's Unix socket), every upload that passed its
field's checks is streamed to clamd with the INSTREAM command before it is stored. A file
clamd finds infected is refused with a French message; while clamd does not answer (or
answers anything but a verdict), uploads get the French 503 page (`ScannerUnavailable`).
No file is stored before its verdict, so nothing waits in quarantine. Without
CLAMD_SOCKET nothing is scanned. clamd's StreamMaxLength must exceed the largest
max_size_mb of the forms (50 MB at most), or every larger file gets the 503 page.
"""

import socket
import struct

from flask import current_app, has_app_context

CHUNK = 64 * 1024
_MAX_REPLY = 4096


class ScannerUnavailable(RuntimeError):
    """clamd cannot give a verdict now: unreachable, too slow, or an error reply."""


def scan(content: bytes) -> str | None:
    """The name of what clamd found in content; None if clean or if no scanner is set."""
    path = current_app.config.get("CLAMD_SOCKET") if has_app_context() else None
    if not path:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(current_app.config["CLAMD_TIMEOUT"])
            connection.connect(path)
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), CHUNK):
                chunk = content[start : start + CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            reply = _reply(connection)
    except OSError as exc:
        raise ScannerUnavailable(f"clamd unreachable: {type(exc).__name__}") from exc
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply.removeprefix("stream: ").removesuffix(" FOUND")
    raise ScannerUnavailable(f"clamd answered {reply[:100]!r}")


def _reply(connection: socket.socket) -> str:
    """clamd's answer to a z-command: text up to a NUL byte (or the end of the stream)."""
    received = b""
    while b"\0" not in received and len(received) < _MAX_REPLY:
        data = connection.recv(_MAX_REPLY)
        if not data:
            break
        received += data
    return received.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
