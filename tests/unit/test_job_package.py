"""Tests for fakeserver.model.uploads: FLARE 2.3's decode, legacy conversion and validation of an upload.

Expected texts come from reference sections 6.1, 7.4 and 7.5, or (where the reference is silent) from
running nvflare 2.3.12's ``convert_legacy_zipped_app_to_job`` and ``JobMetaValidator`` on the same input.
"""

from __future__ import annotations

import base64
import io
import json
import stat
import zipfile
from typing import Any, Optional, Union

import pytest

from fakeserver.model import uploads as job_package
from fakeserver.model.uploads import (
    JobDefinitionError,
    SubmitCrash,
    UnsafeUpload,
    UploadCrash,
    decode_upload,
    legacy_meta_text,
    validate_job_meta,
)

Entry = tuple[str, Optional[bytes]]

#: nvflare 2.3.12 ``_get_default_meta("hello")``, byte for byte.
NVFLARE_LEGACY_META = (
    '{\n                 "name": "hello",\n                 "job_folder_name": "hello",\n'
    '                 "resource_spec": { },\n                 "deploy_map": { "hello": ["@ALL"] },\n'
    '                 "min_clients": 1\n               }\n            '
)


def make_zip(entries: list[Entry], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip of ``(name, data)``; ``None`` data with a ``/`` name is a directory entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, b"" if data is None else data)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def job_entries(
    meta: Union[dict[str, Any], str, None],
    folder: str = "hello",
    apps: Optional[dict[str, tuple[str, ...]]] = None,
) -> list[Entry]:
    """A job tree as FLARE's client zips it; ``apps`` maps app → config kinds (``server``/``client``)."""
    apps = {"app": ("server", "client")} if apps is None else apps
    entries: list[Entry] = []
    if meta is not None:
        text = meta if isinstance(meta, str) else json.dumps(meta)
        entries.append((f"{folder}/meta.json", text.encode("utf-8")))
    for app, kinds in apps.items():
        entries += [(f"{folder}/{app}/", None), (f"{folder}/{app}/config/", None)]
        for kind in kinds:
            entries.append((f"{folder}/{app}/config/config_fed_{kind}.json", b"{}"))
    return entries


def upload(meta: Union[dict[str, Any], str, None], folder: str = "hello", **kwargs: Any) -> job_package.JobPackage:
    return decode_upload(folder, b64(make_zip(job_entries(meta, folder, **kwargs))))


def invalid(meta: Union[dict[str, Any], str, None], folder: str = "hello", **kwargs: Any) -> str:
    """The ``invalid_job_def`` reply text for an upload that must fail validation."""
    with pytest.raises(JobDefinitionError) as caught:
        upload(meta, folder, **kwargs)
    return caught.value.reply_text


def crash(folder: str, text: str) -> BaseException:
    with pytest.raises(UploadCrash) as caught:
        decode_upload(folder, text)
    return caught.value.original


