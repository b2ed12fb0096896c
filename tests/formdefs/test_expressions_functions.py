"""The expression language: functions and runtime errors."""

import os
from datetime import date, datetime

import pytest

from forms_app.formdefs import expression_functions
from forms_app.formdefs.expressions import (
    ExpressionError,
    compile_expression,
)
from tests.formdefs.expression_support import BANDS, fails, run

# Functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("min(items)", 10),
        ("max(items)", 30),
        ("min(x)", 5),
        ("abs(-4)", 4),
        ("abs(2.5)", 2.5),
        ("int(3.9)", 3),
        ("int(-3.9)", -3),
        ("int('12')", 12),
        ("int(' 7 ')", 7),
        ("len(items)", 3),
        ("len('abc')", 3),
        ("len([])", 0),
        ("sum(items)", 60),
        ("sum([])", 0),
        ("sum([0.5, 1])", 1.5),
        ("floor(2.7)", 2),
        ("floor(-2.1)", -3),
        ("ceil(2.1)", 3),
        ("ceil(-2.7)", -2),
        ("ceil(2)", 2),
        ("coalesce(y, 0)", 0),
        ("coalesce(y, None, 'b', 'c')", "b"),
        ("coalesce(0, 5)", 0),
        ("coalesce(y)", None),
        ("count(items)", 3),
        ("count(y)", 0),
        ("count([])", 0),
        ("any_true([False, 1])", True),
        ("any_true([False, 0])", False),
        ("any_true([])", False),
        ("any_true(y)", False),
        ("all_true([True, 1])", True),
        ("all_true([True, None])", False),
        ("all_true([])", True),
        ("all_true(y)", False),
    ],
)
def test_functions(source, expected):
    assert run(source, items=[10, 20, 30], x=[5, 7]) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("round(2.5)", 3),
        ("round(3.5)", 4),
        ("round(-2.5)", -3),
        ("round(2.4)", 2),
        ("round(0.125, 2)", 0.13),
        ("round(1.005, 2)", 1.01),
        ("round(2.675, 2)", 2.68),
        ("round(1234, -2)", 1200),
        ("round(1250, -2)", 1300),
        ("round(7, 2)", 7),
        ("round(7.0)", 7),
    ],
)
def test_round_goes_half_away_from_zero(source, expected):
    result = run(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("min(y, 1)", "min() cannot be applied to an empty answer (None) and the number 1"),
        ("min([])", "min() cannot be applied to an empty list"),
        ("max('a', 1)", "max() cannot be applied to the text 'a' and the number 1"),
        ("abs('a')", "abs() cannot be applied to the text 'a'"),
        ("round(y)", "round() cannot be applied to an empty answer (None)"),
        ("round('1.5')", "round() cannot be applied to the text '1.5'"),
        ("round(1.5, 0.5)", "round() cannot be applied"),
        ("int('abc')", "int() cannot be applied to the text 'abc'"),
        ("int(y)", "int() cannot be applied to an empty answer (None)"),
        ("len(y)", "use count() instead"),
        ("len(3)", "len() cannot be applied to the number 3"),
        ("sum(y)", "sum() cannot be applied to an empty answer (None)"),
        ("sum([1, None])", "sum() cannot be applied to a list of 2 items"),
        ("sum(['a'])", "sum() cannot be applied"),
        ("floor(y)", "floor() cannot be applied to an empty answer (None)"),
        ("ceil('2')", "ceil() cannot be applied to the text '2'"),
        ("count(3)", "count() cannot be applied to the number 3"),
        ("any_true(3)", "any_true() cannot be applied to the number 3"),
        ("all_true('ab')", "all_true() cannot be applied to the text 'ab'"),
    ],
)
def test_function_errors_are_readable(source, message):
    assert message in fails(source)


@pytest.mark.parametrize(
    ("effectif", "expected"),
    [(-1, 100000), (0, 100000), (0.5, 150000), (1, 150000), (2, 200000), (3, None), (None, None)],
)
def test_band_edges(effectif, expected):
    assert run(f"band(effectif, {BANDS}, None)", effectif=effectif) == expected


def test_band_default_and_order():
    assert run(f"band(x, {BANDS}, 'hors barème')", x=3) == "hors barème"
    assert run(f"band(x, {BANDS})", x=3) is None
    assert run(f"band(x, {BANDS}, 'hors barème')", x=None) == "hors barème"
    assert run("band(x, [[10, 'a'], [5, 'b']], None)", x=4) == "a"  # first match wins
    assert run("band(x, items, 0)", x=7, items=[[5, 1], [10, 2]]) == 2
    assert run("band(x, [(5, 1), (10, 2)], 0)", x=7) == 2


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "band(5, items, 0)",
            "Each band in band() must be a pair [upper bound, result], not a list of 1 item",
        ),
        ("band(1, 5, 0)", "band() expects a list of [upper bound, result] pairs, not the number 5"),
        ("band('a', [[1, 2]], 0)", "band() cannot be applied to the text 'a'"),
        ("band(1, [[None, 2]], 0)", "band() cannot be applied"),
    ],
)
def test_band_runtime_errors(source, message):
    assert message in fails(source, items=[[1, 2], [3]])


@pytest.mark.parametrize(
    ("ref", "cur", "expected"),
    [
        (100, 80, 20.0),
        (200000, 150000, 25.0),
        (3, 2, 33.33),
        (3, 1, 66.67),
        (8, 7.9, 1.25),
        (100, 120, -20.0),
        (100, 0, 100.0),
        (0, 50, None),
        (None, 50, None),
        (100, None, None),
    ],
)
def test_percent_loss(ref, cur, expected):
    assert run("percent_loss(ref, cur)", ref=ref, cur=cur) == expected


