"""Parse form expressions and check them against the whitelist of allowed constructs.

Used by :mod:`forms_app.formdefs.expressions`, which documents the language.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Collection
from typing import Any

import simpleeval

from forms_app.formdefs.expression_functions import ARITY, FUNCTIONS, MAX_NUMBER

MAX_SOURCE_LENGTH = 10_000
MAX_DEPTH = 50

_SYMBOLS = {
    ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>", ast.MatMult: "@", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not",
}  # fmt: skip
_HINTS = {
    ast.Pow: "Multiply explicitly instead, e.g. x * x.",
    ast.BitAnd: "Use 'and' to combine conditions.",
    ast.BitOr: "Use 'or' to combine conditions.",
    ast.Is: "Use '== None' or '!= None' instead.",
    ast.IsNot: "Use '!= None' instead.",
}
_COMPREHENSION = (
    "Comprehensions such as '[x for x in items]' are not allowed",
    "Use field(), count(), sum(), any_true() or all_true() instead.",
)
_FORBIDDEN = {
    ast.Lambda: ("Lambda functions are not allowed", ""),
    ast.ListComp: _COMPREHENSION,
    ast.SetComp: _COMPREHENSION,
    ast.DictComp: _COMPREHENSION,
    ast.GeneratorExp: _COMPREHENSION,
    ast.JoinedStr: ("f-strings are not allowed", "Join texts with + instead."),
    ast.NamedExpr: ("Assignments with ':=' are not allowed", ""),
    ast.Dict: ("Dictionary literals {...} are not allowed", ""),
    ast.Set: ("Set literals {...} are not allowed", "Use a list [...] instead."),
    ast.Starred: ("Unpacking with '*' is not allowed", ""),
    ast.Slice: ("Slices such as 'a[1:3]' are not allowed", ""),
}
_LITERALS = (bool, int, float, str, type(None))
_IMPORT = re.compile(r"(import|from)\s")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ExpressionError(ValueError):
    """Report an expression that cannot be compiled or evaluated, in plain English."""

    def __init__(self, message: str, position: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _where(line: int, column: int) -> str:
    """Name a position: the column, and the line when it is not the first."""
    return f"column {column}" if line == 1 else f"line {line}, column {column}"


def error_at(detail: str, node: Any = None, hint: str = "") -> ExpressionError:
    """Build an error for a node whose position was made relative to the source."""
    position = None if node is None else (node.lineno, node.col_offset + 1)
    text = detail if position is None else f"{detail} (at {_where(*position)})"
    return ExpressionError(f"{text}.{' ' + hint if hint else ''}", position)


def _arity(low: int, high: int | None) -> str:
    """Describe how many arguments a function takes."""
    if high == 0:
        return "no arguments"
    plural = "s" if (high or low) > 1 else ""
    if high is None:
        return f"at least {low} argument{plural}"
    return f"{low} argument{plural}" if low == high else f"{low} to {high} arguments"


def parse(source: str) -> ast.expr:
    """Parse source, with node positions counted in characters of source."""
    if not isinstance(source, str):
        raise ExpressionError("An expression must be a text.")
    if not source.strip():
        raise ExpressionError("The expression is empty.")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"The expression is too long ({len(source)} characters, at most {MAX_SOURCE_LENGTH})."
        )
    body = source.lstrip()
    lead = source[: len(source) - len(body)]
    line_shift, column_shift = lead.count("\n"), len(lead) - lead.rfind("\n") - 1

    def locate(line: int, column: int) -> tuple[int, int]:
        """Map a position in the stripped text to one in source."""
        return line + line_shift, column + (column_shift if line == 1 else 0)

    if _IMPORT.match(body):
        raise ExpressionError("Imports are not allowed in expressions.")
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        if exc.lineno is None:
            raise ExpressionError(f"Syntax error: {exc.msg}.") from None
        line, column = locate(exc.lineno, max(exc.offset or 1, 1))
        raise ExpressionError(
            f"Syntax error: {exc.msg} (at {_where(line, column)}).", (line, column)
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("The expression is nested too deeply or is malformed.") from None
    lines = _LINE_BREAK.split(body)
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) is not None and node.lineno <= len(lines):
            prefix = lines[node.lineno - 1].encode()[: node.col_offset]
            node.lineno, node.col_offset = locate(
                node.lineno, len(prefix.decode("utf-8", "replace"))
            )
    return tree.body


class _Checker:
    """Check a parsed expression against the whitelist and collect the names it reads."""

    def __init__(self, names: Collection[str], operators: Collection[type]) -> None:
        self.names = names
        self.operators = operators
        self.used: set[str] = set()

    def check(self, node: ast.AST, depth: int = 0) -> None:
        """Raise ExpressionError for the first construct that is not allowed."""
        if depth > MAX_DEPTH:
            raise error_at("The expression is nested too deeply", node)
        children: list[ast.AST] = []
        if isinstance(node, ast.Constant):
            self._constant(node)
        elif isinstance(node, ast.Name):
            self._name(node)
        elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
            self._operator(node.op, node)
            children = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.operand]
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                self._operator(op, node)
            children = [node.left, *node.comparators]
        elif isinstance(node, ast.BoolOp):
            children = list(node.values)
        elif isinstance(node, ast.IfExp):
            children = [node.test, node.body, node.orelse]
        elif isinstance(node, (ast.List, ast.Tuple)):
            children = list(node.elts)
        elif isinstance(node, ast.Subscript):
            self._subscript(node)
            children = [node.value, node.slice]
        elif isinstance(node, ast.Call):
            self._call(node)
            children = list(node.args)
        elif isinstance(node, ast.Attribute):
            raise error_at(
                f"Attribute access ('.{node.attr}') is not allowed",
                node,
                'Use answer names directly, or field(group, "key") for repeatable groups.',
            )
        else:
            detail, hint = _FORBIDDEN.get(
                type(node), (f"This construct ({type(node).__name__}) is not allowed", "")
            )
            raise error_at(detail, node, hint)
        for child in children:
            self.check(child, depth + 1)

    def _constant(self, node: ast.Constant) -> None:
        """Allow numbers, texts, booleans and None of a sane size."""
        if not isinstance(node.value, _LITERALS):
            hint = "Only numbers, texts, True, False and None are."
            raise error_at(f"The literal {node.value!r} is not allowed", node, hint)
        if isinstance(node.value, str) and len(node.value) > simpleeval.MAX_STRING_LENGTH:
            raise error_at("This text is too long", node)
        number = isinstance(node.value, int | float) and not isinstance(node.value, bool)
        if number and not abs(node.value) <= MAX_NUMBER:  # 1e999 too, which reads as infinity
            raise error_at("This number is too large", node)

    def _name(self, node: ast.Name) -> None:
        """Allow the answer names, suggesting the closest one for a typo."""
        if node.id in self.names:
            self.used.add(node.id)
            return
        if node.id in FUNCTIONS:
            raise error_at(
                f"'{node.id}' is a function and must be called", node, f"Write {node.id}(...)."
            )
        hint = ""
        if node.id.lower() in {"true", "false", "none", "null"}:
            hint = "Write True, False or None with a capital letter."
        elif close := difflib.get_close_matches(node.id, list(self.names), n=1):
            hint = f"Did you mean '{close[0]}'?"
        raise error_at(f"Unknown name '{node.id}'", node, hint)

    def _operator(self, op: ast.AST, node: ast.expr) -> None:
        """Allow only the operators the evaluator implements."""
        if type(op) not in self.operators:
            symbol = _SYMBOLS.get(type(op), type(op).__name__)
            raise error_at(
                f"The '{symbol}' operator is not allowed", node, _HINTS.get(type(op), "")
            )

    def _subscript(self, node: ast.Subscript) -> None:
        """Refuse literal keys starting with '_' (such as '__class__')."""
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value[:1] == "_":
            raise error_at(f"Keys starting with '_' such as {key.value!r} are not allowed", key)

    def _call(self, node: ast.Call) -> None:
        """Allow calls to the listed functions, with positional arguments in number."""
        allowed = f"Allowed functions: {', '.join(sorted(FUNCTIONS))}."
        if not isinstance(node.func, ast.Name):
            self.check(node.func)  # reports attribute access, lambdas and the like
            raise error_at("Only the allowed functions can be called", node, allowed)
        name = node.func.id
        if name not in FUNCTIONS:
            raise error_at(f"'{name}' is not an allowed function", node, allowed)
        if node.keywords:
            raise error_at(f"Keyword arguments are not supported in {name}()", node.keywords[0])
        low, high = ARITY[name]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            raise error_at(f"{name}() takes {_arity(low, high)}, but got {len(node.args)}", node)
        if name == "band" and len(node.args) > 1 and isinstance(node.args[1], ast.List):
            for pair in node.args[1].elts:
                if not isinstance(pair, (ast.List, ast.Tuple)) or len(pair.elts) != 2:
                    raise error_at("Each band must be a pair [upper bound, result]", pair)


def check(tree: ast.expr, names: Collection[str], operators: Collection[type]) -> frozenset[str]:
    """Raise ExpressionError unless tree is allowed; return the answer names it reads."""
    checker = _Checker(frozenset(names), frozenset(operators))
    checker.check(tree)
    return frozenset(checker.used)
