"""File storage outside the web root, one file per content hash."""

import hashlib
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


def store_once(session, row, content: bytes, *, key="pdf_key", sha="pdf_sha256", **values) -> bool:
    """Keep `content` as `row`'s document unless one is kept already; True if this call did.

    A conditional UPDATE (`WHERE <key> IS NULL`): of two runs rendering the same document, the
    first to store it wins and the document never changes afterwards. The row is refreshed.
    """
    from sqlalchemy import update

    model = type(row)
    sha256 = hashlib.sha256(content).hexdigest()
    stored = session.execute(
        update(model)
        .where(model.id == row.id, getattr(model, key).is_(None))
        .values({key: store(content, sha256), sha: sha256, **values})
    ).rowcount
    session.refresh(row)
    return bool(stored)
