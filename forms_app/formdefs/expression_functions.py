"""Provide the functions of form expressions, and readable descriptions of failures.

Every failure raises :class:`EvaluationProblem` with an English sentence meant for the
form designer; :mod:`forms_app.formdefs.expressions` adds the position and turns it into
an ``ExpressionError``. The functions are documented in that module's docstring.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Pacific/Noumea")
_NUMBER = (int, float)
_LIST = (list, tuple)
# Results are refused beyond these: far above any amount (at most 10^15 F CFP) times a rate,
# far below the 4,300 digits past which Python will not print an integer (nor JSON store it).
MAX_NUMBER = 10**50
# Characters and items a text or list may hold, counting the items of the lists it holds:
# `[[0] * 99999] * 99999` is small in memory but takes hours to compare.
MAX_SIZE = 100_000


class EvaluationProblem(Exception):
    """Signal a runtime problem already explained in plain English."""


def describe(value: Any) -> str:
    """Describe a value in words, for error messages."""
    if value is None:
        return "an empty answer (None)"
    if isinstance(value, bool):
        return f"the value {value}"
    if isinstance(value, _NUMBER):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, _LIST):
        if not value:
            return "an empty list"
        return f"a list of {len(value)} item{'s' if len(value) > 1 else ''}"
    if isinstance(value, dict):
        return "a group entry"
    return f"a value of type {type(value).__name__}"


def describe_all(values: Sequence[Any]) -> str:
    """Describe several values as one English list."""
    words = [describe(value) for value in values]
    if not words:
        return "no arguments"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def size(value: Any) -> int:
    """Characters of a text, items of a list or entry plus the sizes of the items they hold."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, _LIST):
        return len(value) + sum(size(item) for item in value if isinstance(item, _SIZED))
    if isinstance(value, dict):
        return len(value) + sum(size(item) for item in value.values() if isinstance(item, _SIZED))
    return 0


_SIZED = (str, list, tuple, dict)


def bounded(value: Any, what: str) -> Any:
    """Return value, or raise a problem if it is a number or a text or list out of bounds."""
    if isinstance(value, float) and not math.isfinite(value):
        raise problem(f"the result of {what} is not a finite number")
    if isinstance(value, _NUMBER) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        raise problem(f"the result of {what} would be too large")
    if isinstance(value, _SIZED) and size(value) > MAX_SIZE:
        raise problem(f"the result of {what} would be too large")
    return value


def problem(message: str) -> EvaluationProblem:
    """Build a problem, capitalising its message unless it starts with a function name."""
    if not re.match(r"\w+\(", message):
        message = message[:1].upper() + message[1:]
    return EvaluationProblem(message)


# Functions ------------------------------------------------------------------------------


def _number(value: Any) -> int | float:
    """Return value if it is a number, else raise TypeError."""
    if not isinstance(value, _NUMBER):
        raise TypeError(type(value).__name__)
    return value


def _round(value: Any, ndigits: Any = None) -> int | float:
    """Round half away from zero (2.5 -> 3), as people expect for amounts."""
    places = 0 if ndigits is None else ndigits
    if not isinstance(places, int) or isinstance(places, bool) or abs(places) > 15:
        raise ValueError(ndigits)
    rounded = Decimal(repr(_number(value))).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    if ndigits is None or not isinstance(value, float):
        return int(rounded)
    return float(rounded)


def _len(value: Any) -> int:
    """Return the length of a list or text, refusing empty answers."""
    if value is None:
        raise problem("len() cannot be applied to an empty answer (None); use count() instead")
    if not isinstance(value, (*_LIST, str, dict)):
        raise TypeError(type(value).__name__)
    return len(value)


def _sum(values: Any) -> int | float:
    """Add up the numbers of a list."""
    if not isinstance(values, _LIST):
        raise TypeError(type(values).__name__)
    return sum(_number(value) for value in values)


def coalesce(*values: Any) -> Any:
    """Return the first value that is not None."""
    return next((value for value in values if value is not None), None)


