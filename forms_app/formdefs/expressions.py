"""Compile and evaluate the safe expressions of form definitions (no eval, no exec).

Form definitions use expressions for eligibility conditions, amount formulas, priority
scores and computed values. ``compile_expression(source, names)`` parses the text once
with :mod:`ast`, checks every node against a whitelist and reports problems in plain
English with their position; ``Expression.evaluate(values)`` runs the checked tree with
:mod:`simpleeval`. Missing or hidden answers are ``None``.

Values: numbers, text, True/False, None, dates (``datetime.date``), lists (multiple
choices, or a repeatable group as a list of entries) and entries (``dict``).

Allowed syntax:

- literals: numbers, 'text', True, False, None, lists ``[1, 2]`` and tuples ``(1, 2)``;
- arithmetic ``+ - * / // %`` and unary ``-``/``+`` (``**`` is refused: too costly);
  a number beyond ±10^50, infinity, or a text or list of more than 100,000 characters and
  items (the items of nested lists counted) is an error, not a result;
- comparisons ``== != < <= > >=``, chained as in ``0 < x <= 10``;
- ``and``, ``or``, ``not``; ``a if condition else b``;
- ``x in [...]`` / ``x not in [...]`` with a list or text; an empty answer contains nothing;
- ``entry["key"]`` (a missing key reads as None) and ``items[0]``.

Refused when compiling: unknown names, attribute access (``a.b``), keys starting with
``_``, lambda, comprehensions, f-strings, ``:=``, imports, ``is``, dict and set literals,
slices, keyword arguments and calls to anything but the functions below.

Functions (a wrong argument gives a readable ``ExpressionError``):

- ``min(a, b, ...)`` / ``min(list)``, ``max(...)``: smallest / largest value.
- ``abs(x)``: absolute value.
- ``round(x)`` / ``round(x, digits)``: rounds half away from zero (2.5 -> 3, 0.125 -> 0.13);
  without digits the result is a whole number.
- ``int(x)``: whole number from a number (truncated) or a text such as '12'.
- ``len(x)``: length of a list or text; an empty answer is an error (see ``count``).
- ``sum(list)``: total of a list of numbers.
- ``floor(x)``, ``ceil(x)``: rounds down / up to a whole number.
- ``coalesce(a, b, ...)``: the first argument that is not None (None if all are).
- ``band(value, [[upper1, result1], [upper2, result2], ...], default)``: the result of
  the first band, in the order given, whose upper bound is >= value; ``default`` (None
  if omitted) when value is above every bound or is None. E.g.
  ``band(effectif, [[0, 100000], [1, 150000], [2, 200000]], None)``.
- ``percent_loss(ref, current)``: ``(ref - current) / ref * 100`` rounded to 2 decimals;
  None when ref is 0/None or current is None.
- ``years_between(a, b)``: whole years from date a to date b (an age); negative if b is
  before a. ``days_between(a, b)``: days from a to b. Both take dates or ISO texts
  ('2024-03-31') and give None when either is None.
- ``today()``: today's date in New Caledonia (Pacific/Noumea).
- ``count(list)``: number of items, 0 for an empty answer.
- ``any_true(list)`` / ``all_true(list)``: whether some / every item is true; False for an
  empty answer (an empty list follows Python: any -> False, all -> True).
- ``field(group, "key")``: the list of one key over a repeatable group, e.g.
  ``count(field(membres, "date_naissance"))``; [] for an empty answer.

``evaluate_all(expressions, values)`` evaluates named computed values in order, each one
seeing the earlier results; ``check_order(expressions)`` refuses a computed value that
reads itself or one computed after it.
"""

from __future__ import annotations

import ast
import operator
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import date
from typing import Any

import simpleeval

from forms_app.formdefs.expression_checks import ExpressionError, check, error_at, parse
from forms_app.formdefs.expression_functions import (
    FUNCTIONS,
    MAX_SIZE,
    EvaluationProblem,
    bounded,
    describe,
    problem,
    size,
)

__all__ = [
    "Expression",
    "ExpressionError",
    "check_order",
    "compile_expression",
    "evaluate_all",
]


def _binary(symbol: str, function: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap a binary operator so that failures read well."""

    def apply(left: Any, right: Any) -> Any:
        try:
            return bounded(function(left, right), f"'{symbol}'")
        except ZeroDivisionError as exc:
            raise problem(f"division by zero in '{symbol}'") from exc
        except simpleeval.InvalidExpression as exc:
            raise problem(f"the result of '{symbol}' would be too large") from exc
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise problem(
                f"cannot apply '{symbol}' to {describe(left)} and {describe(right)}"
            ) from exc

    return apply


def _unary(symbol: str, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a unary operator so that failures read well."""

    def apply(operand: Any) -> Any:
        try:
            return bounded(function(operand), f"'{symbol}'")
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise problem(f"cannot apply '{symbol}' to {describe(operand)}") from exc

    return apply


def _repeat(left: Any, right: Any) -> Any:
    """Multiply numbers, or repeat a text or a list within MAX_SIZE (nested items counted)."""
    for sequence, times in ((left, right), (right, left)):
        repeated = isinstance(sequence, (str, list, tuple)) and isinstance(times, int)
        if repeated and times > 0 and times * max(size(sequence), 1) > MAX_SIZE:
            raise simpleeval.IterableTooLong("too long")
    return simpleeval.safe_mult(left, right)


def _subtract(left: Any, right: Any) -> Any:
    """Subtract numbers, refusing dates (which would give a duration)."""
    if isinstance(left, date) and isinstance(right, date):
        raise problem("dates cannot be subtracted directly; use days_between() or years_between()")
    return left - right


def _contains(item: Any, container: Any) -> bool:
    """Tell whether item is in container; an empty answer contains nothing."""
    return False if container is None else item in container


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _binary("+", simpleeval.safe_add),
    ast.Sub: _binary("-", _subtract),
    ast.Mult: _binary("*", _repeat),
    ast.Div: _binary("/", operator.truediv),
    ast.FloorDiv: _binary("//", operator.floordiv),
    ast.Mod: _binary("%", operator.mod),
    ast.Eq: _binary("==", operator.eq),
    ast.NotEq: _binary("!=", operator.ne),
    ast.Lt: _binary("<", operator.lt),
    ast.LtE: _binary("<=", operator.le),
    ast.Gt: _binary(">", operator.gt),
    ast.GtE: _binary(">=", operator.ge),
    ast.In: _binary("in", _contains),
    ast.NotIn: _binary("not in", lambda item, container: not _contains(item, container)),
    ast.USub: _unary("-", operator.neg),
    ast.UAdd: _unary("+", operator.pos),
    ast.Not: operator.not_,
}