def test_percent_loss_refuses_text():
    assert "percent_loss() cannot be applied to the text '100'" in fails("percent_loss('100', 50)")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2000-06-15", "2024-06-14", 23),
        ("2000-06-15", "2024-06-15", 24),
        ("2000-06-15", "2000-06-15", 0),
        (date(2000, 6, 15), date(2024, 6, 16), 24),
        (datetime(2000, 6, 15, 8), "2024-06-15", 24),
        ("2000-02-29", "2023-02-28", 22),
        ("2000-02-29", "2023-03-01", 23),
        ("2024-06-15", "2000-06-15", -24),
        ("2024-06-15", "2000-06-16", -23),
        (None, "2024-01-01", None),
        ("2024-01-01", None, None),
    ],
)
def test_years_between(start, end, expected):
    assert run("years_between(d, d2)", d=start, d2=end) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-02-28", "2024-03-01", 2),
        (date(2024, 1, 1), date(2025, 1, 1), 366),
        ("2024-01-10", date(2024, 1, 1), -9),
        ("2024-01-10T15:30:00", "2024-01-11", 1),
        (None, "2024-01-01", None),
    ],
)
def test_days_between(start, end, expected):
    assert run("days_between(d, d2)", d=start, d2=end) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/12/2024", "The text '31/12/2024' is not a valid date (expected YYYY-MM-DD)"),
        ("2024-02-30", "is not a valid date"),
        (20240101, "The number 20240101 is not a date"),
    ],
)
def test_bad_dates_are_readable_errors(value, message):
    assert message in fails("days_between(d, '2024-01-01')", d=value)
    assert message in fails("years_between('2024-01-01', d)", d=value)


def test_today_is_the_date_in_noumea(monkeypatch):
    new_year_eve = datetime(2024, 12, 31, 23, 30, tzinfo=expression_functions.TIMEZONE)
    monkeypatch.setattr(expression_functions, "_now", lambda: new_year_eve)
    assert run("today()") == date(2024, 12, 31)
    assert run("years_between('2006-12-31', today()) >= 18") is True
    assert run("years_between('2007-01-01', today()) >= 18") is False


def test_today_uses_the_real_clock():
    assert run("today()") == datetime.now(expression_functions.TIMEZONE).date()
    assert str(expression_functions.TIMEZONE) == "Pacific/Noumea"


def test_field_over_a_repeatable_group():
    membres = [
        {"nom": "A", "date_naissance": "1980-01-01", "revenu": 100},
        {"nom": "B", "revenu": 50},
    ]
    assert run("field(membres, 'nom')", membres=membres) == ["A", "B"]
    assert run("field(membres, 'date_naissance')", membres=membres) == ["1980-01-01", None]
    assert run('count(field(membres, "date_naissance"))', membres=membres) == 2
    assert run("sum(field(membres, 'revenu'))", membres=membres) == 150
    assert run("field(membres, 'nom')", membres=None) == []
    assert run("field(membres, 'nom')", membres=[]) == []


@pytest.mark.parametrize(
    ("membres", "message"),
    [
        ([1, 2], "field() expects a repeatable group (a list of entries), not a list of 2 items"),
        ("abc", "field() expects a repeatable group"),
    ],
)
def test_field_errors(membres, message):
    assert message in fails("field(membres, 'nom')", membres=membres)
    assert "field() cannot be applied" in fails("field(membres, 3)", membres=[{}])


# Runtime errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x > 5", "Cannot apply '>' to an empty answer (None) and the number 5 (at column 1)."),
        ("5 <= x", "Cannot apply '<=' to the number 5 and an empty answer (None)"),
        (
            "1 + (x * 2)",
            "Cannot apply '*' to an empty answer (None) and the number 2 (at column 6)",
        ),
        ("-x", "Cannot apply '-' to an empty answer (None)"),
        ("1 / 0", "Division by zero in '/'"),
        ("1 // 0", "Division by zero in '//'"),
        ("1 % 0", "Division by zero in '%'"),
        ("'a' + 1", "Cannot apply '+' to the text 'a' and the number 1"),
        ("'a' < 1", "Cannot apply '<' to the text 'a' and the number 1"),
        ("[1] < 2", "Cannot apply '<' to a list of 1 item and the number 2"),
        ("y < 1", "Cannot apply '<' to an empty answer (None) and the number 1"),
    ],
)
def test_runtime_errors_are_wrapped(source, message):
    assert message in fails(source, x=None)


def test_runtime_errors_never_leak_python_exceptions():
    with pytest.raises(ExpressionError) as caught:
        compile_expression("x > 5", {"x"}).evaluate({})
    assert not isinstance(caught.value, TypeError)
    assert isinstance(caught.value.__cause__, Exception)
    assert caught.value.position == (1, 1)


def test_date_arithmetic_points_to_the_functions():
    message = fails("d2 - d", d=date(2024, 1, 1), d2=date(2024, 2, 1))
    assert "Dates cannot be subtracted directly; use days_between()" in message
    assert "Cannot apply '+' to the date 2024-01-01 and the number 1" in fails(
        "d + 1", d=date(2024, 1, 1)
    )


def test_simpleeval_size_limits_are_kept():
    assert "The result of '*' would be too large" in fails("'a' * 1000000")
    assert "The result of '*' would be too large" in fails("[0] * 1000000")
    assert "The result of '+' would be too large" in fails("s + s", s="a" * 60000)
    assert run("s + 'b'", s="a" * 1000) == "a" * 1000 + "b"


def test_modules_in_values_are_refused():
    assert "modules are not allowed" in fails("x", x=os)


def test_entries_and_dates_are_described():
    assert "a group entry" in fails("entry + 1", entry={"a": 1})
    assert "the value True" in fails("'a' + x", x=True)
    assert "the text 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'" in fails("s + 1", s="a" * 50)
