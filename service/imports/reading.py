"""Reading an uploaded file into a header and rows: a CSV as a Russian office's Excel saves it (cp1251 or UTF-8 with
or without BOM, `;` or `,` between cells, quoted cells with line breaks) or an XLSX workbook (its first sheet).

Rows are numbered as a spreadsheet shows them: the header is row 1, so a refusal's row number is the one the person
sees in Excel. Rows with every cell empty (Excel leaves `;;;` lines behind) are skipped.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.errors import Invalid

#: What an XLSX file (a zip archive) starts with.
ZIP_MAGIC = b"PK\x03\x04"
DELIMITERS = (";", ",", "\t")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Table:
    """The cells of a file: the header as written, then each row with its spreadsheet row number."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]
    encoding: str  # utf-8, utf-8-sig, cp1251 or xlsx
    delimiter: str | None = None


def read_table(data: bytes) -> Table:
    """The header and rows of a CSV or XLSX file (an XLSX is recognised by its content, not its name)."""
    if not data.strip():
        raise Invalid("the file is empty", errors={"file": ["Send a CSV or XLSX file with a header row."]})
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    return _read_csv(data)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding: UTF-8 with a BOM, UTF-8, or else Windows-1251."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1251"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as error:
        raise Invalid(
            f"the file is neither UTF-8 nor Windows-1251 (byte {error.start}): save it as CSV UTF-8 or as CSV",
            errors={"file": ["not UTF-8 or Windows-1251 text"]},
        ) from None


def delimiter_of(first_line: str) -> str:
    """The delimiter the header line uses most: `;` (Russian Excel), `,` or a tab."""
    counts = {mark: first_line.count(mark) for mark in DELIMITERS}
    best = max(DELIMITERS, key=lambda mark: counts[mark])
    return best if counts[best] else ";"


def _read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = delimiter_of(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    try:
        records = list(reader)
    except csv.Error as error:
        raise Invalid(f"the CSV cannot be read: {error}", errors={"file": [str(error)]}) from None
    return _table(iter(records), encoding=encoding, delimiter=delimiter)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # only when a workbook comes: it is slow to import

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise Invalid("the file is not an XLSX workbook", errors={"file": [str(error) or "not a workbook"]}) from None
    try:
        sheet = workbook.worksheets[0]
        records = ([cell for cell in row] for row in sheet.iter_rows(values_only=True))
        return _table(records, encoding="xlsx")
    finally:
        workbook.close()


def _table(records: Iterator[list[Any]], *, encoding: str, delimiter: str | None = None) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(records, start=1):
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        if header is None:
            header = ["" if cell is None else str(cell) for cell in cells]
            continue
        rows.append((number, cells))
    if header is None:
        raise Invalid("the file is empty", errors={"file": ["Send a CSV or XLSX file with a header row."]})
    return Table(header, rows, encoding, delimiter)
