"""Compiling diagram code with RestrictedPython, and what the compiled code may reach when it runs.

RestrictedPython rewrites every attribute access, subscript, iteration, unpacking and augmented assignment into
calls of guard functions (``_getattr_``...), and refuses names and attributes that start with ``_``. The policy
below also routes every binary operator, f-string value, starred unpacking and lambda call through the budget
guards of ``budget.py``. At run time an attribute is reached only when it is one of the project's whitelisted
methods and the object is plain data (str, dict, list, tuple): so no route (``str.format``, ``format_map``, a
``match`` class pattern, a generator's frame, a bound method's ``__self__``) leads to a dunder or a module global.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any, cast

from RestrictedPython import RestrictingNodeTransformer

from .budget import ENTRY_BYTES, ITEM_BYTES, MAX_FORMAT_WIDTH, Guards, Meter, ScriptLimits, text_size

# Methods of str, dict and list that only compute values.
SAFE_ATTRIBUTES = frozenset(
    {
        "get", "keys", "values", "items", "copy", "update", "pop", "setdefault",
        "append", "extend", "insert", "remove", "index", "count", "sort", "reverse",
        "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "join",
        "replace", "startswith", "endswith", "title", "capitalize", "casefold", "find", "zfill",
        "partition", "isdigit", "isalpha", "isalnum", "isnumeric", "isspace",
    }
)  # fmt: skip

#: The only types whose (whitelisted) methods a script may reach.
PLAIN_TYPES = (str, dict, list, tuple)

_BINARY_OPS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.MatMult: "@",
}  # fmt: skip


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


def _located(new: ast.expr, where: ast.AST) -> ast.expr:
    """Give the nodes made here the source position of the code they guard (the original nodes keep theirs)."""
    for node in ast.walk(new):
        if "lineno" in node._attributes and getattr(node, "lineno", None) is None:
            ast.copy_location(node, where)
    return new


class ScriptPolicy(RestrictingNodeTransformer):  # type: ignore[misc]
    """RestrictedPython's policy plus the budget: operators, f-strings, unpacking and lambdas are metered."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        new = _call("_binop_", ast.Constant(_BINARY_OPS[type(node.op)]), node.left, node.right)
        return _located(new, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(part, ast.Constant) for part in parts):
                self.error(node, "a format spec must be written out, not computed")
            else:
                text = "".join(str(part.value) for part in parts)  # type: ignore[attr-defined]
                if any(int(number) > MAX_FORMAT_WIDTH for number in re.findall(r"\d+", text)):
                    self.error(node, f"a format spec may ask for a width of at most {MAX_FORMAT_WIDTH}")
        node = self.node_contents_visit(node)
        node.value = _located(_call("_text_", node.value), node.value)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _located(_call("_sized_", node.value), node.value)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        node = self.node_contents_visit(node)
        node.values = [
            _located(_call("_sized_", value), value) if key is None else value
            for key, value in zip(node.keys, node.values, strict=True)
        ]
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = node.target
        if not (
            isinstance(target, ast.Subscript) and _plain_reference(target.value) and _plain_reference(target.slice)
        ):
            return cast(ast.AST, super().visit_AugAssign(node))
        # `counts[k] += 1` is `counts[k] = counts[k] + 1` (both names evaluated twice, which is safe for names and
        # constants only); RestrictedPython alone refuses it.
        load = ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())
        value = ast.BinOp(left=load, op=node.op, right=node.value)
        store = ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Store())
        assign = ast.copy_location(ast.Assign(targets=[store], value=_located(value, node)), node)
        return cast(ast.AST, self.visit_Assign(_located_statement(assign)))

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = cast(ast.Lambda, super().visit_Lambda(node))
        # `_tick_() or body`: every call counts as a step, so recursion through lambdas is metered too.
        node.body = _located(ast.BoolOp(op=ast.Or(), values=[_call("_tick_"), node.body]), node.body)
        return node


def _plain_reference(node: ast.expr) -> bool:
    return isinstance(node, (ast.Name, ast.Constant))


def _located_statement(node: ast.Assign) -> ast.Assign:
    for child in ast.walk(node):
        if "lineno" in child._attributes and getattr(child, "lineno", None) is None:
            ast.copy_location(child, node)
    return node


# --- run time: attributes -------------------------------------------------------------------------

Sizer = Callable[[Any, tuple[Any, ...]], int]


def _text_len(obj: Any, args: tuple[Any, ...]) -> int:
    return len(obj) * (1 if obj.isascii() else 3)


