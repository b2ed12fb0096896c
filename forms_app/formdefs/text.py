"""Typed text: the characters no answer keeps.

Browsers send whatever was pasted, control characters included. PostgreSQL stores no NUL
in text or JSON, and pages, PDFs and exports have no use for the other control characters,
so they are dropped before anything parses or keeps what was typed. Tabs and line breaks
stay; so does every other character (accents, emoji, right-to-left text...), which pages
escape and PDFs print as text.
"""

import re

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_controls(value: str) -> str:
    """Return the text without its control characters (tab, line feed and return kept)."""
    return _CONTROLS.sub("", value)