def _subscript(container: Any, key: Any) -> Any:
    """Read container[key]; a missing key of a group entry reads as None."""
    if isinstance(key, str) and key.startswith("_"):
        raise problem(f"keys starting with '_' such as {key!r} are not allowed")
    if container is None:
        raise problem(f"cannot read [{key!r}] from an empty answer (None)")
    if isinstance(container, dict):
        return container.get(key)
    if not isinstance(container, (list, tuple, str)):
        raise problem(f"cannot read [{key!r}] from {describe(container)}")
    if not isinstance(key, int) or isinstance(key, bool):
        raise problem(f"a position in a list must be a whole number, not {describe(key)}")
    if not -len(container) <= key < len(container):
        raise problem(f"position {key} is outside {describe(container)}")
    return container[key]


class _Evaluator(simpleeval.SimpleEval):
    """Run checked trees with the expression operators and functions."""

    def __init__(self) -> None:
        super().__init__(operators=dict(OPERATORS), functions=dict(FUNCTIONS), names={})
        self.nodes.update({ast.List: self._eval_list, ast.Tuple: self._eval_tuple})
        # The checker already refuses these; drop them here too, as a second line of defence.
        for kind in (ast.Attribute, ast.JoinedStr, ast.FormattedValue, ast.Slice, ast.keyword):
            self.nodes.pop(kind, None)

    def _eval(self, node: ast.AST) -> Any:
        """Evaluate a node, turning the first failure into a positioned ExpressionError."""
        try:
            return super()._eval(node)
        except ExpressionError:
            raise
        except EvaluationProblem as exc:
            raise error_at(str(exc), node) from exc
        except simpleeval.InvalidExpression as exc:
            raise error_at(f"This part of the expression was refused: {exc}", node) from exc
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise error_at(f"This part of the expression failed: {exc}", node) from exc

    def _eval_list(self, node: ast.List) -> list[Any]:
        """Evaluate a list literal."""
        return bounded([self._eval(item) for item in node.elts], "a list")

    def _eval_tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        """Evaluate a tuple literal."""
        return bounded(tuple(self._eval(item) for item in node.elts), "a list")

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        """Evaluate entry["key"] or items[0]."""
        return _subscript(self._eval(node.value), self._eval(node.slice))


class _PerThread(threading.local):
    """Keep one evaluator per thread: evaluators hold per-call state."""

    def __init__(self) -> None:
        self.evaluator = _Evaluator()


_PER_THREAD = _PerThread()


class Expression:
    """Hold a compiled, checked expression ready to evaluate."""

    __slots__ = ("_names", "_tree", "source")

    def __init__(self, source: str, tree: ast.expr, names: frozenset[str]) -> None:
        self.source = source
        self._tree = tree
        self._names = names

    @property
    def names(self) -> frozenset[str]:
        """Return the answer names the expression reads."""
        return self._names

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Evaluate with the given answers (missing ones are None)."""
        evaluator = _PER_THREAD.evaluator
        evaluator.names = {name: values.get(name) for name in self._names}
        try:
            return evaluator.eval(self.source, previously_parsed=self._tree)
        except RecursionError:
            raise ExpressionError("The expression is too complex to evaluate.") from None
        finally:
            evaluator.names = {}

    def __repr__(self) -> str:
        """Show the source."""
        return f"Expression({self.source!r})"


def compile_expression(source: str, names: Collection[str]) -> Expression:
    """Parse and check source, allowing the given answer names; raise ExpressionError."""
    tree = parse(source)
    return Expression(source, tree, check(tree, names, OPERATORS))


def check_order(expressions: Mapping[str, Expression]) -> None:
    """Raise ExpressionError if a computed value reads itself or one computed after it."""
    pending = set(expressions)
    for name, expression in expressions.items():
        later = sorted(expression.names & pending)
        if name in later:
            raise ExpressionError(f"The computed value '{name}' refers to itself.")
        if later:
            raise ExpressionError(
                f"The computed value '{name}' uses '{later[0]}', which is computed after it; "
                f"move '{later[0]}' before '{name}'."
            )
        pending.discard(name)


def evaluate_all(expressions: Mapping[str, Expression], values: Mapping[str, Any]) -> dict:
    """Evaluate computed values in order, each seeing the earlier results; return them."""
    check_order(expressions)
    scope = dict(values)
    results: dict[str, Any] = {}
    for name, expression in expressions.items():
        try:
            scope[name] = results[name] = expression.evaluate(scope)
        except ExpressionError as exc:
            raise ExpressionError(f"Computed value '{name}': {exc.message}", exc.position) from exc
    return results
