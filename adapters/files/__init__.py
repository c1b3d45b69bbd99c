"""File store: a folder per ticket (``FileStore``) and its local default."""

from adapters.files.base import FileStore, FolderNotFoundError, check_folder_name
from adapters.files.local import LocalFolderStore

__all__ = ["FileStore", "FolderNotFoundError", "LocalFolderStore", "check_folder_name"]
