"""Answering in CSV for outside tools: when the caller asks for it, and how the file is sent."""

from __future__ import annotations

from flask import Response, request


def wants_csv(format_: str | None) -> bool:
    """True for `?format=csv`, or, without a `format`, when the Accept header prefers text/csv."""
    if format_ is not None:
        return format_ == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def csv_attachment(text: str, filename: str) -> Response:
    """A CSV file the browser saves under `filename`."""
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
