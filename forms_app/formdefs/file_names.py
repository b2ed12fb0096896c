"""The names of uploaded files, as they are kept, shown and offered back for download.

A browser sends whatever name the file had, or whatever a script put there: path
separators (an old browser sends the whole path), control characters, a right-to-left
override that shows `facture‮fdp.exe` as `facture‮exe.pdf`, zero-width characters,
hundreds of characters. The name kept is the last part of the path, in NFC, without
invisible characters (Unicode categories C*), with single spaces, at most MAX_LENGTH
characters, and it ends with the extension of the type read from the content.
"""

import re
import unicodedata

MAX_LENGTH = 120
DEFAULT_STEM = "fichier"
# Extensions of the accepted types, the first being the one a kept name ends with.
EXTENSIONS = {"application/pdf": ("pdf",), "image/jpeg": ("jpg", "jpeg", "jpe"),
              "image/png": ("png",)}  # fmt: skip
_SPACES = re.compile(r"\s+")


def readable(name: str | None) -> str:
    """The name without its folders, invisible characters and extra spaces (may be empty)."""
    name = re.split(r"[/\\]", name or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    return _SPACES.sub(" ", name).strip(" .")


def extension(name: str) -> str:
    """The extension of a name, in lower case, without the dot ("" when there is none)."""
    stem, dot, last = name.rpartition(".")
    return last.lower() if dot and stem else ""


def kept_name(name: str | None, mime: str) -> str:
    """The name to keep for a file whose content is of type `mime`."""
    shown = readable(name)
    suffix = EXTENSIONS[mime][0]
    stem = shown[: -len(extension(shown)) - 1] if extension(shown) in EXTENSIONS[mime] else shown
    stem = stem[: MAX_LENGTH - len(suffix) - 1].strip(" .") or DEFAULT_STEM
    return f"{stem}.{suffix}"


def declared_mime(name: str | None, content_type: str | None) -> str | None:
    """The accepted type the name's extension or the browser's Content-Type claims, if any."""
    claimed = _ALIASES.get((content_type or "").lower(), (content_type or "").lower())
    if claimed in EXTENSIONS:
        return claimed
    return next((mime for mime, names in EXTENSIONS.items() if extension(readable(name)) in names),
                None)  # fmt: skip


_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
            "application/x-pdf": "application/pdf"}  # fmt: skip
