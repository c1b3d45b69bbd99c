"""Routes of a ticket's files: list, upload (multipart) and download (always as an attachment)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response
from flask.views import MethodView

from adapters.files import FileStore
from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.errors import Invalid
from service.tickets import files
from service.tickets.file_schemas import FileUploadSchema, StoredFileSchema, TicketFileSchema

blp = Blueprint(
    "ticket_files", __name__, url_prefix="/tickets", description="The files of a ticket's folder (photos, logs)."
)

DOWNLOAD = {
    "description": "The file, as an attachment, with the content type read from its content.",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
}


def store() -> FileStore:
    """The process's file store (the pages use it too)."""
    found = context().file_store
    assert found is not None, "the service's context has no file store"
    return found


def upload_limit() -> int:
    """Bytes one uploaded file may have (`upload_mb`)."""
    return int(context().config.upload_mb * 1024 * 1024)


@blp.route("/<number>/files")
class TicketFiles(MethodView):
    @blp.response(200, TicketFileSchema(many=True))
    def get(self, number: str) -> list[files.TicketFile]:
        """The files of the ticket's folder, by name (whoever may see the ticket)."""
        return files.list_files(session(), store(), user=user(), number=number)

    @blp.arguments(FileUploadSchema, location="files")
    @blp.response(201, StoredFileSchema(many=True))
    def post(self, form: dict[str, Any], number: str) -> list[files.TicketFile]:
        """Upload files into the ticket's folder; past `ORCHESTRATOR_UPLOAD_MB` a file is refused with 413."""
        uploads = [files.Upload(part.filename or "", part.read()) for part in form.get("files", [])]
        if any(not upload.name for upload in uploads):
            raise Invalid("a file part has no file name", errors={"files": ["Give each file its name."]})
        return files.upload_files(
            session(), store(), user=user(), number=number, uploads=uploads, max_bytes=upload_limit()
        )


@blp.route("/<number>/files/<name>")
class TicketFile(MethodView):
    @blp.doc(responses={"200": DOWNLOAD})
    def get(self, number: str, name: str) -> Response:
        """Download one file: always an attachment, never shown inline, whatever it holds."""
        found = files.download_file(session(), store(), user=user(), number=number, name=name)
        return attachment(found)


def attachment(found: files.FileContent) -> Response:
    """The file as a download the browser saves and never renders, whatever its content."""
    kind = f"{found.content_type}; charset=utf-8" if found.content_type == "text/plain" else found.content_type
    response = Response(found.data, status=200, content_type=kind)
    fallback = found.name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(found.name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
