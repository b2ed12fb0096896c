"""Designers' patterns (`validation.pattern`): checked on import, matched with a time limit.

A pattern that backtracks catastrophically, such as `(a+)+$`, could hold a web worker for
minutes on one crafted answer. Patterns run on the `regex` engine, which stops a match after
PATTERN_TIMEOUT seconds; the answer is then refused and the field named in the log.
"""

import logging

import regex

log = logging.getLogger(__name__)
PATTERN_TIMEOUT = 0.05  # seconds: legitimate patterns on a field's text take microseconds


class PatternTimeout(Exception):
    """The pattern took longer than PATTERN_TIMEOUT on this answer."""


def error(pattern: str) -> str | None:
    """Why the pattern cannot be used, or None."""
    try:
        regex.compile(pattern)
    except regex.error as exc:
        return str(exc)
    return None


def matches(pattern: str, value: str) -> bool:
    """Whether the whole of `value` matches; PatternTimeout if the pattern runs too long."""
    try:
        return regex.fullmatch(pattern, value, timeout=PATTERN_TIMEOUT) is not None
    except TimeoutError as exc:
        raise PatternTimeout(pattern) from exc
