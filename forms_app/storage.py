"""File storage outside the web root, one file per content hash."""

from pathlib import Path

from flask import current_app


def root() -> Path:
    return Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")


def store(content: bytes, sha256: str) -> str:
    """Write the content once under its hash; return its storage key."""
    key = f"{sha256[:2]}/{sha256}"
    path = root() / key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        partial.replace(path)
    return key


def path(key: str) -> Path:
    return root() / key


def read(key: str) -> bytes:
    return path(key).read_bytes()
