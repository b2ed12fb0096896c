"""The expression language: literals, operators and what is refused when compiling."""

from datetime import date

import pytest

from forms_app.formdefs.expressions import (
    ExpressionError,
    compile_expression,
)
from tests.formdefs.expression_support import NAMES, fails, refused, run

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
