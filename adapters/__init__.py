"""Integrations behind small typed protocols, each with a real default implementation."""

from adapters.factory import FILE_STORE_KINDS, MAILER_KINDS, build_file_store, build_mailer
from adapters.files import FileStore, FolderNotFoundError, LocalFolderStore
from adapters.mail import ConsoleMailer, Mailer, MailError, OutgoingMail, SmtpMailer

__all__ = [
    "FILE_STORE_KINDS",
    "MAILER_KINDS",
    "ConsoleMailer",
    "FileStore",
    "FolderNotFoundError",
    "LocalFolderStore",
    "MailError",
    "Mailer",
    "OutgoingMail",
    "SmtpMailer",
    "build_file_store",
    "build_mailer",
]
