"""The fake's FLARE 2.4-2.6 transfer pieces without a socket: request reading, open downloads, 2.4+ validation,
and pull frames that reference the stored bytes instead of copying them."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from fakeserver.model.transfers import TransferStore, workspace_zip
from fakeserver.model.uploads import JobDefinitionError, SubmitCrash
from fakeserver.model.uploads24 import accept_upload
from fakeserver.serving.reading import Received, decode_request
from flare_api.wire import FrameTooLarge, StreamClosed, encode_stream
from flare_api.wire.transfer import (
    TransferFraming,
    decoder_for,
    encode_binary_exchange,
    encode_pull_reply,
    pull_reply_parts,
)


def test_text_and_binary_requests_are_told_apart_by_the_first_byte() -> None:
    text = encode_stream(['{"data": []}'])
    assert decode_request(text, max_bytes=1000, accept_binary=True) == Received('{"data": []}\x03')
    push = encode_binary_exchange('{"data": []}', b"ZIP")
    assert decode_request(push, max_bytes=1000, accept_binary=True) == Received('{"data": []}', b"ZIP")
    with pytest.raises(StreamClosed):  # a 2.3/2.4 server reads the same bytes as text that never ends
        decode_request(push, max_bytes=1000, accept_binary=False)
    with pytest.raises(FrameTooLarge):
        decode_request(encode_binary_exchange("{}", b"x" * 2000), max_bytes=1000, accept_binary=True)


@pytest.mark.parametrize("framing", list(TransferFraming))
def test_pull_parts_are_the_encoded_reply_without_copying_the_file(framing: TransferFraming) -> None:
    data = bytes(range(256)) * 5000  # more than one 1 MiB chunk
    parts = pull_reply_parts(framing, data)
    assert b"".join(parts) == encode_pull_reply(framing, data)
    assert any(isinstance(part, memoryview) and part.obj is data for part in parts)
    decoder = decoder_for(framing)
    for part in parts:
        decoder.feed(bytes(part))
    assert decoder.done and decoder.body() == data


def test_open_downloads_are_bounded_and_end_once() -> None:
    store = TransferStore(max_open=2)
    first = store.open("a", {"x": b"1"})
    second = store.open("b", {"x": lambda: b"2"})
    third = store.open("c", {})
    assert store.get(first.tx_id) is None  # the oldest made room
    assert store.get(second.tx_id) is second and second.read("x") == b"2" and second.read("y") is None
    store.close(third.tx_id)
    store.close(third.tx_id)
    assert len(store) == 1


def test_workspace_zip_has_paths_relative_to_the_workspace() -> None:
    data = workspace_zip({"log.txt": b"l", "app_server/config/c.json": b"{}"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["app_server/config/c.json", "log.txt"]


def _job(
    folder: str = "j", meta: Any = None, *, meta_name: str = "meta.json", extra: dict[str, bytes] | None = None
) -> bytes:
    meta = {"name": folder, "deploy_map": {"app": ["@ALL"]}} if meta is None else meta
    entries = {
        f"{folder}/{meta_name}": meta if isinstance(meta, bytes) else json.dumps(meta).encode(),
        f"{folder}/app/": b"",
        f"{folder}/app/config/": b"",
        f"{folder}/app/config/config_fed_server.json": b"{}",
        f"{folder}/app/config/config_fed_client.conf": b"{}",
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _refusal(data: bytes, folder: str = "j", **release: bool) -> str:
    with pytest.raises(JobDefinitionError) as caught:
        accept_upload(folder, data, byoc=release.get("byoc", True), site_dicts=release.get("site_dicts", True))
    return caught.value.reply_text


def test_accepted_upload_is_stored_as_uploaded_with_byoc_from_25() -> None:
    data = _job(extra={"j/app/custom/": b""})
    package = accept_upload("j", data, byoc=True, site_dicts=False)
    assert package.content is data and package.meta["byoc"] is True and package.apps == {"app": ["@ALL"]}
    assert "byoc" not in accept_upload("j", data, byoc=False, site_dicts=False).meta  # 2.4


def test_texts_carry_no_type_prefix_and_quote_the_app() -> None:
    assert _refusal(_job(meta={})) == (
        "meta.[json|conf|yml] not existing for job j, possible in legacy job format.  Please upgrade the job structure."
    )
    assert _refusal(_job(meta={"deploy_map": {"nope": ["@ALL"]}})) == "App 'nope' in deploy_map doesn't exist for job j"
    assert _refusal(_job(meta=b'{"deploy_map": ')) == "Expecting value: line 1 column 16 (char 15)"
    assert _refusal(_job(extra={"j/../x": b""})) == "unsafe zip entry 'j/../x' ('..' path segment) for job j"


def test_yaml_metas_and_26_site_dicts() -> None:
    yml = _job(meta=b"name: j\ndeploy_map:\n  app: ['@ALL']\n", meta_name="meta.yml")
    assert accept_upload("j", yml, byoc=True, site_dicts=False).meta["deploy_map"] == {"app": ["@ALL"]}
    dicts = _job(meta={"deploy_map": {"app": ["server", {"sites": ["site-1"]}]}})
    assert accept_upload("j", dicts, byoc=True, site_dicts=True).apps == {"app": ["server", "site-1"]}
    with pytest.raises(SubmitCrash):  # 2.4/2.5: a dict is not a site name (casefold fails)
        accept_upload("j", dicts, byoc=True, site_dicts=False)
    assert "HOCON" in _refusal(_job(meta=b"{}", meta_name="meta.conf"))


def test_a_bad_zip_is_a_submit_crash() -> None:
    with pytest.raises(SubmitCrash, match="BadZipFile"):
        accept_upload("j", b"not a zip", byoc=True, site_dicts=True)
