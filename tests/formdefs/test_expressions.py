"""Test the safe expression language of form definitions."""

import os
import threading
from datetime import date, datetime

import pytest

from forms_app.formdefs import expression_functions
from forms_app.formdefs.expressions import (
    Expression,
    ExpressionError,
    check_order,
    compile_expression,
    evaluate_all,
)

NAMES = {"x", "y", "s", "d", "d2", "items", "group", "entry", "effectif", "choix", "ref", "cur"}


def run(source, **values):
    """Compile source against NAMES plus the given answers, and evaluate it."""
    return compile_expression(source, NAMES | set(values)).evaluate(values)


def refused(source, names=NAMES):
    """Return the compile-time error message for source."""
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source, names)
    return str(caught.value)


def fails(source, **values):
    """Return the runtime error message for source."""
    expression = compile_expression(source, NAMES | set(values))
    with pytest.raises(ExpressionError) as caught:
        expression.evaluate(values)
    return str(caught.value)


# Literals and operators -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("42", 42),
        ("-2.5", -2.5),
        ("'texte'", "texte"),
        ('"é"', "é"),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 'a', None]", [1, "a", None]),
        ("(1, 2)", (1, 2)),
        ("[]", []),
    ],
)
def test_literals(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("7 + 2", 9),
        ("7 - 2", 5),
        ("7 * 2", 14),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 % 3", 1),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-x", -3),
        ("+x", 3),
        ("- -x", 3),
        ("'a' + 'b'", "ab"),
        ("'ab' * 2", "abab"),
        ("[1] + [2]", [1, 2]),
        ("True + 1", 2),
    ],
)
def test_arithmetic(source, expected):
    assert run(source, x=3) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x == 3", True),
        ("x != 3", False),
        ("x < 4", True),
        ("x <= 3", True),
        ("x > 3", False),
        ("x >= 3", True),
        ("1 < x < 5", True),
        ("1 < x < 3", False),
        ("0 <= x <= 3 != 4", True),
        ("'a' < 'b'", True),
        ("y == None", True),
        ("y != None", False),
        ("y == 0", False),
    ],
)
def test_comparisons(source, expected):
    assert run(source, x=3) is expected


def test_dates_compare_with_dates():
    assert run("d < d2", d=date(2024, 1, 1), d2=date(2024, 1, 2)) is True
    assert run("d < today()", d=date(2000, 1, 1)) is True


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x > 1 and x < 5", True),
        ("x > 5 or x == 3", True),
        ("not x", False),
        ("not y", True),
        ("y != None and y > 5", False),  # short-circuits: no comparison with None
        ("y == None or y > 5", True),
        ("y or 'défaut'", "défaut"),
        ("x and 'oui'", "oui"),
    ],
)
def test_boolean_logic(source, expected):
    assert run(source, x=3) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x in [1, 2, 3]", True),
        ("x in (4, 5)", False),
        ("x not in [4, 5]", True),
        ("'b' in choix", True),
        ("'z' not in choix", True),
        ("'b' in y", False),  # an empty answer contains nothing
        ("'b' not in y", True),
        ("'ou' in 'Nouméa'", True),
    ],
)
def test_membership(source, expected):
    assert run(source, x=3, choix=["a", "b"]) is expected


def test_membership_in_a_number_is_a_readable_error():
    assert "Cannot apply 'in' to the number 1 and the number 3" in fails("1 in x", x=3)


@pytest.mark.parametrize(
    ("x", "expected"), [(10, "grand"), (5, "moyen"), (1, "petit"), (None, "petit")]
)
def test_conditional_expression(x, expected):
    source = "'grand' if x != None and x >= 10 else ('moyen' if x != None and x >= 5 else 'petit')"
    assert run(source, x=x) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("entry['nom']", "Wamytan"),
        ("entry['absent']", None),
        ("items[0]", 10),
        ("items[-1]", 30),
        ("group[1]['age']", 40),
        ("'abc'[1]", "b"),
    ],
)
def test_subscripts(source, expected):
    values = {"entry": {"nom": "Wamytan"}, "items": [10, 20, 30], "group": [{}, {"age": 40}]}
    assert run(source, **values) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("items[3]", "Position 3 is outside a list of 3 items"),
        ("items['a']", "must be a whole number"),
        ("y[0]", "Cannot read [0] from an empty answer (None)"),
        ("x[0]", "Cannot read [0] from the number 3"),
        ("entry['_' + '_class__']", "Keys starting with '_'"),
    ],
)
def test_subscript_errors(source, message):
    values = {"entry": {"nom": "Wamytan"}, "items": [10, 20, 30], "x": 3}
    assert message in fails(source, **values)


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


BANDS = "[[0, 100000], [1, 150000], [2, 200000]]"


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


