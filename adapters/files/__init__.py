"""File store: a folder per ticket (``FileStore``) and its local default."""

from adapters.files.base import FileStore, FolderNotFoundError, StoredFile, check_file_name, check_folder_name
from adapters.files.local import LocalFolderStore

__all__ = ["FileStore", "FolderNotFoundError", "LocalFolderStore", "StoredFile", "check_file_name", "check_folder_name"]
