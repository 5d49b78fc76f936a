"""The server's side of ``submit_job <F> <b64zip>``: decode, legacy conversion, validation (reference 7.4, 7.5).

Three stages, each failing the way FLARE 2.3's server does:

1. base64 (ASCII encode, then the non-validating ``b64decode``) and conversion (7.4): any exception
   becomes :class:`UploadCrash`, answered ``Exception Occurred: <Type>: <msg>``;
2. validation (7.5, same checks, order and messages) reads ``<F>/meta.json`` of the *converted* zip
   again, with ``F`` the command argument: a ``ValueError`` (including ``JSONDecodeError`` and
   ``UnicodeDecodeError``) becomes :class:`JobDefinitionError` (status ``invalid_job_def``);
3. any other exception in validation becomes :class:`SubmitCrash`, answered
   ``Exception occurred trying to submit job: <Type>: <msg>`` (status ``internal_error``). The
   reference does not say so, but a deploy_map with no client site (e.g. ``{"app": ["server"]}``)
   always ends here with ``StopIteration``, as on the real server.

Ours, not FLARE's (no sane upload is affected; FLARE's client never produces these): before anything
is decompressed, the zip's central directory is checked against the limits below, and an absolute,
drive-letter or ``..`` entry name, a symlink entry, two entries with one name (also after the legacy
wrapping) or a name that is both a file and a folder is refused with :class:`UnsafeUpload`, a
:class:`JobDefinitionError` (FLARE stores such zips). These checks are the server's own, independent of
the client's ``flare_api.job_folder`` ones, so a bug in one is caught by the other. A zip the server
rewrites is copied entry by entry (never whole in memory) with every entry STORED (FLARE keeps each
entry's method; nothing visible depends on it); an unchanged one is kept byte for byte.
Mandatory-client sets in messages are listed sorted, since Python's set order changes from run to run.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import posixpath
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from typing import Any, Optional

__all__ = [
    "MAX_COMPRESSION_RATIO",
    "MAX_ENTRIES",
    "MAX_META_BYTES",
    "MAX_NAME_BYTES",
    "MAX_TOTAL_BYTES",
    "JobDefinitionError",
    "JobPackage",
    "SubmitCrash",
    "UnsafeUpload",
    "UploadCrash",
    "convert_legacy_upload",
    "decode_upload",
    "legacy_meta_text",
    "validate_job_meta",
]

ALL_SITES = "@ALL"
SERVER_SITE = "server"
META_FILE = "meta.json"
SERVER_CONFIG = "config_fed_server.json"
CLIENT_CONFIG = "config_fed_client.json"
JOB_FOLDER_NAME = "job_folder_name"
MAX_CLIENTS = 1_000_000

#: Caps on an uploaded zip (ours), checked on the central directory before anything is decompressed:
#: number of entries, total declared uncompressed size, ``meta.json`` size, entry name length (UTF-8
#: bytes) and one path segment's length, and an entry's uncompressed/compressed ratio (for entries
#: above :data:`RATIO_FLOOR_BYTES`; FLARE's client uploads STORED, ratio 1).
MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 128 * 1024 * 1024
MAX_META_BYTES = 1024 * 1024
MAX_NAME_BYTES = 1024
MAX_SEGMENT_BYTES = 255
MAX_COMPRESSION_RATIO = 100
RATIO_FLOOR_BYTES = 1024 * 1024
_COPY_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadCrash(Exception):
    """The real server crashes while decoding or converting the upload (bad base64, bad zip, bad JSON).

    The dispatcher replies ``Exception Occurred: <type(original).__name__>: <original>``.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"{type(original).__name__}: {original}")
        self.original = original


class JobDefinitionError(ValueError):
    """Validation failure (reference 7.5): ``str(exc)`` is the message, ``reply_text`` what FLARE sends."""

    def __init__(self, message: str, type_name: str = "ValueError") -> None:
        super().__init__(message)
        self.type_name = type_name

    @property
    def reply_text(self) -> str:
        """The error item text and meta ``info`` (``ValueError: <message>``), status ``invalid_job_def``."""
        return f"{self.type_name}: {self}"


class UnsafeUpload(JobDefinitionError):
    """Ours, not FLARE's: a hostile zip (bomb, path traversal, symlink, duplicate names), refused early."""


