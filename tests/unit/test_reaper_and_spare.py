"""reset()'s helpers: the reaper frees handed-over garbage (inline when backed up) and the workspace's
spare layout is renamed into place, identical to a layout made in place, whatever the order of calls."""

from __future__ import annotations

import threading
from pathlib import Path

from fakeserver.model.project import Project
from fakeserver.model.reaper import REAPER, Reaper
from fakeserver.model.workspaces import Workspaces


def _tree(root: Path) -> dict[str, bytes]:
    """Every file's bytes, the root's own path written as ``ROOT``."""
    here = str(root).encode()
    return {
        str(p.relative_to(root)): p.read_bytes().replace(here, b"ROOT") for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_reaper_frees_a_batch_in_its_thread() -> None:
    reaper = Reaper(max_pending=2)
    records = {str(i): [i] for i in range(1000)}
    listed = list(range(1000))
    assert reaper.discard([records, listed])
    reaper.drain()
    assert records == {} and listed == []  # emptied by the reaper (we kept a reference to look)


def test_reaper_frees_inline_when_its_backlog_is_full(tmp_path: Path) -> None:
    reaper = Reaper(max_pending=1)
    started, gate = threading.Event(), threading.Event()
    assert reaper.run_soon(lambda: (started.set(), gate.wait()))
    started.wait()  # the thread is busy with that task: the queue is empty
    assert reaper.run_soon(lambda: None)  # fills the one pending slot
    folder = tmp_path / "old"
    folder.mkdir()
    garbage: dict[int, int] = {1: 1}
    assert not reaper.discard([garbage, folder])  # backed up: the caller frees its batch itself
    assert reaper.inline == 1 and garbage == {} and not folder.exists()
    assert not reaper.run_soon(lambda: None)
    gate.set()
    reaper.drain()


def test_renew_swaps_in_a_spare_equal_to_an_in_place_layout(tmp_path: Path) -> None:
    project = Project()
    fresh = Workspaces(tmp_path / "fresh" / "runtime", project)
    ws = Workspaces(tmp_path / "ws" / "runtime", project)
    (ws.server / "log.txt").write_text("old line\n")
    REAPER.drain()  # the spare is ready
    trash = ws.renew()
    assert trash is not None and (trash / ws.server.name / "log.txt").read_text() == "old line\n"
    assert _tree(ws.root) == _tree(fresh.root)
    trash_again = ws.renew()  # at once: the next spare may not be ready, then the layout is made inline
    assert trash_again is not None and _tree(ws.root) == _tree(fresh.root)
    ws.close()
    fresh.close()
    assert [p.name for p in (tmp_path / "ws").iterdir() if "spare" in p.name] == []


def test_a_spare_of_another_root_is_not_used(tmp_path: Path) -> None:
    ws = Workspaces(tmp_path / "a" / "runtime", Project())
    REAPER.drain()
    ws.close()  # stop(): the spare is deleted
    assert not (tmp_path / "a" / ".runtime.spare").exists()
    ws.relocate(tmp_path / "b" / "runtime")
    REAPER.drain()
    ws.renew()
    REAPER.drain()  # the next spare, for this root
    assert (ws.server / "startup").is_dir() and (tmp_path / "b" / ".runtime.spare").is_dir()
    ws.close()
