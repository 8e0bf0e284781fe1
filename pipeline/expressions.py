"""Safe arithmetic expressions over named arrays, for laws written in config files.

``evaluate_expression("-k*u + sin(t)", {"u": u, "t": t, "k": 0.5})`` parses with :mod:`ast`
and evaluates only numbers, names from the given mapping, + - * / ** and calls to a fixed
set of numpy functions, each with exactly one argument. Nothing is ``eval``-ed, so a config file cannot
run code, and the arrays are bound read-only, so an expression cannot change them either (``sin(u, u)``
would be numpy's ``sin(u, out=u)``: it is refused by arity, and a read-only input would refuse it anyway).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping

import numpy as np

from pipeline.errors import ConfigError

__all__ = ["FUNCTIONS", "evaluate_expression", "expression_names"]

FUNCTIONS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "tanh": np.tanh, "abs": np.abs, "sinh": np.sinh, "cosh": np.cosh, "arctan": np.arctan,
}  # fmt: skip
_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}  # fmt: skip
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


MAX_EXPRESSION_CHARACTERS = 2000
"""Longest expression parsed (Python's parser exhausts memory on very deeply nested ones)."""


def _parse(text: str) -> ast.expr:
    if len(text) > MAX_EXPRESSION_CHARACTERS:
        raise ConfigError(
            f"expression {text[:40]!r}... is {len(text)} characters long; at most {MAX_EXPRESSION_CHARACTERS}"
        )
    try:
        return ast.parse(text.replace("^", "**"), mode="eval").body
    except (SyntaxError, MemoryError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else "nested too deeply"
        raise ConfigError(f"expression {text[:80]!r} is not valid arithmetic ({reason})") from exc


def expression_names(text: str) -> set[str]:
    """Variable names an expression uses (function names excluded)."""
    tree = _parse(text)
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - called


def _read_only(value: np.ndarray | float) -> np.ndarray | float:
    """A read-only view of an array (the caller's array itself is left writable); numbers as they are."""
    if not isinstance(value, np.ndarray):
        return value
    view = value.view()
    view.flags.writeable = False
    return view


def evaluate_expression(text: str, values: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Evaluate ``text`` with ``values`` bound to its names; ConfigError names anything not allowed.

    Args:
        text: the expression, e.g. ``"-k*u + sin(t)"``.
        values: name -> array (each (n,) or broadcastable) or number; never modified.

    Returns:
        A new float array (never a view of an input), broadcast of the inputs' shapes.
    """
    values = {name: _read_only(value) for name, value in values.items()}

    def walk(node: ast.AST) -> np.ndarray | float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return np.float64(node.value)  # numpy semantics: 1/0 is inf, not an exception
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ConfigError(f"expression {text!r}: unknown name {node.id!r}; known: {sorted(values)}")
            return values[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id not in FUNCTIONS:
                raise ConfigError(
                    f"expression {text!r}: unknown function {node.func.id!r}; allowed: {sorted(FUNCTIONS)}"
                )
            if len(node.args) != 1:
                raise ConfigError(
                    f"expression {text!r}: {ast.unparse(node)!r} gives {node.func.id} {len(node.args)} arguments;"
                    " it takes exactly 1"
                )
            return FUNCTIONS[node.func.id](walk(node.args[0]))
        raise ConfigError(
            f"expression {text!r}: {ast.unparse(node)!r} is not allowed (numbers, names, + - * / ** only)"
        )

    with np.errstate(all="ignore"):
        try:
            return np.array(walk(_parse(text)), dtype=float)  # a copy: the result never aliases an input
        except ConfigError:
            raise
        except (ArithmeticError, ValueError, TypeError, RecursionError) as exc:
            raise ConfigError(f"expression {text[:80]!r} cannot be evaluated ({type(exc).__name__}: {exc})") from exc
