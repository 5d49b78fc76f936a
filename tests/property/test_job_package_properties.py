"""Properties of the upload path: client zip → server decode keeps every file; any meta fails only in FLARE's ways."""

from __future__ import annotations

import base64
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fakeserver.model.uploads import JobDefinitionError, SubmitCrash, UploadCrash, decode_upload
from flare_api.job_folder import submit_command_args, zip_job_folder

NAME = st.text(st.sampled_from("abcxyz019_-. "), min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and s.strip() == s
)
APP = st.text(st.sampled_from("abcdefgh_"), min_size=1, max_size=6)
CLIENT = st.sampled_from(["site-1", "site-2", "site-3", "site-4"])


@st.composite
def deploy_maps(draw: st.DrawFn) -> dict[str, list[str]]:
    """Valid deploy maps: one ``@ALL`` app, or server plus clients with no site deployed twice."""
    apps = draw(st.lists(APP, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        return {app: (["@ALL"] if i == 0 else []) for i, app in enumerate(apps)}
    clients = draw(st.lists(CLIENT, min_size=1, max_size=4, unique=True))
    result: dict[str, list[str]] = {app: [] for app in apps}
    result[apps[0]].append("server")
    for client in clients:
        result[draw(st.sampled_from(apps))].append(client)
    return result


@st.composite
def job_trees(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, bytes]]:
    """``(folder name, meta, files by relative path)`` for a job that the server must accept."""
    folder = draw(NAME)
    deploy_map = draw(deploy_maps())
    meta: dict[str, Any] = {"name": draw(NAME), "deploy_map": deploy_map}
    if draw(st.booleans()):
        meta["job_folder_name"] = folder
    if draw(st.booleans()):
        meta["min_clients"] = 1
    files = {"meta.json": json.dumps(meta).encode()}
    for app in deploy_map:
        files[f"{app}/config/config_fed_server.json"] = b"{}"
        files[f"{app}/config/config_fed_client.json"] = b"{}"
    extra = draw(st.dictionaries(st.lists(NAME, min_size=1, max_size=3).map("/".join), st.binary(max_size=64)))
    for rel, data in extra.items():
        # keep the tree valid: no clash with a file or folder the job needs
        taken = any(rel == p or rel.startswith(p + "/") or p.startswith(rel + "/") for p in files)
        if not taken and rel.split("/")[0] not in deploy_map:
            files[rel] = data
    return folder, meta, files


@given(job_trees())
def test_client_zip_round_trips_through_the_server(tree: tuple[str, dict[str, Any], dict[str, bytes]]) -> None:
    folder, meta, files = tree
    with tempfile.TemporaryDirectory() as parent:
        root = Path(parent) / folder
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        name, b64 = submit_command_args(root)
        assert name == folder
        package = decode_upload(name, b64)
        if "job_folder_name" in meta:
            assert package.content == zip_job_folder(root)
    assert package.meta == {**meta, "job_folder_name": folder}
    assert list(package.meta)[: len(meta)] == list(meta)
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        for rel, data in files.items():
            if rel != "meta.json":
                assert archive.read(f"{folder}/{rel}") == data
        assert json.loads(archive.read(f"{folder}/meta.json")) == package.meta
    assert set(package.apps) == set(meta["deploy_map"])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
META_KEYS = st.sampled_from(
    ["name", "deploy_map", "min_clients", "mandatory_clients", "resource_spec", "job_folder_name", "other"]
)
SITE_VALUES = st.sampled_from(["server", "site-1", "site-2", "@ALL", "@all", "SERVER"]) | JSON_VALUES
DEPLOY_MAPS = st.dictionaries(
    st.sampled_from(["app", "app2", "hello"]), st.lists(SITE_VALUES, max_size=4) | SITE_VALUES
)


@given(
    st.dictionaries(META_KEYS, JSON_VALUES, max_size=6),
    st.none() | DEPLOY_MAPS,
    st.sampled_from(["hello", "other"]),
)
def test_any_meta_fails_only_as_flare_does(meta: dict[str, Any], deploy_map: Any, argument: str) -> None:
    if deploy_map is not None:
        meta["deploy_map"] = deploy_map
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello/meta.json", json.dumps(meta))
        for app in ("app", "app2", "hello"):
            archive.writestr(f"hello/{app}/config/", b"")
            archive.writestr(f"hello/{app}/config/config_fed_server.json", b"{}")
            archive.writestr(f"hello/{app}/config/config_fed_client.json", b"{}")
    try:
        package = decode_upload(argument, base64.b64encode(buffer.getvalue()).decode())
    except (JobDefinitionError, UploadCrash, SubmitCrash) as exc:
        assert str(exc)
    else:
        assert isinstance(package.meta, dict) and package.meta["deploy_map"]