# Compile-time checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__import__('os')", "'__import__' is not an allowed function (at column 1)"),
        ("open('f')", "'open' is not an allowed function"),
        ("eval('1')", "'eval' is not an allowed function"),
        ("exec('1')", "'exec' is not an allowed function"),
        ("getattr(x, 'y')", "'getattr' is not an allowed function"),
        ("float('1')", "'float' is not an allowed function"),
        ("x(1)", "'x' is not an allowed function"),
        ("().__class__", "Attribute access ('.__class__') is not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", "Attribute access"),
        ("a.b", "Attribute access ('.b') is not allowed"),
        ("x.b", "Attribute access ('.b') is not allowed (at column 1)"),
        ("'x'.upper()", "Attribute access ('.upper') is not allowed"),
        ("x['__class__']", "Keys starting with '_' such as '__class__' are not allowed"),
        ("x['_secret']", "Keys starting with '_'"),
        ("[x for x in y]", "Comprehensions such as"),
        ("(x for x in y)", "Comprehensions such as"),
        ("{x: 1 for x in y}", "Comprehensions such as"),
        ("{x for x in y}", "Comprehensions such as"),
        ("lambda: 1", "Lambda functions are not allowed"),
        ("(lambda: 1)()", "Lambda functions are not allowed"),
        ("f'{x}'", "f-strings are not allowed"),
        ("(x := 1)", "Assignments with ':=' are not allowed (at column 2)"),
        ("import os", "Imports are not allowed"),
        ("from os import path", "Imports are not allowed"),
        ("9**9**9", "The '**' operator is not allowed"),
        ("x ** 2", "The '**' operator is not allowed"),
        ("x & y", "The '&' operator is not allowed"),
        ("x | y", "The '|' operator is not allowed"),
        ("x ^ y", "The '^' operator is not allowed"),
        ("x << 2", "The '<<' operator is not allowed"),
        ("x >> 2", "The '>>' operator is not allowed"),
        ("~x", "The '~' operator is not allowed"),
        ("x is None", "The 'is' operator is not allowed"),
        ("x is not None", "The 'is not' operator is not allowed"),
        ("{'a': 1}", "Dictionary literals"),
        ("{1, 2}", "Set literals"),
        ("x[1:2]", "Slices such as"),
        ("[*x]", "Unpacking with '*' is not allowed"),
        ("min(*x)", "Unpacking with '*' is not allowed"),
        ("b'x'", "The literal b'x' is not allowed"),
        ("1j", "The literal 1j is not allowed"),
        ("...", "The literal Ellipsis is not allowed"),
        ("(yield x)", "This construct (Yield) is not allowed"),
        ("await x", "This construct (Await) is not allowed"),
        ("x[0]()", "Only the allowed functions can be called"),
        ("round(x, ndigits=2)", "Keyword arguments are not supported in round() (at column 10)"),
        ("min", "'min' is a function and must be called"),
    ],
)
def test_rejected_constructs(source, message):
    assert message in refused(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("today(1)", "today() takes no arguments, but got 1"),
        ("abs()", "abs() takes 1 argument, but got 0"),
        ("abs(1, 2)", "abs() takes 1 argument, but got 2"),
        ("round(1, 2, 3)", "round() takes 1 to 2 arguments, but got 3"),
        ("min()", "min() takes at least 1 argument, but got 0"),
        ("coalesce()", "coalesce() takes at least 1 argument"),
        ("band(1)", "band() takes 2 to 3 arguments, but got 1"),
        ("percent_loss(1)", "percent_loss() takes 2 arguments, but got 1"),
        ("field(x)", "field() takes 2 arguments"),
        ("years_between(x)", "years_between() takes 2 arguments"),
        ("band(x, [[1, 2], [3]], 0)", "Each band must be a pair [upper bound, result]"),
        (
            "band(x, [[1, 2], 3], 0)",
            "Each band must be a pair [upper bound, result] (at column 18)",
        ),
    ],
)
def test_wrong_calls_are_rejected(source, message):
    assert message in refused(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("effectf + 1", "Unknown name 'effectf' (at column 1). Did you mean 'effectif'?"),
        ("x + zzz", "Unknown name 'zzz' (at column 5)."),
        ("true", "Write True, False or None with a capital letter."),
        ("x == null", "Unknown name 'null' (at column 6)"),
        ("os", "Unknown name 'os'"),
        ("__builtins__", "Unknown name '__builtins__'"),
        ("'é' + zzz", "Unknown name 'zzz' (at column 7)"),
        ("  x + zzz", "Unknown name 'zzz' (at column 7)"),
        ("(x +\n  zzz)", "Unknown name 'zzz' (at line 2, column 3)"),
        ("\n\n  zzz", "Unknown name 'zzz' (at line 3, column 3)"),
    ],
)
def test_unknown_names_with_positions(source, message):
    assert message in refused(source)


