"""The file store capability: one folder per ticket, reachable by a link."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

# 255 bytes is the usual limit for one path component (ext4, XFS, NTFS in UTF-16 units is similar).
_MAX_NAME_BYTES = 255
# Separators and the Windows drive/stream separator: any of them could make a name leave the root.
_FORBIDDEN_CHARS = frozenset("/\\:")


class FolderNotFoundError(FileNotFoundError):
    """The named folder does not exist in the store."""


@dataclass(frozen=True)
class StoredFile:
    """One file of a folder: its name, its size in bytes and when it was stored (UTC)."""

    name: str
    size: int
    stored_at: datetime


@runtime_checkable
class FileStore(Protocol):
    """A place where each ticket gets a folder that people open through a link."""

    def create_folder(self, name: str) -> str:
        """Create the folder if it is missing and return its link; safe to call again."""
        ...

    def folder_url(self, name: str) -> str:
        """Return the link of the folder, whether or not it exists yet."""
        ...

    def list_files(self, name: str) -> list[str]:
        """Return the sorted names of the files in the folder; raise FolderNotFoundError if missing."""
        ...

    def folder_exists(self, name: str) -> bool:
        """Tell whether the folder exists."""
        ...

    def describe_files(self, name: str) -> list[StoredFile]:
        """Return the files of the folder, sorted by name, with size and time; empty when the folder is missing."""
        ...

    def save_file(self, folder: str, name: str, data: bytes) -> StoredFile:
        """Store a new file in the folder (created if missing); FileExistsError when the name is taken.

        Never overwrites: two uploads of the same name both keep their content, under names the caller chooses.
        """
        ...

    def read_file(self, folder: str, name: str) -> bytes:
        """Return the content of one file; FileNotFoundError when it (or the folder) is missing."""
        ...


def check_folder_name(name: str) -> str:
    """Return name unchanged if it is one safe path component, else raise ValueError."""
    if not isinstance(name, str):
        raise TypeError(f"folder name must be a str, not {type(name).__name__}")
    if name.strip() in ("", ".", ".."):
        raise ValueError(f"folder name {name!r} is empty or a relative reference")
    if name != name.strip():
        raise ValueError(f"folder name {name!r} has leading or trailing whitespace")
    bad = sorted({ch for ch in name if ch in _FORBIDDEN_CHARS or unicodedata.category(ch) == "Cc"})
    if bad:
        raise ValueError(f"folder name {name!r} contains forbidden characters {bad!r}")
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES:
        raise ValueError(f"folder name is longer than {_MAX_NAME_BYTES} bytes")
    return name


def check_file_name(name: str) -> str:
    """Return name unchanged if it is a safe file name: one path component (as for folders) not starting with a dot.

    A leading dot would hide the file from listings and could name a store's own working files.
    """
    check_folder_name(name)
    if name.startswith("."):
        raise ValueError(f"file name {name!r} starts with a dot")
    return name