def entries_of(content: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [(info.filename, archive.read(info.filename)) for info in archive.infolist()]


BASE = {"name": "hello", "resource_spec": {}, "min_clients": 1}


def meta_with(deploy_map: Any, **extra: Any) -> dict[str, Any]:
    return {**BASE, "deploy_map": deploy_map, **extra}


SERVER_AND_ONE = {"app": ["server", "site-1"]}
SERVER_AND_TWO = {"app": ["server", "site-1", "site-2"]}


# --- 7.5, one test per row, in table order ------------------------------------------------------------


def test_no_meta_for_the_argument_folder() -> None:
    data = make_zip(job_entries(meta_with(SERVER_AND_ONE)))
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload("other", b64(data))
    assert caught.value.reply_text == "ValueError: meta.json is empty for job other"
    assert str(caught.value) == "meta.json is empty for job other"


def test_empty_meta_fails_on_deploy_map_because_conversion_added_job_folder_name() -> None:
    assert invalid({}) == "ValueError: deploy_map is empty for job hello"


@pytest.mark.parametrize("deploy_map", [None, {}, [], ""])
def test_deploy_map_missing_or_empty(deploy_map: Any) -> None:
    meta = dict(BASE) if deploy_map is None else meta_with(deploy_map)
    assert invalid(meta) == "ValueError: deploy_map is empty for job hello"


def test_no_site_in_any_list() -> None:
    assert invalid(meta_with({"app": [], "app2": []})) == "ValueError: No site is specified in deploy_map for job hello"


@pytest.mark.parametrize("deploy_map", [{"app": ["@ALL", "site-1"]}, {"app": ["server"], "app2": ["@all"]}])
def test_all_sites_with_others(deploy_map: dict[str, list[str]]) -> None:
    apps = {name: ("server", "client") for name in deploy_map}
    assert invalid(meta_with(deploy_map), apps=apps) == (
        "ValueError: No other site can be specified if @ALL is used for job hello"
    )


def test_missing_server_site() -> None:
    assert invalid(meta_with({"app": ["site-1"]})) == "ValueError: Missing server site in deploy_map for job hello"


def test_site_listed_twice() -> None:
    meta = meta_with({"app": ["server", "site-1"], "app2": ["site-1"]})
    assert invalid(meta, apps={"app": ("server", "client"), "app2": ("client",)}) == (
        "ValueError: Multiple apps to be deployed to following sites ['site-1'] for job hello"
    )


def test_duplicates_are_listed_in_first_seen_order() -> None:
    meta = meta_with({"app": ["site-3", "server", "site-1"], "app2": ["site-1", "site-3", "server"]})
    assert invalid(meta, apps={"app": ("server", "client"), "app2": ("server", "client")}) == (
        "ValueError: Multiple apps to be deployed to following sites ['site-3', 'server', 'site-1'] for job hello"
    )


def test_config_folder_must_be_a_directory_entry() -> None:
    files_only = [entry for entry in job_entries(meta_with(SERVER_AND_ONE)) if entry[1] is not None]
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload("hello", b64(make_zip(files_only)))
    assert caught.value.reply_text == "ValueError: App app in deploy_map doesn't exist for job hello"


def test_app_folder_missing() -> None:
    meta = meta_with({"app": ["server", "site-1"], "app2": ["site-2"]})
    assert invalid(meta) == "ValueError: App app2 in deploy_map doesn't exist for job hello"


@pytest.mark.parametrize("deploy_map", [{"app": ["server", "site-1"]}, {"app": ["@ALL"]}])
def test_server_config_missing(deploy_map: dict[str, list[str]]) -> None:
    assert invalid(meta_with(deploy_map), apps={"app": ("client",)}) == (
        "ValueError: App app will be deployed to server but server config is missing"
    )


@pytest.mark.parametrize("deploy_map", [{"app": ["server", "site-1"]}, {"app": ["@all"]}])
def test_client_config_missing(deploy_map: dict[str, list[str]]) -> None:
    assert invalid(meta_with(deploy_map), apps={"app": ("server",)}) == (
        "ValueError: App app will be deployed to client but client config is missing"
    )


def test_server_only_app_needs_no_client_config() -> None:
    meta = meta_with({"app": ["server"], "app2": ["site-1"]})
    package = upload(meta, apps={"app": ("server",), "app2": ("client",)})
    assert package.apps == {"app": ["server"], "app2": ["site-1"]}


def test_min_clients_not_an_int_gives_a_tuple_repr() -> None:
    assert invalid(meta_with(SERVER_AND_ONE, min_clients="abc")) == (
        'ValueError: ("invalid data type for abc,can\'t not convert to Int", '
        "\"ValueError: invalid literal for int() with base 10: 'abc'\")"
    )


def test_min_clients_of_a_wrong_type_names_the_type_error() -> None:
    try:
        int([2])  # type: ignore[call-overload]
    except TypeError as exc:
        detail = f"TypeError: {exc}"
    expected = repr(("invalid data type for [2],can't not convert to Int", detail))
    assert invalid(meta_with(SERVER_AND_ONE, min_clients=[2])) == f"ValueError: {expected}"


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (-3, "-3"), (False, "False"), ("0", "0")])
def test_min_clients_not_positive(value: Any, shown: str) -> None:
    assert invalid(meta_with(SERVER_AND_ONE, min_clients=value)) == (
        f"ValueError: min_clients {shown} must be positive for job hello"
    )


def test_min_clients_too_large_has_two_spaces() -> None:
    assert invalid(meta_with(SERVER_AND_ONE, min_clients=1000001)) == (
        "ValueError: min_clients 1000001 must be less than 1000000  for job hello"
    )


def test_min_clients_at_the_limit_passes_the_limit_check() -> None:
    assert invalid(meta_with(SERVER_AND_ONE, min_clients=1000000)) == (
        "ValueError: min 1000000 clients required for job hello, found 1."
    )


@pytest.mark.parametrize("value", [3, "3", 3.9])
def test_too_few_clients(value: Any) -> None:
    assert invalid(meta_with(SERVER_AND_TWO, min_clients=value)) == (
        "ValueError: min 3 clients required for job hello, found 2."
    )


