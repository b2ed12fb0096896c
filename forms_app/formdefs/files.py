"""Uploaded files: count, size and type limits, the type read from the content.

The type is read from the content (`filetype`), never from the name or the browser; a name
or Content-Type claiming another accepted type is refused, and so is a file that is also
something else: a ZIP archive (a PDF or image with an archive appended, which unpacks as
one) or a web page (HTML in its first bytes, which a browser sniffing it would run).
Archives themselves are not an accepted type, so nothing is ever unpacked. Names are
cleaned (`file_names`) and end with the extension of the content's type. With CLAMD_SOCKET
set, clamd scans each file last (`virus_scan`).
"""

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass

import filetype

from forms_app import virus_scan
from forms_app.formdefs import file_names
from forms_app.formdefs.definition import FieldDef
from forms_app.formdefs.nc import InvalidValue

MIME_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
TYPE_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}
MIME_NAMES = {mime: TYPE_NAMES[kind] for kind, mime in MIME_TYPES.items()}
DEFAULT_MAX_SIZE_MB = 10
# Where browsers look for markup when they sniff a type (512 bytes), with a margin.
SNIFFED_BYTES = 1024
_MARKUP = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|iframe|frame|object|embed|svg|img|style|meta|"
    rb"link|base|form|a\s|\?xml-stylesheet)",
    re.IGNORECASE,
)


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
    limit = int(max_size_mb * 1024 * 1024)
    checked = []
    for upload in files:
        content = upload.read(limit + 1)  # no more than the limit is ever read in memory
        name = file_names.readable(upload.filename) or file_names.DEFAULT_STEM
        if not content:
            raise InvalidValue(f"Le fichier « {name} » est vide.")
        if len(content) > limit:
            raise InvalidValue(f"Le fichier « {name} » dépasse {_megabytes(max_size_mb)} Mo.")
        kind = filetype.guess(content)
        mime = kind.mime if kind else None
        if mime not in {MIME_TYPES[t] for t in accepted}:
            allowed = ", ".join(TYPE_NAMES[t] for t in accepted)
            raise InvalidValue(f"Le fichier « {name} » doit être au format {allowed}.")
        declared = file_names.declared_mime(upload.filename, getattr(upload, "mimetype", None))
        if declared not in (None, mime):
            raise InvalidValue(
                f"Le fichier « {name} » se présente comme un fichier {MIME_NAMES[declared]} "
                f"mais son contenu est au format {MIME_NAMES[mime]} : vérifiez que vous avez "
                "choisi le bon fichier."
            )
        if _is_zip(content) or _MARKUP.search(content[:SNIFFED_BYTES]):
            raise InvalidValue(
                f"Le fichier « {name} » n’est pas un fichier {MIME_NAMES[mime]} ordinaire : "
                "il contient aussi une archive ou une page web. Enregistrez-le à nouveau "
                "depuis le logiciel qui l’a créé (par exemple avec « Imprimer en PDF »)."
            )
        if found := virus_scan.scan(content):
            raise InvalidValue(
                f"Le fichier « {name} » contient un virus ou un programme malveillant "
                f"({found}) : il ne peut pas être accepté."
            )
        checked.append(
            CheckedFile(
                file_names.kept_name(upload.filename, mime),
                mime,
                len(content),
                hashlib.sha256(content).hexdigest(),
                content,
            )
        )
    return checked


def _is_zip(content: bytes) -> bool:
    """Whether a ZIP reader would open the content (its directory is found from the end)."""
    return zipfile.is_zipfile(io.BytesIO(content))


def _megabytes(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")
