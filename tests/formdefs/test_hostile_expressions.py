"""Hostile expressions in rules: no code runs, no attribute is read, time and memory stay bounded.

Expressions come from form designers (or an imported definition) and run on every
submission, in the web request and in the checks job. Whatever their text, compiling and
evaluating them gives a value within bounds or an ExpressionError; never another exception,
never a side effect, never minutes of work.
"""

import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms_app.formdefs import definition as definitions
from forms_app.formdefs import rules
from forms_app.formdefs.expression_functions import ARITY, MAX_NUMBER, MAX_SIZE, bounded
from forms_app.formdefs.expressions import ExpressionError, compile_expression
from tests.hostile_support import hostile_text

NAMES = ("x", "y", "items", "entries")
# Work a hostile expression may cost: far above any real rule (well under a millisecond).
SECONDS = 2.0

ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "x.real",
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w')",
    "exec(\"open('{marker}', 'w')\")",
    "eval('1')",
    "getattr(x, '__class__')",
    "globals()",
    "__builtins__",
    "entries[0]['__class__']",
    "entries[0]['_' + '_class__']",
    "(lambda: 1)()",
    "[c for c in ().__class__.__mro__]",
    "f'{{x.__class__}}'",
    "type(x)",
    "x if (y := 1) else 0",
    "{{'a': 1}}",
    "min(*items)",
    "round(x, ndigits=2)",
    "items[0:1]",
    "import os",
]
EXPENSIVE = [
    "9 ** 9 ** 9",
    "2 ** 100000",
    "x << 100000",
    "'a' * 10**9",
    "'a' * 99999 * 99999",
    "[0] * 99999 * 99999",
    "(1,) * 1000000",
    "[[0] * 99999] * 99999 == [[0] * 99999] * 99999",
    "[[0] * 99999] * 99999 in [[[0] * 99999] * 99999]",
    "max([[0] * 99999] * 99999, [[1] * 99999] * 99999)",
    "['a' * 99999] * 99999 == ['a' * 99999] * 99999",
    "'a' * 99999 + 'a' * 99999",
    "int('9' * 4000) * int('9' * 4000)",
    "x * x * x * x * x * x * x * x",
    "1e308 * 10",
    "1e308 * 10 - 1e308 * 10",
    "1e999",
    "9" * 4000,
    "percent_loss(1e-300, 1e300)",
    "(" * 5000 + "x" + ")" * 5000,
    "not " * 5000 + "x",
    "-" * 5000 + "x",
    "[" * 5000 + "]" * 5000,
    "x + " * 3000 + "x",
    "1 if x else " * 2000 + "1",
    "days_between('0001-01-01', '9999-12-31') * 10**40",
    "count(field(entries, 'a' * 99999))",
    "sum([x] * 99999) * sum([x] * 99999)",
]


def run(source: str, **values):
    """Compile and evaluate source with the names of NAMES (None unless given)."""
    expression = compile_expression(source, NAMES)
    return expression.evaluate({name: values.get(name) for name in NAMES})


def assert_bounded_or_refused(source: str, **values) -> None:
    """Evaluating gives a value within bounds or an ExpressionError, within SECONDS."""
    started = time.perf_counter()
    try:
        result = run(source, **values)
    except ExpressionError as exc:
        assert exc.message
    else:
        assert bounded(result, "the test") is result
    assert time.perf_counter() - started < SECONDS, source


@pytest.mark.parametrize("source", ESCAPES)
def test_no_code_runs_and_no_attribute_is_read(source, tmp_path):
    marker = tmp_path / "pwned"
    values = {"x": 10**15, "items": [1, 2], "entries": [{"a": 1}]}
    with pytest.raises(ExpressionError):
        run(source.format(marker=marker), **values)
    assert not marker.exists()


@pytest.mark.parametrize("source", EXPENSIVE, ids=lambda source: source[:40])
def test_costly_expressions_are_refused_or_bounded(source):
    assert_bounded_or_refused(source, x=10**15, y=3, items=[1, 2], entries=[{"a": 1}])