class SubmitCrash(Exception):
    """Validation raised something other than ``ValueError``; FLARE's ``submit_job`` catches and reports it."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(f"{type(original).__name__}: {original}")
        self.original = original

    @property
    def error_text(self) -> str:
        """The error item: ``Exception occurred trying to submit job: <Type>: <msg>``."""
        return f"Exception occurred trying to submit job: {self}"

    @property
    def info(self) -> str:
        """Meta ``info`` next to status ``internal_error``: ``exception <class '...'> occurred``."""
        return f"exception {type(self.original)} occurred"


@dataclass(frozen=True)
class JobPackage:
    """An accepted upload: the argument, the validated meta, and the content as the server stores it."""

    #: ``F``: the ``<folder_name>`` argument of the command.
    folder_name: str
    #: ``<F>/meta.json`` of the converted zip, parsed, key order kept (the server stores this dict).
    meta: dict
    #: The converted zip; downloads unzip it into ``<id>/job/``.
    content: bytes
    #: App name → sorted list of its deploy_map sites.
    apps: dict


def decode_upload(folder_name: str, b64: str) -> JobPackage:
    """Run the three stages of the real ``submit_job`` on ``<folder_name> <b64>`` and return the package."""
    try:
        data = base64.b64decode(b64.encode("ascii"))
    except Exception as exc:
        raise UploadCrash(exc) from exc
    content = convert_legacy_upload(data, folder_name)
    meta, entries = _read_converted(folder_name, content)
    validate_job_meta(folder_name, meta, entries)
    apps = {app: sorted(sites) for app, sites in meta["deploy_map"].items()}
    return JobPackage(folder_name, meta, content, apps)


def convert_legacy_upload(data: bytes, folder_name: str = "") -> bytes:
    """Stage 1 after base64 (reference 7.4): the zip in job layout; ``folder_name`` only names errors."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:
        raise UploadCrash(exc) from exc
    with archive:
        infos = archive.infolist()
        _refuse_hostile(infos, folder_name)
        try:
            return _convert(archive, infos, data, folder_name)
        except UnsafeUpload:
            raise
        except Exception as exc:
            raise UploadCrash(exc) from exc


def _refuse_hostile(infos: list[zipfile.ZipInfo], folder_name: str) -> None:
    """Every cap and name rule, from the central directory alone (declared sizes bound what reading
    yields: ``zipfile`` stops at the declared size and fails the CRC check if the data says otherwise)."""
    if len(infos) > MAX_ENTRIES:
        raise UnsafeUpload(f"upload has {len(infos)} zip entries, more than the limit of {MAX_ENTRIES}")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise UnsafeUpload(f"upload expands to {total} bytes, more than the limit of {MAX_TOTAL_BYTES}")
    seen: set[str] = set()
    folders: set[str] = set()
    for info in infos:
        reason = entry_refusal(info)
        if reason is None and info.filename in seen:
            reason = "duplicate entry name"
        if reason is not None:
            raise UnsafeUpload(f"unsafe zip entry {info.filename!r} ({reason}) for job {folder_name}")
        seen.add(info.filename)
        parts = info.filename.rstrip("/").split("/")
        folders.update("/".join(parts[:end]) for end in range(1, len(parts) if not info.is_dir() else len(parts) + 1))
    for name in seen:
        if not name.endswith("/") and name in folders:
            raise UnsafeUpload(f"unsafe zip entry {name!r} (both a file and a folder) for job {folder_name}")


def entry_refusal(info: zipfile.ZipInfo) -> Optional[str]:
    """Why the server refuses one zip entry (name, link, size, ratio), or None.

    The server's own rules, deliberately not shared with the client's ``safe_extract``: backslashes
    count as separators and a drive letter as absolute, so the answer does not depend on the OS.
    """
    name = info.filename
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL character in name"
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_NAME_BYTES:
        return f"name longer than {MAX_NAME_BYTES} bytes"
    segments = name.replace("\\", "/").split("/")
    if name[0] in "/\\" or _DRIVE.match(name):
        return "absolute path"
    if ".." in segments:
        return "'..' path segment"
    if any(len(segment.encode("utf-8", "surrogateescape")) > MAX_SEGMENT_BYTES for segment in segments):
        return f"path segment longer than {MAX_SEGMENT_BYTES} bytes"
    if stat.S_IFMT(info.external_attr >> 16) == stat.S_IFLNK:
        return "symbolic link entry"
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        return f"compression ratio above {MAX_COMPRESSION_RATIO}:1"
    return None


def _zip_meta_path(folder: str) -> str:
    """``normpath_for_zip(os.path.join(folder, "meta.json"))`` on the (POSIX) server."""
    return posixpath.normpath(posixpath.join(folder, META_FILE)).replace("\\", "/")