def test_all_sites_skips_the_client_count() -> None:
    assert upload(meta_with({"app": ["@ALL"]}, min_clients=50)).meta["min_clients"] == 50


def test_resource_spec_not_a_dict() -> None:
    assert invalid(meta_with(SERVER_AND_ONE, resource_spec=[1])) == "ValueError: Invalid resource_spec for job hello"


def test_resource_spec_value_not_a_dict() -> None:
    assert invalid(meta_with(SERVER_AND_ONE, resource_spec={"site-1": {}, "site-2": 4})) == (
        "ValueError: value for key site-2 in resource spec is expecting a dictionary"
    )


def test_falsy_resource_spec_values_pass() -> None:
    assert upload(meta_with(SERVER_AND_ONE, resource_spec={"site-1": 0, "site-2": []})).folder_name == "hello"


def test_mandatory_client_not_deployed() -> None:
    assert invalid(meta_with(SERVER_AND_ONE, mandatory_clients=["site-1", "site-2"])) == (
        "ValueError: Mandatory clients {'site-2'} are not in the deploy_map for job hello"
    )


def test_several_missing_mandatory_clients_are_sorted() -> None:
    meta = meta_with(SERVER_AND_ONE, mandatory_clients=["site-9", "site-3", "site-10"])
    assert invalid(meta) == (
        "ValueError: Mandatory clients {'site-10', 'site-3', 'site-9'} are not in the deploy_map for job hello"
    )


def test_mandatory_clients_ignored_with_all_sites() -> None:
    assert upload(meta_with({"app": ["@ALL"]}, mandatory_clients=["site-7"])).apps == {"app": ["@ALL"]}


def test_checks_run_in_order() -> None:
    bad_everything = meta_with({"app": ["server", "site-1"]}, min_clients=0, resource_spec=[1])
    assert invalid(bad_everything, apps={"app": ("server",)}) == (
        "ValueError: App app will be deployed to client but client config is missing"
    )
    assert invalid(bad_everything) == "ValueError: min_clients 0 must be positive for job hello"
    del bad_everything["min_clients"]
    bad_everything["mandatory_clients"] = ["site-2"]
    assert invalid(bad_everything) == "ValueError: Invalid resource_spec for job hello"


def test_validate_job_meta_directly() -> None:
    entries = {"j/app/config/", "j/app/config/config_fed_server.json", "j/app/config/config_fed_client.json"}
    validate_job_meta("j", {"deploy_map": {"app": ["server", "site-1"]}}, entries)
    with pytest.raises(JobDefinitionError, match=r"^meta\.json is empty for job j$"):
        validate_job_meta("j", None, entries)  # type: ignore[arg-type]


# --- validation-stage crashes (the real server's "Exception occurred trying to submit job") -------------


def test_server_only_deploy_map_crashes_with_stop_iteration() -> None:
    with pytest.raises(SubmitCrash) as caught:
        upload(meta_with({"app": ["server"]}), apps={"app": ("server",)})
    assert caught.value.error_text == "Exception occurred trying to submit job: StopIteration: "
    assert caught.value.info == "exception <class 'StopIteration'> occurred"


@pytest.mark.parametrize(
    ("meta", "text"),
    [
        (meta_with(["app"]), "AttributeError: 'list' object has no attribute 'values'"),
        (meta_with({"app": 5}), "TypeError: 'int' object is not iterable"),
        (meta_with({"app": ["server", 1]}), "AttributeError: 'int' object has no attribute 'casefold'"),
        ('{"deploy_map": {"app": ["@ALL"]}, "min_clients": Infinity}', None),
        (meta_with(SERVER_AND_ONE, mandatory_clients=[["site-1"]]), "TypeError: unhashable type: 'list'"),
    ],
)
def test_other_validation_errors_are_submit_crashes(meta: Any, text: Optional[str]) -> None:
    with pytest.raises(SubmitCrash) as caught:
        upload(meta)
    if text is None:
        assert type(caught.value.original) is OverflowError
    else:
        assert str(caught.value) == text


