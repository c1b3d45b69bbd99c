"""Ticket folders on a local or mounted file system."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from adapters.files.base import FolderNotFoundError, check_folder_name


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

    def _path(self, name: str) -> Path:
        return self.root / check_folder_name(name)
