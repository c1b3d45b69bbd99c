"""Camunda's expression language (JUEL) inside ``${...}`` and ``#{...}``, translated into restricted Python.

Process owners write conditions, assignees, candidate groups, due dates and mappings the way Camunda Modeler
teaches them: ``${approved == true}``, ``${!rejected && amount gt 1000}``, ``${empty comment ? 'none' : comment}``,
``${execution.getVariable('level')}``. Such text is never handed to Python as it is: it is read here by a parser of
the JUEL grammar and written out as a Python expression, which then goes through the same restricted checker as any
script (``scripting.check_code``). What this parser cannot read is refused with the position of the fault.

The translation keeps JUEL's meaning where Python's differs: ``a.b`` reads the key ``b`` of a map (variables are
JSON data), ``empty`` is true of null, an empty string and an empty list or map, ``/`` divides exactly, and
``execution.getVariable('x')`` is null for a variable that is not set (a bare ``x`` is an error, as in Camunda).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The name under which an evaluation offers ``execution.getVariable``: a lookup in the variables only.
GET_VARIABLE = "execution_variable"


class JuelError(ValueError):
    """An expression that is not JUEL this service runs: what is wrong, and where (0-based, in the expression)."""

    def __init__(self, detail: str, position: int) -> None:
        self.detail = detail
        self.position = position
        super().__init__(f"{detail} at position {position + 1}")


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%!<>?:.,()\[\]])
    )""",
    re.VERBOSE,
)

#: Word operators, and the symbol each stands for.
_WORDS = {
    "and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
    "div": "/", "mod": "%", "empty": "empty",
}  # fmt: skip
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_PYTHON = {"&&": "and", "||": "or", "==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
           "+": "+", "-": "-", "*": "*", "/": "/", "%": "%"}  # fmt: skip
#: Binary operators by binding strength, weakest first (the ternary ``?:`` is weaker still).
_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))
_RESERVED = frozenset({"instanceof"})


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, op, end
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            tokens.append(_Token("end", "", position))
            return tokens
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise JuelError(f"unexpected {text[position]!r}", position)
        kind = found.lastgroup or "op"
        value = found.group(kind)
        start = found.start(kind)
        if kind == "name" and value in _WORDS:
            kind, value = "op", _WORDS[value]
        tokens.append(_Token(kind, value, start))
        position = found.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self, *ops: str) -> _Token | None:
        token = self.current
        if token.kind == "op" and token.text in ops:
            self.index += 1
            return token
        return None

    def expect(self, op: str) -> None:
        if self.take(op) is None:
            raise JuelError(f"expected {op!r}, found {self.current.text or 'the end'!r}", self.current.position)

    def expression(self) -> str:
        condition = self.binary(0)
        if self.take("?") is None:
            return condition
        if_true = self.expression()
        self.expect(":")
        if_false = self.expression()
        return f"({if_true} if {condition} else {if_false})"

    def binary(self, level: int) -> str:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (token := self.take(*_LEVELS[level])) is not None:
            right = self.binary(level + 1)
            left = f"({left} {_PYTHON[token.text]} {right})"
        return left

    def unary(self) -> str:
        if self.take("!") is not None:
            return f"(not {self.unary()})"
        if self.take("-") is not None:
            return f"(-{self.unary()})"
        if self.take("empty") is not None:
            return f"({self.unary()} in (None, '', [], {{}}))"
        return self.suffixes(self.primary())

    def primary(self) -> str:
        token = self.current
        self.index += 1
        if token.kind == "number":
            return token.text
        if token.kind == "string":
            return repr(_unquote(token.text))
        if token.kind == "name":
            if token.text in _RESERVED:
                raise JuelError(f"{token.text!r} is not supported", token.position)
            if token.text in _LITERALS:
                return _LITERALS[token.text]
            if token.text == "execution" and self.current.text == ".":
                return self.get_variable(token)
            if self.take("(") is not None:
                return f"{token.text}({self.arguments()})"
            return token.text
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return f"({inner})"
        raise JuelError(f"unexpected {token.text or 'end of the expression'!r}", token.position)

    def get_variable(self, start: _Token) -> str:
        """``execution.getVariable('x')``: the one method of ``execution`` a condition needs."""
        self.expect(".")
        method = self.current
        if method.text != "getVariable":
            raise JuelError("of execution only getVariable('name') is supported", method.position)
        self.index += 1
        self.expect("(")
        name = self.current
        if name.kind != "string":
            raise JuelError("getVariable takes the variable's name in quotes", name.position)
        self.index += 1
        self.expect(")")
        return f"{GET_VARIABLE}({repr(_unquote(name.text))})"

    def arguments(self) -> str:
        if self.take(")") is not None:
            return ""
        values = [self.expression()]
        while self.take(",") is not None:
            values.append(self.expression())
        self.expect(")")
        return ", ".join(values)

    def suffixes(self, value: str) -> str:
        while True:
            if self.take(".") is not None:
                name = self.current
                if name.kind != "name":
                    raise JuelError("expected a property name after '.'", name.position)
                self.index += 1
                if self.take("(") is not None:
                    value = f"{value}.{name.text}({self.arguments()})"
                else:
                    value = f"{value}[{name.text!r}]"
            elif self.take("[") is not None:
                value = f"{value}[{self.expression()}]"
                self.expect("]")
            else:
                return value


def _unquote(text: str) -> str:
    """A JUEL string literal's value: only ``\\\\``, ``\\'`` and ``\\"`` are escapes."""
    body = text[1:-1]
    return re.sub(r"\\([\\'\"])", r"\1", body)


def to_python(text: str) -> str:
    """The Python expression a JUEL expression (the inside of ``${...}``) stands for; JuelError if it is not one."""
    parser = _Parser(text)
    python = parser.expression()
    if parser.current.kind != "end":
        raise JuelError(f"unexpected {parser.current.text!r}", parser.current.position)
    return python