def test_invalid_json_seen_only_by_validation_keeps_its_type_name() -> None:
    entries = [*job_entries(meta_with(SERVER_AND_ONE), folder="a"), ("b/meta.json", b"{oops")]
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload("b", b64(make_zip(entries)))
    assert caught.value.reply_text == (
        "JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )


def test_legacy_folder_name_with_a_quote_breaks_the_generated_meta() -> None:
    data = make_zip([('x"y/', None), ('x"y/config/', None), ('x"y/config/config_fed_server.json', b"{}")])
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload('x"y', b64(data))
    assert caught.value.reply_text.startswith("JSONDecodeError: Expecting ',' delimiter")


# --- 7.4 conversion -------------------------------------------------------------------------------------


def test_meta_with_job_folder_name_keeps_the_zip_byte_for_byte() -> None:
    meta = {"job_folder_name": "hello", "name": "n", "deploy_map": SERVER_AND_ONE, "custom": [1]}
    data = make_zip(job_entries(meta), zipfile.ZIP_DEFLATED)
    package = decode_upload("hello", b64(data))
    assert package.content == data
    assert list(package.meta) == ["job_folder_name", "name", "deploy_map", "custom"]
    assert package.meta == meta


def test_meta_without_job_folder_name_is_rewritten_with_the_key_last() -> None:
    meta = {"name": "n", "resource_spec": {}, "deploy_map": SERVER_AND_ONE, "min_clients": 1, "x": "é"}
    entries = [*job_entries(meta), ("hello/README.md", b"read me")]
    package = decode_upload("hello", b64(make_zip(entries, zipfile.ZIP_DEFLATED)))
    assert list(package.meta) == ["name", "resource_spec", "deploy_map", "min_clients", "x", "job_folder_name"]
    assert package.meta["job_folder_name"] == "hello"
    stored = entries_of(package.content)
    assert stored[0] == ("hello/meta.json", json.dumps({**meta, "job_folder_name": "hello"}).encode())
    assert stored[1:] == [(name, data or b"") for name, data in entries[1:]]
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.getinfo("hello/app/config/").is_dir()


def test_job_folder_name_comes_from_the_first_entry_not_the_argument() -> None:
    entries = [("hello/README.md", b"x"), *job_entries(meta_with(SERVER_AND_ONE))]
    assert decode_upload("hello", b64(make_zip(entries))).meta["job_folder_name"] == "hello"


def test_legacy_app_is_wrapped_under_its_own_name() -> None:
    entries: list[Entry] = [
        ("hello/", None),
        ("hello/config/", None),
        ("hello/config/config_fed_server.json", b"{}"),
        ("hello/config/config_fed_client.json", b"{}"),
        ("hello/custom/net.py", b"x = 1\n"),
    ]
    package = decode_upload("hello", b64(make_zip(entries)))
    assert package.meta == {
        "name": "hello",
        "job_folder_name": "hello",
        "resource_spec": {},
        "deploy_map": {"hello": ["@ALL"]},
        "min_clients": 1,
    }
    assert list(package.meta) == ["name", "job_folder_name", "resource_spec", "deploy_map", "min_clients"]
    stored = entries_of(package.content)
    assert stored[0] == ("hello/meta.json", NVFLARE_LEGACY_META.encode())
    assert stored[1:] == [(f"hello/{name}", data or b"") for name, data in entries]
    assert package.apps == {"hello": ["@ALL"]}


def test_legacy_meta_text_matches_nvflare() -> None:
    assert legacy_meta_text("hello") == NVFLARE_LEGACY_META


def test_legacy_app_without_directory_entries_fails_validation() -> None:
    entries: list[Entry] = [
        ("hello/config/config_fed_server.json", b"{}"),
        ("hello/config/config_fed_client.json", b""),
    ]
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload("hello", b64(make_zip(entries)))
    assert caught.value.reply_text == "ValueError: App hello in deploy_map doesn't exist for job hello"


def test_first_entry_in_another_folder_turns_the_upload_into_a_legacy_app() -> None:
    entries = [("other/x.txt", b"x"), *job_entries(meta_with(SERVER_AND_ONE))]
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload("hello", b64(make_zip(entries)))
    assert caught.value.reply_text == "ValueError: meta.json is empty for job hello"


def test_folder_name_with_a_backslash_never_finds_its_meta() -> None:
    data = make_zip(job_entries(meta_with(SERVER_AND_ONE), folder="a\\b"))
    with pytest.raises(JobDefinitionError) as caught:
        decode_upload("a\\b", b64(data))
    assert caught.value.reply_text == "ValueError: meta.json is empty for job a\\b"


def test_apps_are_sorted_sites() -> None:
    package = upload(meta_with({"app": ["site-2", "server", "site-1"]}))
    assert package.apps == {"app": ["server", "site-1", "site-2"]}


# --- crashes before validation ("Exception Occurred: <Type>: <msg>") --------------------------------------


@pytest.mark.parametrize(
    ("text", "type_name", "message"),
    [
        ("abc", "Error", "Incorrect padding"),
        (
            "é",
            "UnicodeEncodeError",
            "'ascii' codec can't encode character '\\xe9' in position 0: ordinal not in range(128)",
        ),
        (b64(b"not a zip"), "BadZipFile", "File is not a zip file"),
        ("", "BadZipFile", "File is not a zip file"),
        (b64(make_zip([])), "IndexError", "list index out of range"),
    ],
)
def test_decode_and_zip_crashes(text: str, type_name: str, message: str) -> None:
    original = crash("hello", text)
    assert (type(original).__name__, str(original)) == (type_name, message)


def test_base64_is_not_validated_like_the_server() -> None:
    data = make_zip(job_entries(meta_with(SERVER_AND_ONE, job_folder_name="hello")))
    noisy = "!" + b64(data)[:10] + "\n*" + b64(data)[10:]
    assert decode_upload("hello", noisy).content == data


@pytest.mark.parametrize(
    ("meta_text", "type_name", "message"),
    [
        ("{bad", "JSONDecodeError", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[]", "TypeError", "list indices must be integers or slices, not str"),
        ('"abc"', "TypeError", "'str' object does not support item assignment"),
        ("1", "TypeError", "argument of type 'int' is not iterable"),
    ],
)
def test_meta_json_crashes(meta_text: str, type_name: str, message: str) -> None:
    original = crash("hello", b64(make_zip(job_entries(meta_text))))
    assert (type(original).__name__, str(original)) == (type_name, message)


def test_corrupt_entry_crashes_only_when_the_server_reads_it() -> None:
    data = bytearray(make_zip([*job_entries({"deploy_map": SERVER_AND_ONE}), ("hello/blob", b"0123456789")]))
    at = bytes(data).index(b"0123456789")
    data[at] ^= 0xFF  # the rewrite reads every entry, so the CRC check fires
    original = crash("hello", b64(bytes(data)))
    assert (type(original).__name__, str(original)) == ("BadZipFile", "Bad CRC-32 for file 'hello/blob'")


# --- hostile zips (ours: refused as UnsafeUpload, a JobDefinitionError) -----------------------------------


def unsafe(entries: list[Entry], folder: str = "hello") -> str:
    with pytest.raises(UnsafeUpload) as caught:
        decode_upload(folder, b64(make_zip(entries)))
    assert isinstance(caught.value, JobDefinitionError)
    return caught.value.reply_text


@pytest.mark.parametrize("name", ["../evil", "hello/../../evil", "/etc/passwd", "\\evil", "hello\\..\\x", "C:evil"])
def test_traversal_entries_are_refused(name: str) -> None:
    text = unsafe([*job_entries(meta_with(SERVER_AND_ONE)), (name, b"x")])
    assert text.startswith(f"ValueError: unsafe zip entry {name!r} (")
    assert text.endswith(") for job hello")


def test_symlink_entries_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in job_entries(meta_with(SERVER_AND_ONE)):
            archive.writestr(name, b"" if data is None else data)
        link = zipfile.ZipInfo("hello/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeUpload, match="symbolic link"):
        decode_upload("hello", b64(buffer.getvalue()))


def test_duplicate_entries_are_refused() -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = make_zip([*job_entries(meta_with(SERVER_AND_ONE)), ("hello/meta.json", b"{}")])
    with pytest.raises(UnsafeUpload) as caught:
        decode_upload("hello", b64(data))
    text = caught.value.reply_text
    assert "duplicate entry name" in text


def test_legacy_wrapping_that_would_shadow_meta_is_refused() -> None:
    assert "after conversion" in unsafe([("hello/x", b"x"), ("meta.json", b'{"deploy_map": 1}')])


def test_too_many_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_package, "MAX_ENTRIES", 3)
    assert "more than the limit of 3" in unsafe(job_entries(meta_with(SERVER_AND_ONE)))


def test_zip_bomb_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_package, "MAX_TOTAL_BYTES", 10_000)
    bomb = make_zip(
        [*job_entries({"deploy_map": SERVER_AND_ONE}), ("hello/zeros", bytes(20_000))], zipfile.ZIP_DEFLATED
    )
    assert len(bomb) < 2_000
    with pytest.raises(UnsafeUpload, match="more than the limit of 10000"):
        decode_upload("hello", b64(bomb))
