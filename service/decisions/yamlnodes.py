"""Reading a YAML document as nodes, so that every problem can name the line it is on."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, NoReturn

import yaml

from .model import RulesetError
from .values import describe

Node = yaml.Node


def line_of(node: Node) -> int:
    """The 1-based line where a node starts."""
    return int(node.start_mark.line) + 1


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean X?)' when a close spelling exists, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Reader:
    """Composes one YAML document and turns its nodes into values, raising RulesetError with lines."""

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        if not isinstance(text, str):
            raise TypeError("rule text must be str")
        try:
            # The loader checks the characters of the whole text as it is built, so it can refuse here already.
            self._loader = yaml.SafeLoader(text)
            root = self._loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = int(mark.line) + 1 if mark is not None else 1
            parts = [p for p in (error.context, error.problem) if p]
            self.fail_at(line, "not valid YAML: " + "; ".join(parts))
        except yaml.reader.ReaderError as error:
            line = text.count("\n", 0, error.position) + 1
            self.fail_at(line, f"not valid YAML: character #x{error.character:04x} is not allowed")
        except yaml.YAMLError as error:
            self.fail_at(1, f"not valid YAML: {error}")
        if root is None:
            self.fail_at(1, "the file is empty")
        self.root: Node = root

    def fail_at(self, line: int, detail: str) -> NoReturn:
        """Raise a RulesetError for this file."""
        raise RulesetError(self.filename, line, detail)

    def fail(self, node: Node, detail: str) -> NoReturn:
        """Raise a RulesetError at a node's line."""
        self.fail_at(line_of(node), detail)

    def scalar(self, node: Node, what: str) -> Any:
        """The plain value of a scalar node (YAML decides: 4 is a number, "4" is text)."""
        if not isinstance(node, yaml.ScalarNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
            self.fail(node, f"{what} must be a single value, not {kind}")
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            self.fail(node, f"{what}: {error}")

    def text(self, node: Node, what: str) -> str:
        """A non-empty text scalar."""
        value = self.scalar(node, what)
        if not isinstance(value, str) or not value.strip():
            self.fail(node, f"{what} must be non-empty text, got {describe(value)}")
        return value.strip()

    def sequence(self, node: Node, what: str) -> list[Node]:
        """The items of a list node."""
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list")
        return list(node.value)

    def mapping(
        self,
        node: Node,
        what: str,
        *,
        allowed: Iterable[str] | None = None,
        required: Iterable[str] = (),
    ) -> dict[str, tuple[Node, Node]]:
        """A mapping node as key -> (key node, value node), refusing duplicate, unknown and missing keys."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping of `key: value` lines, got {self._kind(node)}")
        allowed_keys = list(allowed) if allowed is not None else None
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node, f"a key in {what}")
            if not isinstance(key, str):
                self.fail(key_node, f"a key in {what} must be text, got {describe(key)}")
            if key in result:
                self.fail(key_node, f"{key!r} appears twice in {what}")
            if allowed_keys is not None and key not in allowed_keys:
                self.fail(
                    key_node,
                    f"unknown key {key!r} in {what}{suggest(key, allowed_keys)}; "
                    f"allowed keys: {', '.join(allowed_keys)}",
                )
            result[key] = (key_node, value_node)
        for key in required:
            if key not in result:
                self.fail(node, f"{what} has no {key!r}")
        return result

    @staticmethod
    def _kind(node: Node) -> str:
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        if isinstance(node, yaml.ScalarNode):
            return f"the value {node.value!r}" if node.value else "nothing"
        return "something else"
