"""Uploaded files: count, size and type limits, the type read from the content."""

import hashlib
from dataclasses import dataclass

import filetype

from forms_app.formdefs.definition import FieldDef
from forms_app.formdefs.nc import InvalidValue

MIME_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
TYPE_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}
DEFAULT_MAX_SIZE_MB = 10


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed its field's limits, ready to be stored."""

    name: str
    content_type: str
    size: int
    sha256: str
    content: bytes


def check_files(files: list, fdef: FieldDef) -> list[CheckedFile]:
    """Check uploads against the field's limits; raise InvalidValue with a French message."""
    max_files = fdef.get("max_files", 1)
    if len(files) > max_files:
        raise InvalidValue(
            "Vous ne pouvez joindre qu’un seul fichier."
            if max_files == 1
            else f"Vous pouvez joindre au plus {max_files} fichiers."
        )
    accepted = fdef.get("accept", list(MIME_TYPES))
    max_size_mb = fdef.get("max_size_mb", DEFAULT_MAX_SIZE_MB)
    checked = []
    for upload in files:
        content = upload.read()
        name = upload.filename
        if not content:
            raise InvalidValue(f"Le fichier « {name} » est vide.")
        if len(content) > max_size_mb * 1024 * 1024:
            raise InvalidValue(f"Le fichier « {name} » dépasse {_megabytes(max_size_mb)} Mo.")
        kind = filetype.guess(content)
        mime = kind.mime if kind else None
        if mime not in {MIME_TYPES[t] for t in accepted}:
            allowed = ", ".join(TYPE_NAMES[t] for t in accepted)
            raise InvalidValue(f"Le fichier « {name} » doit être au format {allowed}.")
        checked.append(
            CheckedFile(name, mime, len(content), hashlib.sha256(content).hexdigest(), content)
        )
    return checked


def _megabytes(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")
