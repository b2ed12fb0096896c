"""The example deployment files of docs/deploy/, read the way their programs read them."""

import re
from pathlib import Path

from tests.support import ROOT

DEPLOY = ROOT / "docs" / "deploy"
DOC = ROOT / "docs" / "deploy.md"
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def read_env_file(path: Path, *, commented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (quotes removed).

    With `commented`, lines such as `#GUICHET_JOB_TIMEOUT=300` count too: the keys an
    operator is invited to set must exist as well.
    """
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or (line.startswith("#") and not commented):
            continue
        match = ENV_LINE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[key] = value
    return found


def unit_settings(path: Path) -> dict[str, list[str]]:
    """`Key=value` settings of a systemd unit (continuation lines joined), by key."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def seconds(value: str) -> int:
    """A systemd time span given in seconds ("330" or "330s")."""
    return int(value.rstrip("s"))


def directives(text: str) -> list[list[str]]:
    """nginx or redis directives as word lists, comments left out."""
    words = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().rstrip(";").strip()
        if line and line not in ("{", "}"):
            words.append(line.rstrip("{").split())
    return words
