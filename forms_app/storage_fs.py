"""Stored files on a local (or shared) filesystem: one file per content hash, written once."""

import os
import tempfile
from pathlib import Path

from flask import send_file

from forms_app.storage_errors import ObjectNotFound, StorageUnavailable


class FilesystemStorage:
    """Objects under `root`, at `root/<key>`; several hosts need `root` on a shared volume."""

    name = "filesystem"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def store(self, key: str, content: bytes) -> None:
        """Write `content` under `key` unless a file is there already; never rewrite one.

        The bytes go to a temporary file of their own (two processes storing the same content
        never write into one file), synced, then linked in place: the link fails if the key
        appeared meanwhile, and readers only ever see complete files.
        """
        target = self.path(key)
        if target.exists():
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        except OSError as exc:
            raise self._trouble("write", exc) from exc
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            _link_once(temporary, target)
        except OSError as exc:
            raise self._trouble("write", exc) from exc
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise self._trouble("read", exc) from exc

    def delete(self, key: str) -> None:
        """Remove the file under `key`; a missing one is already gone."""
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise self._trouble("delete", exc) from exc

    def send(self, key: str, *, mimetype: str, download_name: str, as_attachment: bool):
        """The file as a Flask response (conditional and range requests as Flask does them)."""
        target = self.path(key)
        if not target.is_file():
            raise ObjectNotFound(key)
        return send_file(
            target, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name
        )

    def check(self) -> None:
        """Raise StorageUnavailable unless the folder exists or can be made, and is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {self.root}: {type(exc).__name__}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"{self.root} is not writable")

    def _trouble(self, doing: str, exc: OSError) -> StorageUnavailable:
        return StorageUnavailable(f"cannot {doing} under {self.root}: {type(exc).__name__}")


def _link_once(source: str, target: Path) -> None:
    """Give `source` the name `target` unless that name exists (then the first file stays)."""
    try:
        os.link(source, target)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: same bytes, so replacing is harmless
        if not target.exists():
            os.replace(source, target)
