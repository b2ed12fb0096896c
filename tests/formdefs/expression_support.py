"""Helpers for the expression language tests."""

import pytest

from forms_app.formdefs.expressions import ExpressionError, compile_expression

BANDS = "[[0, 100000], [1, 150000], [2, 200000]]"
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
