"""Reading one cell as Excel writes it: dates `31.12.2026` or ISO, decimal commas `1 234,50`, yes/no in Russian or
English; an empty cell is a value not given.

Each parser takes what the file holds (text from a CSV, a number, a date or a boolean from an XLSX cell) and returns
the value in the form the kind's schema loads (an ISO date, a decimal as text), or raises `CellError` saying why.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

#: The words a yes/no column takes (Russian Excel writes TRUE and FALSE as ИСТИНА and ЛОЖЬ).
TRUE = frozenset({"да", "yes", "true", "1", "истина", "y", "д"})
FALSE = frozenset({"нет", "no", "false", "0", "ложь", "n", "н"})
_RUSSIAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_RUSSIAN_MOMENT = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
#: Where a date-time without an offset is read: the service desk's own time.
LOCAL_ZONE = ZoneInfo("Europe/Moscow")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00)?)?$")
#: Spaces that group digits: the plain one, the no-break space Excel writes, the narrow no-break space.
_GROUPING = re.compile(r"[ \u00a0\u202f']")


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message says what the column takes."""


def is_empty(value: Any) -> bool:
    """True for a cell that gives no value: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def _number_text(value: int | float) -> str:
    """A number as text without a spurious `.0` (Excel keeps an INN or a serial typed as a number as a float)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def line(value: Any) -> str:
    """A single-line text, trimmed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return day(value)
    return str(value).strip()


def text(value: Any) -> str:
    """A multi-line text, as written (line breaks inside a quoted cell are kept)."""
    if isinstance(value, str):
        return value
    return line(value)


def day(value: Any) -> str:
    """A calendar day: `31.12.2026`, `2026-12-31`, or a date cell; as ISO text."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    written = str(value).strip()
    found = _RUSSIAN_DAY.match(written)
    parts: tuple[str, ...] | None = (found.group(3), found.group(2), found.group(1)) if found else None
    if parts is None:
        iso = _ISO_DAY.match(written)
        parts = iso.groups() if iso else None
    if parts is None:
        raise CellError(f"{written!r} is not a date: write 31.12.2026 or 2026-12-31")
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        raise CellError(f"{written!r} is not a day of the calendar") from None


def moment(value: Any) -> str:
    """A date and time: `31.12.2026 14:30` (seconds optional), ISO (`2026-12-31T14:30`, with or without an offset)
    or a date-time cell; one without an offset is read in Europe/Moscow. As ISO text with its offset."""
    if isinstance(value, dt.datetime):
        found: dt.datetime | None = value
    else:
        written = str(value).strip()
        russian = _RUSSIAN_MOMENT.match(written)
        try:
            if russian:
                day_, month, year, hour, minute, second = russian.groups()
                found = dt.datetime(int(year), int(month), int(day_), int(hour), int(minute), int(second or 0))
            else:
                found = dt.datetime.fromisoformat(written) if "-" in written and len(written) > 10 else None
        except ValueError:
            raise CellError(f"{written!r} is not a moment of the calendar") from None
        if found is None:
            raise CellError(f"{written!r} is not a date and time: write 31.12.2026 14:30 or 2026-12-31T14:30")
    assert found is not None
    if found.tzinfo is None:
        found = found.replace(tzinfo=LOCAL_ZONE)
    return found.isoformat()


def decimal(value: Any) -> str:
    """A number with a decimal comma or point and digits grouped by spaces (`1 234,50`); as text."""
    if isinstance(value, bool):
        raise CellError("a number, not yes/no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    written = _GROUPING.sub("", str(value).strip())
    if "," in written and "." in written:  # 1.234,50 or 1,234.50: the last mark is the decimal one
        thousands = "." if written.rindex(",") > written.rindex(".") else ","
        written = written.replace(thousands, "")
    written = written.replace(",", ".")
    try:
        number = Decimal(written)
    except InvalidOperation:
        raise CellError(f"{str(value).strip()!r} is not a number: write 1234,50 or 1 234,50") from None
    if not number.is_finite():
        raise CellError(f"{str(value).strip()!r} is not a number")
    return str(number)


def boolean(value: Any) -> bool:
    """Yes or no: да/нет, yes/no, true/false, 1/0 (any case), or a boolean cell."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise CellError(f"{str(value).strip()!r} is not yes or no: write да/нет, yes/no, true/false or 1/0")


_SEPARATORS = re.compile(r"[\s,;]+")


def words(value: Any) -> list[str]:
    """A list in one cell: words separated by spaces or commas (`storage, network`); each once, in the cell's
    order."""
    return list(dict.fromkeys(word for word in _SEPARATORS.split(line(value)) if word))
