"""The request's edge guard: input no database or parser downstream can take is refused with a 400 problem.

JSON bodies are read by one strict loader (the app's JSON provider and every blueprint's argument parser use it):
it refuses NUL characters, lone surrogates, NaN, Infinity and numbers beyond a float, integers longer than any
column holds, and nesting deeper than any schema. The path, the query string and form bodies are checked for bad
UTF-8 and NUL before authentication.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import flask_smorest
import marshmallow as ma
from flask import Request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from service.errors import ServiceError

#: More digits than any integer the API takes (64-bit ints have 19); Python refuses more than 4,300 anyway.
MAX_INT_DIGITS = 40
#: Deeper than any schema nests; far below the interpreter's recursion limit.
MAX_DEPTH = 64
FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_BAD_CHARACTER = re.compile(r"[\x00\ud800-\udfff]")


class BadRequest(ServiceError):
    """The request cannot be read: bad JSON, bad UTF-8, a NUL character, a number beyond any range."""

    status = 400
    title = "Bad Request"


def loads(data: str | bytes) -> Any:
    """The JSON document in `data`; `BadRequest` when it is not JSON or holds what the API never takes."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not UTF-8: {error.reason} at byte {error.start}") from None
    except json.JSONDecodeError as error:
        raise BadRequest(f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise BadRequest("the body nests too deeply") from None
    _check(value)
    return value


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise BadRequest(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _parse_float(digits: str) -> float:
    value = float(digits)
    if not math.isfinite(value):
        raise BadRequest(f"the number {digits[:40]} is beyond what a float holds")
    return value


def _no_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number")


def _check(value: Any) -> None:
    """Walk the document (without recursion) for NUL characters, lone surrogates and too deep nesting."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, "a string")
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, "a key")
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _check_text(text: str, what: str) -> None:
    found = _BAD_CHARACTER.search(text)
    if found:
        raise BadRequest(f"{what} holds the character U+{ord(found.group()):04X}, which the API never takes")


def check_request(request: Request) -> None:
    """Refuse a path or query string with bad UTF-8 (percent-encoded or not) or a NUL character, and a form body
    whose names, values or file names hold a NUL character or a lone surrogate."""
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw_uri:  # what the client sent, before the server decoded it (and maybe replaced bad UTF-8)
        path = unquote_to_bytes(raw_uri.partition("?")[0])
    else:
        path = request.environ.get("PATH_INFO", "").encode("latin-1", "replace")
    _check_bytes(path, "the path")
    for part in request.query_string.split(b"&"):
        _check_bytes(unquote_to_bytes(part.replace(b"+", b" ")), "the query string")
    if request.mimetype in FORMS:
        for name, value in request.form.items(multi=True):
            _check_text(name or "", "a form field's name")  # a part may come without a name
            _check_text(value, "a form field")
        for name, upload in request.files.items(multi=True):
            _check_text(name or "", "a form field's name")  # a part may come without a name
            _check_text(upload.filename or "", "a file name")


def _check_bytes(raw: bytes, what: str) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not UTF-8") from None
    _check_text(text, what)


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON: reading goes through the strict loader."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)


class StrictParser(FlaskParser):
    """Webargs' parser with the strict loader; its refusals are 400 problems with the reason."""

    def __init__(self) -> None:
        super().__init__()
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: Request) -> ma.Schema:
        """The schema of a view's arguments: a class's instance is made once, not at each request (making one copies
        every field), as loading keeps nothing on the instance."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        if not body:
            return core.missing  # as webargs does: the schema then says what is missing
        try:
            return loads(body)
        except BadRequest as error:
            abort(400, exc=error, messages={"json": [error.detail]})


class Blueprint(flask_smorest.Blueprint):
    """The API's blueprints: flask-smorest's, reading arguments with the strict parser."""

    ARGUMENTS_PARSER = StrictParser()