def _convert(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], data: bytes, folder_name: str) -> bytes:
    """The conversion proper; every exception it raises (IndexError, BadZipFile, JSONDecodeError...) is a crash."""
    folder = infos[0].filename.split("/")[0]  # an empty zip raises IndexError, as on the server
    meta_path = _zip_meta_path(folder)
    meta_info = next((info for info in infos if info.filename == meta_path), None)
    entries: list[tuple[str, Optional[zipfile.ZipInfo], bytes]]
    if meta_info is not None:
        if meta_info.file_size > MAX_META_BYTES:
            raise UnsafeUpload(f"{meta_path} is larger than {MAX_META_BYTES} bytes for job {folder_name}")
        meta = json.loads(archive.read(meta_info))
        if JOB_FOLDER_NAME in meta:
            return data
        meta[JOB_FOLDER_NAME] = folder  # TypeError for a list or string meta, as on the server
        entries = [(meta_path, None, json.dumps(meta).encode("utf-8"))]
        entries += [(i.filename, i, b"") for i in infos if i.filename != meta_path]
        comment = archive.comment
    else:
        entries = [(meta_path, None, legacy_meta_text(folder).encode("utf-8"))]
        entries += [(f"{folder}/{i.filename}", i, b"") for i in infos]
        comment = b""
    names = [name for name, _, _ in entries]
    if len(set(names)) != len(names):
        counts = collections.Counter(names)
        clash = next(name for name in names if counts[name] > 1)
        raise UnsafeUpload(f"unsafe zip entry {clash!r} (duplicate entry name after conversion) for job {folder_name}")
    return _write_zip(archive, entries, comment)


def legacy_meta_text(folder: str) -> str:
    """The ``meta.json`` text the server writes for a legacy app, byte for byte (``folder`` is not escaped)."""
    fields = [
        f'"name": "{folder}"',
        f'"{JOB_FOLDER_NAME}": "{folder}"',
        '"resource_spec": { }',
        f'"deploy_map": {{ "{folder}": ["{ALL_SITES}"] }}',
        '"min_clients": 1',
    ]
    return "{\n" + ",\n".join(" " * 17 + field for field in fields) + "\n" + " " * 15 + "}\n" + " " * 12


def _write_zip(
    source: zipfile.ZipFile, entries: list[tuple[str, Optional[zipfile.ZipInfo], bytes]], comment: bytes
) -> bytes:
    """A STORED zip of ``(name, original info or None, data)``: new entries hold ``data``; originals are
    streamed from ``source`` in chunks, keeping their time and attributes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for name, original, payload in entries:
            if original is None:
                out.writestr(name, payload)
                continue
            info = zipfile.ZipInfo(name, date_time=original.date_time)
            info.external_attr = original.external_attr
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = original.file_size
            with source.open(original) as reader, out.open(info, "w") as writer:
                shutil.copyfileobj(reader, writer, _COPY_CHUNK)
        out.comment = comment
    return buffer.getvalue()


def _read_converted(folder_name: str, content: bytes) -> tuple[Any, set[str]]:
    """Validation's own read of ``<F>/meta.json`` (None if absent) and the entry names of the converted zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            meta_file = f"{folder_name}/{META_FILE}"
            meta = json.loads(archive.read(meta_file)) if meta_file in names else None
            return meta, set(names)
    except ValueError as exc:
        raise JobDefinitionError(str(exc), type(exc).__name__) from exc
    except Exception as exc:
        raise SubmitCrash(exc) from exc


def validate_job_meta(folder_name: str, meta: dict, entries: set[str]) -> None:
    """Reference 7.5 in order; raises JobDefinitionError, or SubmitCrash where the real server crashes.

    ``meta`` may be any parsed JSON (or None when ``<F>/meta.json`` is absent); ``entries`` holds the
    converted zip's entry names, directory entries with their trailing ``/``.
    """
    try:
        _validate(folder_name, meta, entries)
    except JobDefinitionError:
        raise
    except ValueError as exc:
        raise JobDefinitionError(str(exc), type(exc).__name__) from exc
    except Exception as exc:
        raise SubmitCrash(exc) from exc


def _validate(job: str, meta: Any, entries: set[str]) -> None:
    sites = _check_deploy_map(job, meta)
    _check_apps(job, meta.get("deploy_map"), entries)
    clients = {ALL_SITES} if sites[0] == ALL_SITES else {site for site in sites if site != SERVER_SITE}
    _check_min_clients(job, meta, clients)
    _check_resource_spec(job, meta)
    _check_mandatory_clients(job, meta, clients)


