"""Tests for flare_api.job_folder: the upload zip, job folder resolution and safe extraction."""

from __future__ import annotations

import base64
import io
import os
import stat
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flare_api.errors import InvalidJobDefinition, ProtocolError
from flare_api.job_folder import (
    resolve_job_folder,
    safe_extract,
    submit_command_args,
    unsafe_entry_reason,
    zip_job_folder,
)

FIXTURE_FILES = {
    "meta.json": b'{"name": "hello"}\n',
    "README.md": b"readme\n",
    ".hidden": b"b\n",
    "app_a/config/config_fed_server.json": b"s\n",
    "app_a/config/config_fed_client.json": b"c\n",
    "app_a/custom/model.py": b"x=1\n",
    "app_a/custom/pkg/__init__.py": b"\n",
    "app_b/config/config_fed_client.json": b"c\n",
    "Zdir/z.txt": b"z\n",
}
FIXTURE_EMPTY_DIRS = ["empty"]

#: nvflare 2.3.12 ``zip_directory_to_bytes(parent, "hello")`` on this fixture (ext4, the file system's order).
NVFLARE_ENTRIES = [
    "hello/.hidden",
    "hello/README.md",
    "hello/meta.json",
    "hello/app_b/",
    "hello/empty/",
    "hello/Zdir/",
    "hello/app_a/",
    "hello/app_b/config/",
    "hello/app_b/config/config_fed_client.json",
    "hello/Zdir/z.txt",
    "hello/app_a/config/",
    "hello/app_a/custom/",
    "hello/app_a/config/config_fed_server.json",
    "hello/app_a/config/config_fed_client.json",
    "hello/app_a/custom/model.py",
    "hello/app_a/custom/pkg/",
    "hello/app_a/custom/pkg/__init__.py",
]

#: Ours: the same walk, with names sorted inside each directory.
EXPECTED_ENTRIES = [
    "hello/.hidden",
    "hello/README.md",
    "hello/meta.json",
    "hello/Zdir/",
    "hello/app_a/",
    "hello/app_b/",
    "hello/empty/",
    "hello/Zdir/z.txt",
    "hello/app_a/config/",
    "hello/app_a/custom/",
    "hello/app_a/config/config_fed_client.json",
    "hello/app_a/config/config_fed_server.json",
    "hello/app_a/custom/model.py",
    "hello/app_a/custom/pkg/",
    "hello/app_a/custom/pkg/__init__.py",
    "hello/app_b/config/",
    "hello/app_b/config/config_fed_client.json",
]


def make_fixture(parent: Path, name: str = "hello") -> Path:
    root = parent / name
    for rel, data in FIXTURE_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for rel in FIXTURE_EMPTY_DIRS:
        (root / rel).mkdir(parents=True)
    return root


def entries(data: bytes) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.infolist()


def walk_groups(names: list[str]) -> list[tuple[str, list[str]]]:
    """Split an entry list into os.walk groups (directory, its files then subdirectories), checking the shape."""
    top = names[0].split("/")[0]
    pending = [top]
    groups: list[tuple[str, list[str]]] = []
    rest = list(names)
    while pending:
        directory = pending.pop(0)
        children = [n for n in rest if n.rstrip("/").rsplit("/", 1)[0] == directory]
        assert rest[: len(children)] == children, f"children of {directory} are not contiguous"
        rest = rest[len(children) :]
        files = [n for n in children if not n.endswith("/")]
        assert children == files + [n for n in children if n.endswith("/")], f"{directory}: files must come first"
        groups.append((directory, children))
        pending[:0] = [n.rstrip("/") for n in children if n.endswith("/")]
    assert not rest
    return groups


# --- zip layout ------------------------------------------------------------------------------------------


def test_zip_has_flare_entries_in_walk_order(tmp_path: Path) -> None:
    names = [info.filename for info in entries(zip_job_folder(make_fixture(tmp_path)))]
    assert names == EXPECTED_ENTRIES
    assert sorted(names) == sorted(NVFLARE_ENTRIES)
    walk_groups(NVFLARE_ENTRIES)  # the recorded FLARE order has the shape we mirror
    for _, children in walk_groups(names):
        files = [n for n in children if not n.endswith("/")]
        dirs = [n for n in children if n.endswith("/")]
        assert files == sorted(files) and dirs == sorted(dirs)


def test_zip_is_stored_with_contents_and_directory_entries(tmp_path: Path) -> None:
    data = zip_job_folder(make_fixture(tmp_path))
    infos = entries(data)
    assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
    assert "hello/" not in [info.filename for info in infos]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for rel, content in FIXTURE_FILES.items():
            assert archive.read(f"hello/{rel}") == content
        assert archive.getinfo("hello/empty/").is_dir()
        assert stat.S_ISDIR(archive.getinfo("hello/empty/").external_attr >> 16)


