"""Import routes: a CSV or XLSX file of a kind in, a report out; the export of a kind as CSV."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from service.api.csv_answers import csv_attachment
from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.errors import Invalid, TooLarge
from service.imports import services
from service.imports.reading import XLSX_TYPE
from service.imports.schemas import ImportArgsSchema, ImportReportSchema, RefusalSchema
from service.imports.services import KINDS, Mode

blp = Blueprint("imports", __name__, description="Import and export of the directory as CSV or XLSX files.")

KIND_PARAMETER = {
    "in": "path",
    "name": "kind",
    "required": True,
    "schema": {"type": "string", "enum": sorted(KINDS)},
}
UPLOAD = {
    "required": True,
    # Only the two types generated clients know are listed; any other (text/csv, the XLSX type) is read as the file.
    "description": f"The file as a multipart `file`, or as the raw body of any type (`text/csv`, `{XLSX_TYPE}`).",
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
    },
}
CSV_CONTENT = {
    "description": "The records in the import's columns: UTF-8 with a BOM, `;` between cells.",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


#: The largest file an import takes through the API (the command line has no limit).
MAX_IMPORT_BYTES = 8 * 1024 * 1024


def _upload(filename: str) -> tuple[bytes, str]:
    """The uploaded file: a multipart `file`, or else the raw body; 413 past `MAX_IMPORT_BYTES` (the app's own
    `MAX_CONTENT_LENGTH` bounds what is read at all)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("the multipart body has no `file`", errors={"file": ["Missing data for required field."]})
        data, filename = upload.read(), upload.filename or filename
    else:
        data = request.get_data()
    if len(data) > MAX_IMPORT_BYTES:
        raise TooLarge(f"an import takes a file of at most {MAX_IMPORT_BYTES // 2**20} MiB")
    return data, filename


@blp.route("/imports/<kind>")
class Import(MethodView):
    @blp.doc(parameters=[KIND_PARAMETER], requestBody=UPLOAD)
    @blp.arguments(ImportArgsSchema, location="query")
    @blp.response(200, ImportReportSchema)
    def post(self, args: dict[str, Any], kind: str) -> Any:
        """Import a CSV or XLSX file (administrators): each row created, updated, unchanged or refused; 422 with the
        refusals when a row is refused in the `all_or_nothing` mode, and then nothing is written."""
        data, filename = _upload(args["filename"])
        mode = Mode(args["mode"])
        report = services.import_file(
            session(),
            user=user(),
            kind=kind,
            data=data,
            filename=filename,
            dry_run=args["dry_run"],
            mode=mode,
            ctx=context(),
        )
        if report.refused and mode is Mode.ALL_OR_NOTHING:
            dumped = ImportReportSchema().dump(report)
            raise Invalid(
                f"{report.refused} of {report.rows} rows refused; nothing was written",
                errors=report.errors(),
                **{name: value for name, value in dumped.items() if name != "refusals"},
                refusals=RefusalSchema(many=True).dump(report.refusals),
            )
        return report


@blp.route("/exports/<kind>")
class Export(MethodView):
    @blp.doc(parameters=[KIND_PARAMETER], responses={"200": CSV_CONTENT})
    def get(self, kind: str) -> Response:
        """Every record of a kind as CSV in the import's columns (administrators); it imports back unchanged."""
        return csv_attachment(services.export_csv(session(), user=user(), kind=kind), f"{kind}.csv")