def _pieces(obj: Any, args: tuple[Any, ...]) -> int:
    sep = args[0] if args and isinstance(args[0], str) and args[0] else None
    count = obj.count(sep) + 1 if sep else len(obj) // 2 + 1
    return len(obj) + count * 56


def _replace(obj: Any, args: tuple[Any, ...]) -> int:
    if len(args) < 2 or not isinstance(args[0], str) or not isinstance(args[1], str):
        return len(obj)
    found = obj.count(args[0])
    return len(obj) + found * max(len(args[1]) - len(args[0]), 0)


def _zfill(obj: Any, args: tuple[Any, ...]) -> int:
    return max(args[0], len(obj)) if args and isinstance(args[0], int) else len(obj)


def _copy(obj: Any, args: tuple[Any, ...]) -> int:
    return len(obj) * (ENTRY_BYTES if isinstance(obj, dict) else ITEM_BYTES)


def _added(obj: Any, args: tuple[Any, ...]) -> int:
    if not args or not hasattr(args[0], "__len__"):
        return 0  # a generator: its steps are metered as it runs
    return len(args[0]) * (ENTRY_BYTES if isinstance(obj, dict) else ITEM_BYTES)


SIZERS: dict[str, Sizer] = {
    "lower": _text_len, "upper": _text_len, "title": _text_len, "capitalize": _text_len,
    "casefold": _text_len, "strip": _text_len, "lstrip": _text_len, "rstrip": _text_len, "partition": _text_len,
    "split": _pieces, "rsplit": _pieces, "splitlines": _pieces, "replace": _replace, "zfill": _zfill,
    "copy": _copy, "extend": _added, "update": _added,
}  # fmt: skip


def guarded_getattr(obj: Any, name: str, meter: Meter) -> Any:
    """A whitelisted method of plain data, sized before it runs when its result can grow."""
    if name not in SAFE_ATTRIBUTES or type(obj) not in PLAIN_TYPES:
        raise AttributeError(f"the attribute {name!r} of {type(obj).__name__} is not allowed")
    method = getattr(obj, name)
    if name == "join":
        return _join(obj, meter)
    sizer = SIZERS.get(name)
    if sizer is None:
        return method

    def sized(*args: Any, **kwargs: Any) -> Any:
        meter.charge(sizer(obj, args))
        return method(*args, **kwargs)

    return sized


def _join(sep: str, meter: Meter) -> Callable[[Any], str]:
    def join(items: Any) -> str:
        values = list(items)
        meter.charge(sum(len(v) if isinstance(v, str) else 0 for v in values) + len(sep) * len(values))
        return sep.join(values)

    return join


# --- run time: builtins ---------------------------------------------------------------------------

PLAIN_BUILTINS: dict[str, Any] = {
    fn.__name__: fn for fn in (len, min, max, int, float, bool, round, abs, any, all)
}  # fmt: skip


def builtins_for(meter: Meter) -> dict[str, Any]:
    """The builtins a script sees: the plain ones, and sized versions of those that copy or print."""

    def charge_copy(value: Any, per_item: int) -> None:
        if hasattr(value, "__len__"):
            meter.charge(len(value) * per_item)

    def str_(value: Any = "") -> str:
        meter.charge(text_size(value, meter))
        return str(value)

    def list_(value: Any = ()) -> list[Any]:
        charge_copy(value, ITEM_BYTES)
        return list(value)

    def dict_(value: Any = (), **kwargs: Any) -> dict[str, Any]:
        charge_copy(value, ENTRY_BYTES)
        return dict(value, **kwargs)

    def sorted_(value: Any, *, key: Any = None, reverse: bool = False) -> list[Any]:
        charge_copy(value, ITEM_BYTES)
        return sorted(value, key=key, reverse=reverse)

    def sum_(value: Any, start: Any = 0) -> Any:
        if isinstance(start, bool) or not isinstance(start, (int, float)):
            raise TypeError("sum() adds numbers only")
        return sum(value, start)

    return {**PLAIN_BUILTINS, "str": str_, "list": list_, "dict": dict_, "sorted": sorted_, "sum": sum_}


def run_globals(limits: ScriptLimits) -> dict[str, Any]:
    """The globals of one run: the builtins and the guards, bound to a fresh meter."""
    meter = Meter(limits)
    return {"__builtins__": builtins_for(meter), **Guards(meter, guarded_getattr).names()}


GUARD_NAMES = frozenset(Guards(Meter(ScriptLimits()), guarded_getattr).names())