def test_zip_writes_nothing_into_the_folder(tmp_path: Path) -> None:
    root = make_fixture(tmp_path)

    def snapshot() -> list[tuple[str, int, int]]:
        return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*"))

    before = snapshot()
    zip_job_folder(root)
    submit_command_args(root)
    assert snapshot() == before
    assert not list(root.rglob(".__nvfl_*"))


def test_zip_of_a_path_with_a_trailing_slash_uses_the_basename(tmp_path: Path) -> None:
    root = make_fixture(tmp_path)
    names = [info.filename for info in entries(zip_job_folder(f"{root}{os.sep}"))]
    assert names == EXPECTED_ENTRIES


def test_old_timestamps_are_clamped_instead_of_crashing(tmp_path: Path) -> None:
    root = make_fixture(tmp_path)
    os.utime(root / "README.md", (0, 0))
    info = next(i for i in entries(zip_job_folder(root)) if i.filename == "hello/README.md")
    assert info.date_time == (1980, 1, 1, 0, 0, 0)


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="needs POSIX symlinks")
def test_links_are_followed_like_flare(tmp_path: Path) -> None:
    root = make_fixture(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"s")
    os.symlink(outside, root / "linked_dir")
    os.symlink(root / "README.md", root / "linked_file")
    with zipfile.ZipFile(io.BytesIO(zip_job_folder(root))) as archive:
        names = archive.namelist()
        assert archive.read("hello/linked_file") == b"readme\n"
    assert "hello/linked_dir/" in names  # os.walk does not descend into a linked directory
    assert "hello/linked_dir/secret.txt" not in names


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_refused_instead_of_hanging(tmp_path: Path) -> None:
    root = make_fixture(tmp_path)
    os.mkfifo(root / "pipe")
    with pytest.raises(InvalidJobDefinition, match="not a regular file or folder"):
        zip_job_folder(root)


def test_zip_of_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidJobDefinition, match="is not a valid folder"):
        zip_job_folder(tmp_path / "nope")


def test_submit_command_args(tmp_path: Path) -> None:
    root = make_fixture(tmp_path, "my job")
    name, text = submit_command_args(root)
    assert name == "my job"
    assert "\n" not in text and len(text) % 4 == 0
    assert base64.b64decode(text, validate=True) == zip_job_folder(root)


# --- resolve_job_folder ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", None])
def test_resolve_requires_a_path(value: Optional[str], tmp_path: Path) -> None:
    with pytest.raises(InvalidJobDefinition) as caught:
        resolve_job_folder(value, tmp_path)  # type: ignore[arg-type]
    assert str(caught.value) == "job_definition_path is required but not specified."


def test_resolve_rejects_other_types(tmp_path: Path) -> None:
    with pytest.raises(InvalidJobDefinition) as caught:
        resolve_job_folder(5, tmp_path)  # type: ignore[arg-type]
    assert str(caught.value) == "job_definition_path must be str but got <class 'int'>."


