"""Package a job folder for ``submit_job`` and unpack a downloaded job, as FLARE 2.3's admin client does.

The zip matches ``zip_directory_to_bytes`` (reference 6.1 step 4): in memory, ZIP_STORED, entries named
``<basename>/<relative path>``, a ``name/`` entry for every subdirectory but none for the top folder,
and top-down walk order with each directory's files before its subdirectory entries.

Deliberate differences from FLARE 2.3:

* nothing is ever written into the user's folder (FLARE signs it in place in secure mode);
* names inside each directory are sorted, so the same tree always gives the same entry order (FLARE
  takes the file system's order; the server does not depend on it);
* timestamps before 1980 are clamped instead of crashing, and special files (FIFOs, sockets, devices)
  or unreadable entries raise :class:`InvalidJobDefinition` instead of hanging or leaking ``OSError``;
* a CWD-relative folder that does not exist under ``upload_dir`` is used as it is (FLARE re-joins it to
  ``upload_dir`` and fails with "missing meta from result");
* :func:`safe_extract` refuses hostile entries where FLARE's ``extractall`` silently rewrites them.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PureWindowsPath
from typing import Optional, Union

from .errors import InvalidJobDefinition, ProtocolError

__all__ = [
    "MAX_EXTRACT_BYTES",
    "MAX_EXTRACT_ENTRIES",
    "is_symlink_entry",
    "resolve_job_folder",
    "safe_extract",
    "submit_command_args",
    "unsafe_entry_reason",
    "zip_job_folder",
]

PathArg = Union[str, "os.PathLike[str]"]

#: Default caps for :func:`safe_extract`: declared uncompressed bytes and number of entries.
MAX_EXTRACT_BYTES = 1 << 30
MAX_EXTRACT_ENTRIES = 100_000

_COPY_CHUNK = 1 << 20


def resolve_job_folder(path: PathArg, upload_dir: PathArg) -> Path:
    """The job folder ``Session.submit_job(path)`` uploads, as an absolute path (reference 8.5, 6.1 step 2).

    FLARE's argument checks and messages; then ``upload_dir/path`` (an absolute ``path`` overrides it),
    which is what FLARE uploads, or else ``path`` relative to the CWD, which FLARE accepts but then fails.
    """
    if not path:
        raise InvalidJobDefinition("job_definition_path is required but not specified.")
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str):
        raise InvalidJobDefinition(f"job_definition_path must be str but got {type(path)}.")
    stripped = text.rstrip("/") or text
    for candidate in (os.path.join(os.fspath(upload_dir), stripped), stripped):
        if os.path.isdir(candidate):
            return Path(os.path.abspath(candidate))
    raise InvalidJobDefinition(f"job_definition_path '{text}' is not a valid folder")


def zip_job_folder(folder: PathArg) -> bytes:
    """The folder as FLARE's client zips it for upload: STORED, entries under ``<basename>/``."""
    root = Path(os.path.abspath(os.fspath(folder)))
    if not root.is_dir():
        raise InvalidJobDefinition(f"job_definition_path '{os.fspath(folder)}' is not a valid folder")
    if not root.name:
        raise InvalidJobDefinition(f"job folder '{root}' has no name to use as the job folder")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, strict_timestamps=False) as archive:
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()  # sorting in place also fixes the order os.walk descends in
            files.sort()
            prefix = "/".join((root.name, *Path(directory).relative_to(root).parts))
            for name in files + subdirs:
                _add_entry(archive, os.path.join(directory, name), f"{prefix}/{name}")
    return buffer.getvalue()


def _add_entry(archive: zipfile.ZipFile, path: str, arcname: str) -> None:
    """Add one file or directory entry; links are followed, as ``ZipFile.write`` does for FLARE."""
    try:
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise InvalidJobDefinition(f"cannot zip '{path}': not a regular file or folder")
        archive.write(path, arcname)
    except OSError as exc:
        raise InvalidJobDefinition(f"cannot zip '{path}': {exc}") from exc


def submit_command_args(folder: Path) -> tuple[str, str]:
    """``(folder basename, base64 zip)``: the two arguments of ``job_mgmt.submit_job`` (standard, padded)."""
    root = Path(os.path.abspath(folder))
    return root.name, base64.b64encode(zip_job_folder(root)).decode("ascii")


def unsafe_entry_reason(name: str) -> Optional[str]:
    """Why a zip entry name could land outside the extraction folder, or None if it cannot.

    Backslashes count as separators and drive letters as absolute, so the answer is the same on every OS.
    """
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL character in name"
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "'..' path segment"
    return None


def is_symlink_entry(info: zipfile.ZipInfo) -> bool:
    """True for an entry recorded as a symbolic link (Unix mode bits in ``external_attr``)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def safe_extract(
    zip_bytes: bytes,
    dest: PathArg,
    *,
    max_total_bytes: int = MAX_EXTRACT_BYTES,
    max_entries: int = MAX_EXTRACT_ENTRIES,
) -> list[Path]:
    """Unzip a downloaded job into ``dest`` (created if missing), overwriting files like FLARE.

    Returns the path of every entry written, in zip order, under the resolved ``dest``.

    Every entry is checked before anything is written: an absolute or ``..`` name, a symlink entry, a
    path through an existing link out of ``dest``, or exceeding the caps raises :class:`ProtocolError`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ProtocolError(f"downloaded job is not a valid zip: {type(exc).__name__}: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise ProtocolError(f"downloaded job has {len(infos)} zip entries, more than the limit of {max_entries}")
        total = sum(info.file_size for info in infos)
        if total > max_total_bytes:
            raise ProtocolError(f"downloaded job expands to {total} bytes, more than the limit of {max_total_bytes}")
        root = Path(dest)
        root.mkdir(parents=True, exist_ok=True)
        base = root.resolve()
        plan = [(info, _plan_target(base, info)) for info in infos]
        written: list[Path] = []
        for info, target in plan:
            if target is None:
                continue
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                _write_member(archive, info, target)
            written.append(target)
    return written


def _plan_target(base: Path, info: zipfile.ZipInfo) -> Optional[Path]:
    """Where an entry goes under ``base`` (None for a name with no path, like ``./``), or ProtocolError."""
    reason = unsafe_entry_reason(info.filename)
    if reason is None and is_symlink_entry(info):
        reason = "symbolic link entry"
    if reason is None:
        parts = [part for part in info.filename.split("/") if part not in ("", ".")]
        if not parts:
            return None
        target = base.joinpath(*parts)
        if not _stays_inside(base, target if info.is_dir() else target.parent):
            reason = "resolves outside the destination folder through an existing link"
        else:
            return target
    raise ProtocolError(f"refusing to extract zip entry {info.filename!r}: {reason}")


def _stays_inside(base: Path, path: Path) -> bool:
    """Whether ``path``'s deepest existing ancestor (links resolved) is ``base`` or inside it."""
    probe = path
    while not os.path.lexists(probe) and probe != base:
        probe = probe.parent
    real = probe.resolve()
    return real == base or base in real.parents


def _write_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Write one file entry; an existing link at the target is replaced, never written through."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    try:
        with archive.open(info) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, _COPY_CHUNK)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ProtocolError(f"cannot extract zip entry {info.filename!r}: {type(exc).__name__}: {exc}") from exc
