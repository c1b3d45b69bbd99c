"""The field types every API schema uses for free text, numbers and dates: each with the limits a database and a mail
header can take, so bad input is refused at the edge instead of failing later."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import ValidationError, fields, validate

#: What a single-line value (a summary, a name, a code) may not hold: C0 controls, DEL, C1 controls, lone surrogates.
LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: A multi-line value (a description, a comment) may also hold line feeds and tabs.
TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

#: The id columns and integer columns are 32-bit on PostgreSQL.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
#: Stored dates: from this year up to this many years ahead of today.
EARLIEST_YEAR = 2000
YEARS_AHEAD = 10


def _refuse(pattern: re.Pattern[str], what: str) -> validate.Validator:
    class _NoControls(validate.Validator):
        def __call__(self, value: str) -> str:
            found = pattern.search(value)
            if found:
                raise ValidationError(f"{what} may not contain the character U+{ord(found.group()):04X}")
            return value

    return _NoControls()


def _validators(kwargs: dict[str, Any], *extra: validate.Validator) -> list[Any]:
    given = kwargs.pop("validate", None)
    chain: list[Any] = list(extra)
    if given is not None:
        chain.extend(given if isinstance(given, (list, tuple)) else [given])
    return chain


class Line(fields.String):
    """Single-line text (a summary, a name, a code): no control characters, at most `max_length` characters."""

    def __init__(self, *, max_length: int = 200, min_length: int | None = None, **kwargs: Any) -> None:
        checks = _validators(kwargs, validate.Length(min=min_length, max=max_length), _refuse(LINE_FORBIDDEN, "a line"))
        super().__init__(validate=checks, **kwargs)


class Code(Line):
    """A short identifier (a client code, a team, a status): a single line of at most 80 characters."""

    def __init__(self, *, max_length: int = 80, **kwargs: Any) -> None:
        super().__init__(max_length=max_length, **kwargs)


class Text(fields.String):
    """Multi-line text (a description, a comment): line feeds and tabs allowed (CR LF is read as LF), no other
    control characters, at most `max_length` characters."""

    def __init__(self, *, max_length: int = 20_000, min_length: int | None = None, **kwargs: Any) -> None:
        checks = _validators(kwargs, validate.Length(min=min_length, max=max_length), _refuse(TEXT_FORBIDDEN, "text"))
        super().__init__(validate=checks, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.replace("\r\n", "\n") if isinstance(text, str) else text


class Email(fields.Email):
    """An e-mail address: one line of at most 254 characters."""

    def __init__(self, **kwargs: Any) -> None:
        checks = _validators(kwargs, validate.Length(max=254), _refuse(LINE_FORBIDDEN, "an address"))
        super().__init__(validate=checks, **kwargs)


class Int(fields.Integer):
    """An integer within `minimum` and `maximum` (by default what a 32-bit column holds); the bounds are documented."""

    def __init__(self, *, minimum: int = INT_MIN, maximum: int = INT_MAX, **kwargs: Any) -> None:
        checks = _validators(kwargs, validate.Range(min=minimum, max=maximum))
        super().__init__(validate=checks, **kwargs)


class _Within(validate.Validator):
    """Between a fixed earliest day and today plus some years (reckoned when the value is checked)."""

    def __init__(self, earliest: dt.date, years_ahead: int) -> None:
        self.earliest = earliest
        self.years_ahead = years_ahead

    def __call__(self, value: dt.date) -> dt.date:
        day = value.date() if isinstance(value, dt.datetime) else value
        today = dt.date.today()
        latest = today.replace(year=today.year + self.years_ahead, day=min(today.day, 28))
        if not self.earliest <= day <= latest:
            raise ValidationError(f"between {self.earliest.isoformat()} and {latest.isoformat()}")
        return value


def _range_note(kwargs: dict[str, Any], earliest: dt.date, years_ahead: int) -> dict[str, Any]:
    metadata = dict(kwargs.pop("metadata", None) or {})
    note = f"From {earliest.isoformat()} to {years_ahead} years from today."
    metadata["description"] = f"{metadata['description']} {note}" if metadata.get("description") else note
    return metadata


class Day(fields.Date):
    """A calendar day a person records (a time entry, a day off): from 2000 to ten years from today."""

    def __init__(self, *, years_ahead: int = YEARS_AHEAD, **kwargs: Any) -> None:
        earliest = dt.date(EARLIEST_YEAR, 1, 1)
        metadata = _range_note(kwargs, earliest, years_ahead)
        checks = _validators(kwargs, _Within(earliest, years_ahead))
        super().__init__(validate=checks, metadata=metadata, **kwargs)


class Moment(fields.DateTime):
    """A moment a person gives (a deadline, a period's end): from 2000 to ten years from today."""

    def __init__(self, *, years_ahead: int = YEARS_AHEAD, **kwargs: Any) -> None:
        earliest = dt.date(EARLIEST_YEAR, 1, 1)
        metadata = _range_note(kwargs, earliest, years_ahead)
        checks = _validators(kwargs, _Within(earliest, years_ahead))
        super().__init__(validate=checks, metadata=metadata, **kwargs)


class Choice(fields.String):
    """One of a fixed set of values (a severity, a state): refused otherwise on input, documented as an enum."""

    def __init__(self, values: tuple[str, ...] | frozenset[str], **kwargs: Any) -> None:
        checks = _validators(kwargs, validate.OneOf(sorted(values) if isinstance(values, frozenset) else values))
        super().__init__(validate=checks, **kwargs)


class Document(fields.String):
    """A whole document (a rule file) that its own parser checks and whose refusals name the line: only a length
    limit here."""

    def __init__(self, *, max_length: int = 200_000, **kwargs: Any) -> None:
        super().__init__(validate=_validators(kwargs, validate.Length(max=max_length)), **kwargs)
