"""Helpers for browser tests: accessibility checks with axe-core, e-mails and their links."""

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import Page

from tests.support import sent_mails

AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# WCAG 2.2 AA as axe checks it, plus its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = ("serious", "critical")

_URL = re.compile(r"https?://[^\s<>\"']+")


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8") + "\n;undefined"


def axe_results(page: Page) -> dict:
    """Run axe-core on the page as it is now and return its full results."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Not page.add_script_tag: an inline <script> is what the site's CSP forbids, and the
        # tests keep the CSP on. Evaluated through the DevTools protocol, the script bypasses it.
        page.evaluate(_axe_source())
    return page.evaluate("(tags) => axe.run(document, {runOnly: tags})", AXE_TAGS)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" <{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(selector) for selector in node["target"])
            lines.append(f"    {target}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> dict:
    """Fail listing every serious or critical axe violation on the page; return the results."""
    results = axe_results(page)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found {len(blocking)} serious or critical violation(s) on {page.url}:\n"
        + format_violations(blocking)
    )
    return results


def mails(app: Flask) -> list[EmailMessage]:
    """The e-mails the file backend wrote, parsed, oldest file first."""
    paths = sorted(sent_mails(app), key=lambda path: path.stat().st_mtime_ns)
    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in paths]


def body_of(message: EmailMessage) -> str:
    """The plain-text body of an e-mail."""
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(mail_body: str, path_prefix: str) -> str:
    """The first http(s) link in an e-mail body whose path starts with `path_prefix`."""
    for match in _URL.finditer(mail_body):
        url = match.group(0).rstrip(".,;:!?)]}»")
        if urlsplit(url).path.startswith(path_prefix):
            return url
    raise AssertionError(f"no link to {path_prefix}… in this e-mail:\n{mail_body}")
