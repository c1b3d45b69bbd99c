"""The files of a ticket's folder: listed, uploaded and downloaded by whoever may see the ticket.

The folder is the one the `files.create_folder` job makes (named by the ticket number) in the configured file
store; an upload made before that job ran creates it. Names are checked by the store's own rule, a name already
taken gets a number (`photo-2.jpg`: a phone names every picture alike), and the content type is read from the
content itself, never from what the sender claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy.orm import Session

from adapters.files import FileStore, StoredFile, check_file_name
from service.auth.models import Caller
from service.errors import Invalid, NotFound, TooLarge
from service.tickets.history import record
from service.tickets.services import get_ticket

#: A file name taken this many times over is refused rather than numbered further.
MAX_NUMBERED = 100
#: Leading bytes of the types worth telling apart; anything else is text (when it reads as UTF-8) or octet-stream.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)


@dataclass(frozen=True)
class TicketFile:
    """One file of a ticket's folder."""

    name: str
    size: int
    uploaded_at: datetime
    content_type: str | None = None


@dataclass(frozen=True)
class FileContent:
    """A file to send: its name, its sniffed content type and its content."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Upload:
    """A file as the request carries it: the name the sender gave and the content."""

    name: str
    data: bytes


def sniff(data: bytes) -> str:
    """The content type read from the content (never `text/html`: a page of ours must not be served from a folder)."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    head = data[:8192]
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as cut:
        if cut.start < len(head) - 3:  # not merely a character cut by the end of the head
            return "application/octet-stream"
    return "text/plain"


def list_files(session: Session, store: FileStore, *, user: Caller, number: str) -> list[TicketFile]:
    """The files of a ticket the caller sees (404 otherwise), sorted by name."""
    ticket = get_ticket(session, user=user, number=number)
    return [TicketFile(f.name, f.size, f.stored_at) for f in store.describe_files(ticket.number or number)]


def upload_files(
    session: Session, store: FileStore, *, user: Caller, number: str, uploads: list[Upload], max_bytes: int
) -> list[TicketFile]:
    """Store each file in the ticket's folder and record a `file_uploaded` history event per file.

    Every file is checked before any is stored: an empty list or an unacceptable name is 422 (`errors.files`),
    a file past `max_bytes` is 413; nothing is stored then.
    """
    ticket = get_ticket(session, user=user, number=number)
    if not uploads:
        raise Invalid("send one or more files as multipart `files`", errors={"files": ["No file was sent."]})
    for upload in uploads:
        _check_name(upload.name)
        if len(upload.data) > max_bytes:
            raise TooLarge(f"the file {upload.name!r} is larger than {max_bytes} bytes", limit=max_bytes)
    stored = []
    for upload in uploads:
        kind = sniff(upload.data)
        saved = _save(store, ticket.number or number, upload)
        record(session, ticket, user.username, "file_uploaded", name=saved.name, size=saved.size, content_type=kind)
        stored.append(TicketFile(saved.name, saved.size, saved.stored_at, kind))
    return stored


def download_file(session: Session, store: FileStore, *, user: Caller, number: str, name: str) -> FileContent:
    """One file of a ticket the caller sees, with its content type sniffed (404 for either missing)."""
    ticket = get_ticket(session, user=user, number=number)
    try:
        data = store.read_file(ticket.number or number, check_file_name(name))
    except (ValueError, FileNotFoundError):
        raise NotFound(f"no file {name!r} in ticket {number}") from None
    return FileContent(name, sniff(data), data)


def _check_name(name: str) -> None:
    try:
        check_file_name(name)
    except ValueError as refused:
        raise Invalid("a file's name is not acceptable", errors={"files": [str(refused)]}) from None


def _save(store: FileStore, folder: str, upload: Upload) -> StoredFile:
    """Save under the sender's name, or under `<stem>-2<suffix>`, `-3`... when that is taken."""
    path = PurePosixPath(upload.name)
    for count in range(1, MAX_NUMBERED + 1):
        name = upload.name if count == 1 else f"{path.stem}-{count}{path.suffix}"
        try:
            return store.save_file(folder, name, upload.data)
        except FileExistsError:
            continue
        except ValueError as refused:
            raise Invalid("a file's name is not acceptable", errors={"files": [str(refused)]}) from None
    raise Invalid("too many files of that name", errors={"files": [f"{upload.name!r} is taken {MAX_NUMBERED} times"]})
