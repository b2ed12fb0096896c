"""Uploads and generated PDFs, stored once per content hash, outside the web root.

The backend is chosen by STORAGE_BACKEND: "filesystem" (UPLOAD_DIR, or uploads/ in the
instance folder; `storage_fs.py`) or "s3" (an S3-compatible object store; `storage_s3.py`).
Keys ("ab/abcdef…", the content's SHA-256) are the same for both, so the keys kept in the
database stay valid when the backend changes. Files are served through `send`, never by path.
"""

import hashlib
import re
from pathlib import Path

from flask import abort, current_app

from forms_app.config import ConfigError
from forms_app.storage_errors import ObjectNotFound, StorageError, StorageUnavailable

__all__ = [
    "ObjectNotFound",
    "StorageError",
    "StorageUnavailable",
    "backend",
    "check",
    "delete",
    "exists",
    "read",
    "send",
    "store",
    "store_once",
]

EXTENSION = "guichet.storage"
KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}")


def backend():
    """This app's backend, made from its configuration on first use (no I/O)."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = current_app.extensions.setdefault(EXTENSION, _create(current_app))
    return found


def _create(app):
    config = app.config
    kind = config.get("STORAGE_BACKEND") or "filesystem"
    if kind == "filesystem":
        from forms_app.storage_fs import FilesystemStorage

        return FilesystemStorage(config.get("UPLOAD_DIR") or Path(app.instance_path) / "uploads")
    if kind == "s3":
        from forms_app.storage_s3 import S3Storage

        if not config.get("S3_BUCKET"):
            raise ConfigError("STORAGE_BACKEND is 's3' but S3_BUCKET is not set.")
        return S3Storage(
            config["S3_BUCKET"],
            prefix=config.get("S3_PREFIX") or "",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            addressing_style=config.get("S3_ADDRESSING_STYLE"),
        )
    raise ConfigError(f"STORAGE_BACKEND must be 'filesystem' or 's3', not {kind!r}.")


def key_of(sha256: str) -> str:
    key = f"{sha256[:2]}/{sha256}"
    if not KEY.fullmatch(key):
        raise ValueError("a storage key is made from a lowercase hexadecimal SHA-256")
    return key


def _checked(key: str) -> str:
    """The key if it is one `store` could have made; anything else is not stored here."""
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise ObjectNotFound(key)
    return key


def store(content: bytes, sha256: str) -> str:
    """Keep the content once under its hash; return its storage key.

    Write-once: an existing key is never rewritten, and two processes storing the same
    content at the same time both succeed, leaving one object.
    """
    key = key_of(sha256)
    backend().store(key, content)
    return key


def read(key: str) -> bytes:
    """The stored bytes; ObjectNotFound if there are none, StorageUnavailable on trouble."""
    return backend().read(_checked(key))


def exists(key: str) -> bool:
    try:
        return backend().exists(_checked(key))
    except ObjectNotFound:
        return False


def send(key: str, *, download_name: str, mimetype: str, as_attachment: bool = True):
    """A Flask response with the stored file: 404 if it is missing; StorageUnavailable if away.

    The caller adds its own headers (nosniff, framing, caching) to the response.
    """
    try:
        return backend().send(
            _checked(key),
            mimetype=mimetype,
            download_name=download_name,
            as_attachment=as_attachment,
        )
    except ObjectNotFound:
        current_app.logger.warning("stored file missing: %s", key)
        abort(404)
    # StorageUnavailable propagates: errors.py answers with the French 503 page.


def delete(key: str) -> None:
    """Remove a stored object for good (retention: `forms_app.retention`). The caller makes
    sure no row still names the key: one object may serve several rows (same content)."""
    backend().delete(_checked(key))


def check() -> None:
    """Raise StorageUnavailable unless the store answers (for readiness probes)."""
    backend().check()


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