def test_a_rule_that_returns_a_huge_number_is_an_error_not_a_crash():
    """A computed value out of bounds is reported in the results; the submission goes on."""
    definition = definitions.load(
        {"format": 1, "slug": "grand", "title": "Grand",
         "pages": [{"key": "p", "title": "P",
                    "fields": [{"key": "montant", "type": "amount", "label": "Montant"}]}],
         "rules": {"computed": [{"key": "big", "expression": "montant * montant * montant * montant"}],
                   "amount": {"expression": "montant * 1e30 * 1e30"},
                   "priority": {"expression": "montant * montant * montant * montant"}}}
    )  # fmt: skip
    results = rules.evaluate(definition, {"montant": 10**15})
    assert results.amount is None and results.priority is None and results.computed == {}
    assert len(results.errors) == 3
    assert all("too large" in error or "finite" in error for error in results.errors)
    assert results.to_json()["errors"] == results.errors  # stored as JSON without trouble


@settings(max_examples=300)
@given(source=hostile_text())
def test_any_text_compiles_or_is_refused_with_an_expression_error(source):
    try:
        compile_expression(source, NAMES)
    except ExpressionError as exc:
        assert exc.message


_NUMBERS = st.one_of(
    st.integers(-(10**15), 10**15),
    st.floats(-1e15, 1e15, allow_nan=False),
    st.sampled_from([0, 1, -1, 0.5, 99999, 1e-300]),
)
_TEXTS = st.text(max_size=12)
VALUES = st.one_of(
    st.none(), st.booleans(), _NUMBERS, _TEXTS, st.dates().map(date.isoformat), st.dates(),
    st.lists(st.one_of(_NUMBERS, _TEXTS), max_size=5),
    st.lists(st.dictionaries(st.sampled_from(["a", "b"]), _NUMBERS, max_size=2), max_size=3),
)  # fmt: skip
_LEAVES = st.one_of(
    st.sampled_from(NAMES),
    _NUMBERS.map(repr),
    _TEXTS.map(repr),
    st.sampled_from(["None", "True", "False", "[]", "today()", "99999", "1e308", "'_x'"]),
)
_OPERATORS = ["+", "-", "*", "/", "//", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or",
              "in", "not in", "**", "&", "is"]  # fmt: skip


def _call(parts: list[str], name: str) -> str:
    low, high = ARITY[name]
    count = min(max(len(parts), low), high if high is not None else 4)
    return f"{name}({', '.join((parts * 4)[:count])})"


EXPRESSIONS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(_OPERATORS), inner),
        st.builds(lambda op, a: f"({op}{a})", st.sampled_from(["-", "+", "not "]), inner),
        st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
        st.builds(lambda a, b: f"[{a}, {b}]", inner, inner),
        st.builds(lambda a, b: f"{a}[{b}]", inner, inner),
        st.builds(_call, st.lists(inner, min_size=1, max_size=3), st.sampled_from(sorted(ARITY))),
        st.builds(lambda a: f"({a} * 99999)", inner),
    ),
    max_leaves=12,
)


@settings(max_examples=400)
@given(source=EXPRESSIONS, x=VALUES, y=VALUES, items=VALUES, entries=VALUES)
def test_any_expression_on_any_answers_gives_a_bounded_value_or_an_error(
    source, x, y, items, entries
):
    assert_bounded_or_refused(source, x=x, y=y, items=items, entries=entries)


def test_bounds_are_the_documented_ones():
    assert run(f"x * {10**35}", x=10**15) == 10**50 == MAX_NUMBER
    with pytest.raises(ExpressionError, match="too large"):
        run(f"x * {10**35} + 1", x=10**15)
    with pytest.raises(ExpressionError, match="too large"):
        run(f"{10**51}")
    assert len(run("'a' * x", x=MAX_SIZE)) == MAX_SIZE
    with pytest.raises(ExpressionError, match="too large"):
        run("['ab'] * x", x=MAX_SIZE // 2)
