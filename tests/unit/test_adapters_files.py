"""Contract tests for FileStore, run against every implementation, plus LocalFolderStore specifics."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.files import FileStore, FolderNotFoundError, LocalFolderStore


@dataclass
class StoreCase:
    """An implementation under test and a way to put a file into one of its folders behind its back."""

    store: FileStore
    add_file: Callable[[str, str], None]


def _local_store(tmp_path: Path) -> StoreCase:
    root = tmp_path / "tickets"
    store = LocalFolderStore(root, "https://files.example/tickets/")

    def add_file(folder: str, filename: str) -> None:
        (root / folder / filename).write_bytes(b"scan")

    return StoreCase(store, add_file)


IMPLEMENTATIONS: dict[str, Callable[[Path], StoreCase]] = {"local": _local_store}

BAD_NAMES = [
    "",
    " ",
    ".",
    "..",
    "../SD-000001",
    "SD/000001",
    "/etc",
    "SD\\000001",
    "..\\..\\x",
    "C:SD-000001",
    "SD-000001\x00",
    "SD-000001\n",
    "SD\t000001",
    "SD-\x7f",
    " SD-000001",
    "x" * 256,
]


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> StoreCase:
    return IMPLEMENTATIONS[request.param](tmp_path)


def test_implements_the_protocol(case: StoreCase) -> None:
    assert isinstance(case.store, FileStore)


def test_create_folder_returns_its_link(case: StoreCase) -> None:
    assert not case.store.folder_exists("SD-000042")

    link = case.store.create_folder("SD-000042")

    assert link == case.store.folder_url("SD-000042")
    assert link.endswith("/SD-000042")
    assert case.store.folder_exists("SD-000042")


def test_create_folder_is_idempotent_and_keeps_contents(case: StoreCase) -> None:
    first = case.store.create_folder("SD-000042")
    case.add_file("SD-000042", "photo.jpg")

    assert case.store.create_folder("SD-000042") == first
    assert case.store.list_files("SD-000042") == ["photo.jpg"]


def test_concurrent_creates_of_one_folder_all_succeed(case: StoreCase) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        links = list(pool.map(case.store.create_folder, ["SD-000007"] * 16))

    assert set(links) == {case.store.folder_url("SD-000007")}


def test_folders_are_separate(case: StoreCase) -> None:
    case.store.create_folder("SD-000001")
    case.store.create_folder("SD-000002")
    case.add_file("SD-000001", "a.txt")

    assert case.store.list_files("SD-000001") == ["a.txt"]
    assert case.store.list_files("SD-000002") == []
    assert case.store.folder_url("SD-000001") != case.store.folder_url("SD-000002")


def test_list_files_is_sorted(case: StoreCase) -> None:
    case.store.create_folder("SD-000042")
    for filename in ["report.pdf", "act.docx", "Серийный номер.png"]:
        case.add_file("SD-000042", filename)

    assert case.store.list_files("SD-000042") == sorted(["report.pdf", "act.docx", "Серийный номер.png"])


def test_list_files_of_a_missing_folder_raises(case: StoreCase) -> None:
    with pytest.raises(FolderNotFoundError):
        case.store.list_files("SD-404404")
    with pytest.raises(FileNotFoundError):  # FolderNotFoundError is also the builtin error
        case.store.list_files("SD-404404")


def test_folder_url_does_not_create_the_folder(case: StoreCase) -> None:
    case.store.folder_url("SD-000042")

    assert not case.store.folder_exists("SD-000042")


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_unsafe_names_are_refused_by_every_method(case: StoreCase, name: str) -> None:
    for method in (case.store.create_folder, case.store.folder_url, case.store.list_files, case.store.folder_exists):
        with pytest.raises(ValueError):
            method(name)


def test_non_string_name_is_refused(case: StoreCase) -> None:
    with pytest.raises(TypeError):
        case.store.create_folder(42)  # type: ignore[arg-type]


# LocalFolderStore specifics


def test_local_root_is_created_and_folders_live_directly_under_it(tmp_path: Path) -> None:
    root = tmp_path / "mnt" / "share" / "tickets"
    store = LocalFolderStore(root, "file:///mnt/share/tickets")

    store.create_folder("SD-000042")

    assert [p.name for p in root.iterdir()] == ["SD-000042"]
    assert (root / "SD-000042").is_dir()
    assert list((root / "SD-000042").iterdir()) == []  # just the folder, nothing written into it


@pytest.mark.parametrize(
    ("base_url", "link"),
    [
        ("file:///srv/tickets", "file:///srv/tickets/SD-000042"),
        ("file:///srv/tickets/", "file:///srv/tickets/SD-000042"),
        ("https://files.example/tickets//", "https://files.example/tickets/SD-000042"),
    ],
)
def test_local_link_is_base_url_slash_name(tmp_path: Path, base_url: str, link: str) -> None:
    assert LocalFolderStore(tmp_path, base_url).create_folder("SD-000042") == link


def test_local_link_percent_encodes_names_that_need_it(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path, "https://files.example/tickets")

    assert store.create_folder("SD 1#2") == "https://files.example/tickets/SD%201%232"
    assert (tmp_path / "SD 1#2").is_dir()


def test_local_accepts_str_root_and_refuses_empty_base_url(tmp_path: Path) -> None:
    assert LocalFolderStore(str(tmp_path), "file:///x").create_folder("SD-1") == "file:///x/SD-1"
    with pytest.raises(ValueError):
        LocalFolderStore(tmp_path, " ")


def test_local_refused_names_leave_the_file_system_alone(tmp_path: Path) -> None:
    root = tmp_path / "root"
    store = LocalFolderStore(root, "file:///root")

    for name in BAD_NAMES:
        with pytest.raises(ValueError):
            store.create_folder(name)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]
    assert list(root.iterdir()) == []


def test_local_plain_file_with_the_folder_name_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "SD-000042").write_text("not a folder")
    store = LocalFolderStore(tmp_path, "file:///t")

    assert not store.folder_exists("SD-000042")
    with pytest.raises(FileExistsError):
        store.create_folder("SD-000042")
    with pytest.raises(FolderNotFoundError):
        store.list_files("SD-000042")


def test_local_list_files_skips_subfolders(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path, "file:///t")
    store.create_folder("SD-000042")
    (tmp_path / "SD-000042" / "sub").mkdir()
    (tmp_path / "SD-000042" / "a.txt").write_text("a")

    assert store.list_files("SD-000042") == ["a.txt"]


def test_save_file_stores_then_reads_and_describes_it(case: StoreCase) -> None:
    saved = case.store.save_file("SD-000042", "photo.png", b"\x89PNG data")

    assert (saved.name, saved.size) == ("photo.png", 9)
    assert case.store.read_file("SD-000042", "photo.png") == b"\x89PNG data"
    assert [(f.name, f.size) for f in case.store.describe_files("SD-000042")] == [("photo.png", 9)]
    assert case.store.list_files("SD-000042") == ["photo.png"]  # no hidden working file left behind


def test_save_file_never_replaces_a_file_of_that_name(case: StoreCase) -> None:
    case.store.save_file("SD-000042", "image.jpg", b"first")

    with pytest.raises(FileExistsError):
        case.store.save_file("SD-000042", "image.jpg", b"second")
    assert case.store.read_file("SD-000042", "image.jpg") == b"first"


def test_describe_files_of_a_missing_folder_is_empty(case: StoreCase) -> None:
    assert case.store.describe_files("SD-000043") == []


def test_read_file_of_a_missing_file_raises(case: StoreCase) -> None:
    case.store.create_folder("SD-000042")
    with pytest.raises(FileNotFoundError):
        case.store.read_file("SD-000042", "nothing.txt")


@pytest.mark.parametrize("bad", [*BAD_NAMES, ".htaccess", ".upload-x"])
def test_file_names_that_could_leave_the_folder_or_hide_are_refused(case: StoreCase, bad: str) -> None:
    with pytest.raises(ValueError):
        case.store.save_file("SD-000042", bad, b"x")
    with pytest.raises(ValueError):
        case.store.read_file("SD-000042", bad)
