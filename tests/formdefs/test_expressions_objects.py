"""Expression objects and computed values, evaluated in order."""

import threading

import pytest

from forms_app.formdefs.expressions import (
    Expression,
    ExpressionError,
    check_order,
    compile_expression,
    evaluate_all,
)
from tests.formdefs.expression_support import BANDS, NAMES

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
