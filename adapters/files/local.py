"""Ticket folders on a local or mounted file system."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from adapters.files.base import FolderNotFoundError, StoredFile, check_file_name, check_folder_name


class LocalFolderStore:
    """Folders under one root directory, linked as ``base_url/<name>``."""

    def __init__(self, root: str | os.PathLike[str], base_url: str) -> None:
        """Use root (created if missing) for folders and base_url for their links."""
        if not base_url.strip():
            raise ValueError("base_url must not be empty")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalFolderStore(root={str(self.root)!r}, base_url={self.base_url!r})"

    def create_folder(self, name: str) -> str:
        """Create the folder if it is missing and return its link."""
        # exist_ok makes a retried job, or two workers racing on one ticket, both succeed.
        self._path(name).mkdir(exist_ok=True)
        return self.folder_url(name)

    def folder_url(self, name: str) -> str:
        """Return ``base_url/<name>``; the name is percent-encoded when it needs to be."""
        return f"{self.base_url}/{quote(check_folder_name(name), safe='')}"

    def list_files(self, name: str) -> list[str]:
        """Return the sorted names of the regular files in the folder."""
        path = self._path(name)
        if not path.is_dir():
            raise FolderNotFoundError(f"folder {name!r} does not exist in {self.root}")
        return sorted(entry.name for entry in path.iterdir() if entry.is_file())

    def folder_exists(self, name: str) -> bool:
        """Tell whether the folder exists (a plain file of that name does not count)."""
        return self._path(name).is_dir()

    def describe_files(self, name: str) -> list[StoredFile]:
        """Return the regular files of the folder (not the hidden ones being written), sorted by name."""
        path = self._path(name)
        if not path.is_dir():
            return []
        found = []
        for entry in sorted(path.iterdir()):
            if entry.name.startswith(".") or not entry.is_file():
                continue
            status = entry.stat()
            found.append(StoredFile(entry.name, status.st_size, datetime.fromtimestamp(status.st_mtime, timezone.utc)))
        return found

    def save_file(self, folder: str, name: str, data: bytes) -> StoredFile:
        """Write the content to a hidden file of the folder, then link it under its name: a reader never sees half a
        file, and the link fails (FileExistsError) rather than replace a file of that name."""
        path = self._path(folder)
        path.mkdir(exist_ok=True)
        target = path / check_file_name(name)
        handle, temporary = tempfile.mkstemp(dir=path, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as written:
                written.write(data)
            os.link(temporary, target)
        finally:
            os.unlink(temporary)
        status = target.stat()
        return StoredFile(target.name, status.st_size, datetime.fromtimestamp(status.st_mtime, timezone.utc))

    def read_file(self, folder: str, name: str) -> bytes:
        """Return the content of the file; FileNotFoundError when it is missing."""
        target = self._path(folder) / check_file_name(name)
        if not target.is_file():
            raise FileNotFoundError(f"no file {name!r} in folder {folder!r}")
        return target.read_bytes()

    def _path(self, name: str) -> Path:
        return self.root / check_folder_name(name)