@pytest.mark.parametrize("value", ["nope", "nope/", "README.md"])
def test_resolve_rejects_a_non_folder(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_fixture(tmp_path)
    monkeypatch.chdir(tmp_path / "hello")
    with pytest.raises(InvalidJobDefinition) as caught:
        resolve_job_folder(value, tmp_path)
    assert str(caught.value) == f"job_definition_path '{value}' is not a valid folder"


def test_resolve_under_upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upload = tmp_path / "transfer"
    make_fixture(upload)
    monkeypatch.chdir(tmp_path)
    assert resolve_job_folder("hello", upload) == upload / "hello"
    assert resolve_job_folder("hello/", "transfer") == upload / "hello"
    assert resolve_job_folder(Path("hello"), upload) == upload / "hello"


def test_absolute_path_overrides_upload_dir(tmp_path: Path) -> None:
    root = make_fixture(tmp_path / "elsewhere")
    assert resolve_job_folder(str(root) + "/", tmp_path / "transfer") == root


def test_cwd_relative_folder_is_used_when_upload_dir_lacks_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_fixture(tmp_path / "work")
    (tmp_path / "transfer").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    resolved = resolve_job_folder("hello", tmp_path / "transfer")
    assert resolved == tmp_path / "work" / "hello"
    assert resolved.is_absolute()


def test_upload_dir_wins_when_both_exist_as_flare_uploads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_fixture(tmp_path / "work")
    make_fixture(tmp_path / "transfer")
    monkeypatch.chdir(tmp_path / "work")
    assert resolve_job_folder("hello", tmp_path / "transfer") == tmp_path / "transfer" / "hello"


def test_dot_resolves_to_a_named_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_fixture(tmp_path / "work")
    monkeypatch.chdir(root / "app_a")
    resolved = resolve_job_folder("..", tmp_path / "nowhere")
    assert resolved == root
    assert submit_command_args(resolved)[0] == "hello"


# --- safe_extract ---------------------------------------------------------------------------------------


def zip_of(items: list[tuple[str, bytes]], symlink: Optional[str] = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in items:
            archive.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc")
    return buffer.getvalue()


def test_extract_round_trip_and_overwrite(tmp_path: Path) -> None:
    data = zip_job_folder(make_fixture(tmp_path / "src"))
    dest = tmp_path / "dest"
    (dest / "hello").mkdir(parents=True)
    (dest / "hello" / "README.md").write_bytes(b"old")
    (dest / "keep.txt").write_bytes(b"kept")
    written = safe_extract(data, dest)
    assert written == [dest.resolve() / name.rstrip("/") for name in EXPECTED_ENTRIES]
    for rel, content in FIXTURE_FILES.items():
        assert (dest / "hello" / rel).read_bytes() == content
    assert (dest / "hello" / "empty").is_dir()
    assert (dest / "keep.txt").read_bytes() == b"kept"  # nothing is cleaned first, as in FLARE


def test_extract_creates_the_destination(tmp_path: Path) -> None:
    safe_extract(zip_of([("a/b.txt", b"x")]), tmp_path / "new" / "dir")
    assert (tmp_path / "new" / "dir" / "a" / "b.txt").read_bytes() == b"x"


@pytest.mark.parametrize(
    "name", ["../evil", "a/../../evil", "/abs/evil", "\\evil", "a\\..\\..\\evil", "C:\\evil", "C:evil", "a/.."]
)
def test_extract_refuses_traversal_and_writes_nothing(name: str, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(ProtocolError) as caught:
        safe_extract(zip_of([("ok.txt", b"fine"), (name, b"x")]), dest)
    assert repr(name) in str(caught.value)
    assert list(tmp_path.rglob("*")) == [dest]


def test_extract_refuses_symlink_entries(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match=r"'job/link'.*symbolic link"):
        safe_extract(zip_of([("job/a.txt", b"a")], symlink="job/link"), tmp_path)
    assert not (tmp_path / "job").exists()


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="needs POSIX symlinks")
def test_extract_refuses_to_write_through_an_existing_link_out_of_dest(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    outside = tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    os.symlink(outside, dest / "job")
    with pytest.raises(ProtocolError, match=r"'job/x\.txt'.*outside"):
        safe_extract(zip_of([("job/x.txt", b"x")]), dest)
    assert list(outside.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="needs POSIX symlinks")
def test_extract_replaces_a_file_link_instead_of_following_it(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    victim = dest / "victim.txt"
    victim.write_bytes(b"victim")
    os.symlink(victim, dest / "x.txt")
    safe_extract(zip_of([("x.txt", b"new")]), dest)
    assert victim.read_bytes() == b"victim"
    assert not (dest / "x.txt").is_symlink()
    assert (dest / "x.txt").read_bytes() == b"new"


def test_extract_caps(tmp_path: Path) -> None:
    data = zip_of([("a", bytes(100)), ("b", bytes(100))])
    with pytest.raises(ProtocolError, match="2 zip entries, more than the limit of 1"):
        safe_extract(data, tmp_path, max_entries=1)
    with pytest.raises(ProtocolError, match="expands to 200 bytes, more than the limit of 150"):
        safe_extract(data, tmp_path, max_total_bytes=150)
    assert list(tmp_path.iterdir()) == []


def test_extract_bad_zip(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="not a valid zip: BadZipFile: File is not a zip file"):
        safe_extract(b"garbage", tmp_path)


def test_unsafe_entry_reason() -> None:
    assert unsafe_entry_reason("job/app/config/") is None
    assert unsafe_entry_reason("job/..hidden/x..y") is None
    assert unsafe_entry_reason("") == "empty name"
    assert unsafe_entry_reason("/x") == "absolute path"
    assert unsafe_entry_reason("D:x") == "absolute path"
    assert unsafe_entry_reason("x/../y") == "'..' path segment"


SEGMENTS = st.one_of(
    st.sampled_from(["..", ".", "", "a", "b", "C:", "\\", "..\\..", "/"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=6),
)


ENTRY_NAMES = st.lists(SEGMENTS, min_size=1, max_size=5).map("/".join).filter(bool)


@given(st.lists(ENTRY_NAMES, min_size=1, max_size=6, unique=True))
def test_random_entry_names_never_write_outside_dest(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as parent:
        dest = Path(parent) / "dest"
        try:
            written = safe_extract(zip_of([(name, b"x") for name in names]), dest)
        except ProtocolError:
            written = []
        except OSError:  # e.g. an entry "a" and an entry "a/b": a local conflict, not an escape
            written = []
        for path in Path(parent).rglob("*"):
            assert path == dest or dest.resolve() in path.resolve().parents
        for path in written:
            assert dest.resolve() in path.parents