def _names_all_sites(sites: Any) -> bool:
    """Whether ``@ALL`` (any case) is among ``sites``, stopping at the first match as FLARE's ``in`` does."""
    wanted = ALL_SITES.casefold()
    return any(site.casefold() == wanted for site in sites)


def _check_deploy_map(job: str, meta: Any) -> list:
    if not meta:
        raise JobDefinitionError(f"{META_FILE} is empty for job {job}")
    deploy_map = meta.get("deploy_map")
    if not deploy_map:
        raise JobDefinitionError(f"deploy_map is empty for job {job}")
    sites = [site for targets in deploy_map.values() for site in targets]
    if not sites:
        raise JobDefinitionError(f"No site is specified in deploy_map for job {job}")
    if _names_all_sites(sites):
        if len(sites) > 1:
            raise JobDefinitionError(f"No other site can be specified if {ALL_SITES} is used for job {job}")
        return [ALL_SITES]
    if SERVER_SITE not in sites:
        raise JobDefinitionError(f"Missing server site in deploy_map for job {job}")
    # Counter keeps first-seen order, so the list is in deploy_map order, like FLARE's.
    duplicates = [site for site, count in collections.Counter(sites).items() if count > 1]
    if duplicates:
        raise JobDefinitionError(f"Multiple apps to be deployed to following sites {duplicates} for job {job}")
    return sites


def _check_apps(job: str, deploy_map: Any, entries: set[str]) -> None:
    for app, targets in deploy_map.items():
        config_dir = job + "/" + app + "/config/"
        if config_dir not in entries:
            raise JobDefinitionError(f"App {app} in deploy_map doesn't exist for job {job}")
        to_all = _names_all_sites(targets)
        if (to_all or SERVER_SITE in targets) and config_dir + SERVER_CONFIG not in entries:
            raise JobDefinitionError(f"App {app} will be deployed to server but server config is missing")
        to_clients = to_all or [site for site in targets if site != SERVER_SITE]
        if to_clients and config_dir + CLIENT_CONFIG not in entries:
            raise JobDefinitionError(f"App {app} will be deployed to client but client config is missing")


def _min_clients_int(value: Any) -> int:
    """FLARE's conversion: ints (and bools) as they are, else ``int(value)``; failures give a tuple message."""
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (ValueError, TypeError) as exc:  # OverflowError (infinity) escapes, as on the server
        detail = (f"invalid data type for {value},can't not convert to Int", f"{type(exc).__name__}: {exc}")
        raise JobDefinitionError(str(detail)) from exc


def _first(clients: set) -> Any:
    """``next(iter(clients))``: StopIteration for a deploy_map without clients, exactly as FLARE crashes."""
    return next(iter(clients))


def _check_min_clients(job: str, meta: Any, clients: set) -> None:
    value = meta.get("min_clients")
    if value is None:
        return
    count = _min_clients_int(value)
    if count <= 0:
        raise JobDefinitionError(f"min_clients {count} must be positive for job {job}")
    if count > MAX_CLIENTS:
        raise JobDefinitionError(f"min_clients {count} must be less than {MAX_CLIENTS}  for job {job}")
    if _first(clients) != ALL_SITES and len(clients) < count:
        raise JobDefinitionError(f"min {count} clients required for job {job}, found {len(clients)}.")


def _check_resource_spec(job: str, meta: Any) -> None:
    spec = meta.get("resource_spec")
    if spec and not isinstance(spec, dict):
        raise JobDefinitionError(f"Invalid resource_spec for job {job}")
    for key in spec or ():
        if spec[key] and not isinstance(spec[key], dict):
            raise JobDefinitionError(f"value for key {key} in resource spec is expecting a dictionary")


def _check_mandatory_clients(job: str, meta: Any, clients: set) -> None:
    if _first(clients) == ALL_SITES:
        return
    mandatory = meta.get("mandatory_clients")
    if not mandatory:
        return
    wanted = set(mandatory)
    if not wanted.issubset(clients):
        missing = _sorted_set_repr(wanted - clients)
        raise JobDefinitionError(f"Mandatory clients {missing} are not in the deploy_map for job {job}")


def _sorted_set_repr(values: set) -> str:
    """Python's set repr with the elements sorted (by type name, then value), so messages are stable."""
    ordered = sorted(values, key=lambda value: (type(value).__name__, value))
    return "{" + ", ".join(repr(value) for value in ordered) + "}"