def band(value: Any, bands: Any, default: Any = None) -> Any:
    """Return the result of the first [upper, result] band whose upper bound is >= value."""
    if value is None:
        return default
    if not isinstance(bands, _LIST):
        raise problem(
            f"band() expects a list of [upper bound, result] pairs, not {describe(bands)}"
        )
    for pair in bands:
        if not isinstance(pair, _LIST) or len(pair) != 2:
            raise problem(
                f"each band in band() must be a pair [upper bound, result], not {describe(pair)}"
            )
        upper, result = pair
        if value <= upper:
            return result
    return default


def percent_loss(reference: Any, current: Any) -> float | None:
    """Return (reference - current) / reference * 100, to 2 decimals, or None."""
    if not reference or current is None:
        return None
    ref = Decimal(repr(_number(reference)))
    loss = (ref - Decimal(repr(_number(current)))) / ref * 100
    return float(loss.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _to_date(value: Any) -> date:
    """Accept a date, a datetime or an ISO date text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            try:
                return datetime.fromisoformat(value.strip()).date()
            except ValueError:
                pass
        raise problem(f"{describe(value)} is not a valid date (expected YYYY-MM-DD)")
    raise problem(f"{describe(value)} is not a date")


def years_between(start: Any, end: Any) -> int | None:
    """Return the number of whole years from start to end (an age), or None."""
    if start is None or end is None:
        return None
    first, last, sign = _to_date(start), _to_date(end), 1
    if last < first:
        first, last, sign = last, first, -1
    return sign * (last.year - first.year - ((last.month, last.day) < (first.month, first.day)))


def days_between(start: Any, end: Any) -> int | None:
    """Return the number of days from start to end, or None."""
    if start is None or end is None:
        return None
    return (_to_date(end) - _to_date(start)).days


def _now() -> datetime:
    """Return the current time in New Caledonia (patched by tests)."""
    return datetime.now(TIMEZONE)


def today() -> date:
    """Return today's date in New Caledonia."""
    return _now().date()


def count(value: Any) -> int:
    """Return the length of a list, counting an empty answer as 0."""
    return 0 if value is None else _len(value)


def any_true(values: Any) -> bool:
    """Tell whether at least one item is true; an empty answer gives False."""
    if values is None:
        return False
    if not isinstance(values, _LIST):
        raise TypeError(type(values).__name__)
    return any(values)


def all_true(values: Any) -> bool:
    """Tell whether every item is true; an empty answer gives False."""
    if values is None:
        return False
    if not isinstance(values, _LIST):
        raise TypeError(type(values).__name__)
    return all(values)


def field(items: Any, key: Any) -> list[Any]:
    """Return the list of item[key] over a repeatable group (missing keys give None)."""
    if not isinstance(key, str):
        raise TypeError(type(key).__name__)
    if items is None:
        return []
    if not isinstance(items, _LIST) or not all(isinstance(item, dict) for item in items):
        raise problem(
            f"field() expects a repeatable group (a list of entries), not {describe(items)}"
        )
    return [item.get(key) for item in items]


def _guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a function so that bad arguments give a readable problem."""

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        try:
            result = function(*args)
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise problem(f"{name}() cannot be applied to {describe_all(args)}") from exc
        return bounded(result, f"{name}()")

    return call


_RAW_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int | None]] = {
    "min": (min, 1, None),
    "max": (max, 1, None),
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),
    "int": (int, 1, 1),
    "len": (_len, 1, 1),
    "sum": (_sum, 1, 1),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
    "coalesce": (coalesce, 1, None),
    "band": (band, 2, 3),
    "percent_loss": (percent_loss, 2, 2),
    "years_between": (years_between, 2, 2),
    "days_between": (days_between, 2, 2),
    "today": (today, 0, 0),
    "count": (count, 1, 1),
    "any_true": (any_true, 1, 1),
    "all_true": (all_true, 1, 1),
    "field": (field, 2, 2),
}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _guarded(name, function) for name, (function, _, _) in _RAW_FUNCTIONS.items()
}
ARITY: dict[str, tuple[int, int | None]] = {
    name: (low, high) for name, (_, low, high) in _RAW_FUNCTIONS.items()
}