def test_error_carries_the_position():
    with pytest.raises(ExpressionError) as caught:
        compile_expression("(x +\n  zzz)", NAMES)
    assert caught.value.position == (2, 3)
    assert caught.value.message == str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "The expression is empty."),
        ("   \n ", "The expression is empty."),
        ("1 +", "Syntax error: invalid syntax"),
        ("x y", "Syntax error"),
        ("(1", "Syntax error: '(' was never closed"),
        ("x = 1", "Syntax error"),
        ("x +\n1", "Syntax error"),
        ("'é' + )", "Syntax error: unmatched ')' (at column 7)"),
        ("1" * 5000, "Syntax error"),
        ("(" * 300 + ")" * 300, "Syntax error: too many nested parentheses"),
        ("-" * 60 + "1", "The expression is nested too deeply"),
        ("not " * 2400 + "x", "nested too deeply"),
        ("x\x00", "Syntax error"),
        ("x + " * 3000 + "x", "The expression is too long (12001 characters, at most 10000)."),
    ],
)
def test_malformed_sources(source, message):
    assert message in refused(source)


def test_source_must_be_text():
    assert refused(None) == "An expression must be a text."


def test_an_answer_may_share_a_function_name():
    expression = compile_expression("count + count([1, 2])", {"count"})
    assert expression.evaluate({"count": 3}) == 5


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


# Expression objects ---------------------------------------------------------------------


def test_names_are_the_answers_read():
    expression = compile_expression(
        "band(effectif, [[0, 1]], None) if x in choix else coalesce(y, today())", NAMES
    )
    assert expression.names == frozenset({"effectif", "x", "choix", "y"})
    assert isinstance(expression.names, frozenset)
    assert compile_expression("1 + 2", NAMES).names == frozenset()


def test_missing_answers_are_none_and_values_are_untouched():
    values = {"x": 1, "other": object()}
    expression = compile_expression("coalesce(y, x) + 1", NAMES)
    assert expression.evaluate(values) == 2
    assert values.keys() == {"x", "other"}
    with pytest.raises(ExpressionError, match=r"Cannot apply '\+' to an empty answer \(None\)"):
        expression.evaluate({})


def test_an_expression_is_reusable_and_described():
    expression = compile_expression("x * 2", {"x"})
    assert [expression.evaluate({"x": n}) for n in (1, 2, 3)] == [2, 4, 6]
    assert isinstance(expression, Expression)
    assert repr(expression) == "Expression('x * 2')"
    assert expression.source == "x * 2"


def test_evaluation_is_thread_safe():
    expression = compile_expression("x * 2 + sum(items)", {"x", "items"})
    results, errors = {}, []

    def work(n):
        try:
            for _ in range(200):
                results[n] = expression.evaluate({"x": n, "items": [n, n]})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == {n: 4 * n for n in range(8)}


# Computed values ------------------------------------------------------------------------


def test_evaluate_all_sees_earlier_results_in_order():
    names = {"ca_ref", "ca_actuel", "effectif", "perte_pct", "eligible", "montant"}
    expressions = {
        "perte_pct": compile_expression("percent_loss(ca_ref, ca_actuel)", names),
        "eligible": compile_expression("perte_pct != None and perte_pct >= 30", names),
        "montant": compile_expression(f"band(effectif, {BANDS}, None) if eligible else 0", names),
    }
    values = {"ca_ref": 1000, "ca_actuel": 650, "effectif": 1}
    assert evaluate_all(expressions, values) == {
        "perte_pct": 35.0,
        "eligible": True,
        "montant": 150000,
    }
    assert values == {"ca_ref": 1000, "ca_actuel": 650, "effectif": 1}
    assert evaluate_all(expressions, {"ca_ref": 0, "effectif": 1}) == {
        "perte_pct": None,
        "eligible": False,
        "montant": 0,
    }
    assert evaluate_all({}, values) == {}


def test_evaluate_all_refuses_bad_order():
    names = {"a", "b"}
    forward = {"a": compile_expression("b + 1", names), "b": compile_expression("1", names)}
    with pytest.raises(ExpressionError, match="'a' uses 'b', which is computed after it"):
        evaluate_all(forward, {})
    with pytest.raises(ExpressionError, match="'a' refers to itself"):
        check_order({"a": compile_expression("a + 1", names)})
    check_order({"b": compile_expression("1", names), "a": compile_expression("b + 1", names)})


def test_evaluate_all_names_the_failing_value():
    expressions = {"ratio": compile_expression("x / y", {"x", "y"})}
    with pytest.raises(ExpressionError) as caught:
        evaluate_all(expressions, {"x": 1, "y": 0})
    assert str(caught.value) == "Computed value 'ratio': Division by zero in '/' (at column 1)."
    assert caught.value.position == (1, 1)
