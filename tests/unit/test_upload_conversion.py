"""``convert_legacy_upload`` keeps every original entry as it was (data, time, attributes, stored) when it
rewrites ``meta.json`` or adds one; a converted upload that does not open is a submit crash (mutation
testing, docs/testing.md)."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest

from fakeserver.model.uploads import (
    MAX_META_BYTES,
    SubmitCrash,
    UnsafeUpload,
    _read_converted,
    _refuse_hostile,
    _zip_meta_path,
    convert_legacy_upload,
    entry_refusal,
)

WHEN = (2021, 3, 4, 5, 6, 8)
MODE = 0o100644 << 16


def _entry(name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, date_time=WHEN)
    info.external_attr = MODE
    info.compress_type = zipfile.ZIP_DEFLATED
    return info, data


def _zip(*entries: tuple[zipfile.ZipInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _entries(data: bytes) -> dict[str, tuple[bytes, tuple[int, ...], int, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            i.filename: (archive.read(i), i.date_time, i.external_attr, i.compress_type) for i in archive.infolist()
        }


def test_original_entries_keep_data_time_and_attributes_stored() -> None:
    body = b"x = 1\n" * 5000
    upload = _zip(_entry("job/meta.json", b'{"name": "j"}'), _entry("job/app/custom/train.py", body))
    converted = _entries(convert_legacy_upload(upload, "job"))
    assert converted["job/app/custom/train.py"] == (body, WHEN, MODE, zipfile.ZIP_STORED)
    meta, _when, _attr, stored = converted["job/meta.json"]
    assert json.loads(meta) == {"name": "j", "job_folder_name": "job"} and stored == zipfile.ZIP_STORED


def test_a_legacy_app_gets_a_meta_and_keeps_its_files() -> None:
    upload = _zip(_entry("app/config/config_fed_client.json", b"{}"))
    converted = _entries(convert_legacy_upload(upload, "app"))
    assert converted["app/app/config/config_fed_client.json"] == (b"{}", WHEN, MODE, zipfile.ZIP_STORED)
    assert "app/meta.json" in converted


def test_a_converted_upload_that_is_no_zip_is_a_submit_crash() -> None:
    with pytest.raises(SubmitCrash) as info:
        _read_converted("job", b"not a zip")
    assert info.value.error_text == "Exception occurred trying to submit job: BadZipFile: File is not a zip file"


def _named(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # ZipInfo() itself cuts a name at NUL
    return info


def test_each_refused_entry_name_says_why() -> None:
    assert entry_refusal(_named("")) == "empty name"
    assert entry_refusal(_named("job/a\x00b.py")) == "NUL character in name"


def test_the_meta_path_uses_forward_slashes() -> None:
    assert _zip_meta_path("job") == "job/meta.json"
    assert _zip_meta_path("a\\b") == "a/b/meta.json"
    assert _zip_meta_path("job/./x/..") == "job/meta.json"


def test_entry_names_are_measured_in_bytes_up_to_the_limit() -> None:
    exact = "/".join(["a" * 200] * 5) + "/" + "b" * (1024 - 5 * 201)  # 1,024 bytes, every segment <= 255
    assert len(exact.encode()) == 1024
    assert entry_refusal(_named(exact)) is None
    assert entry_refusal(_named(exact + "c")) == "name longer than 1024 bytes"
    assert entry_refusal(_named("job/\udcff.py")) is None  # a name zipfile could not decode keeps its bytes
    assert entry_refusal(_named("job/" + "\udcff" * 256)) == "path segment longer than 255 bytes"


def test_only_a_leading_separator_or_drive_makes_a_path_absolute() -> None:
    for name in ("/job/a.py", "\\job\\a.py", "C:/job/a.py", "c:job"):
        assert entry_refusal(_named(name)) == "absolute path", name
    for name in ("Xjob/a.py", "job/C:/a.py", "job\\a.py"):
        assert entry_refusal(_named(name)) is None, name


def test_segments_links_and_ratios_at_their_limits() -> None:
    assert entry_refusal(_named("job/" + "s" * 255)) is None
    assert entry_refusal(_named("job/" + "s" * 256)) == "path segment longer than 255 bytes"
    link = _named("job/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert entry_refusal(link) == "symbolic link entry"
    floor = 1024 * 1024
    for size, packed, refused in [
        (floor, 1, False),  # at the floor: any ratio
        (floor + 1, 1, True),
        (100 * 20_000, 20_000, False),  # exactly 100:1
        (100 * 20_000 + 1, 20_000, True),
    ]:
        info = _named("job/data.bin")
        info.file_size, info.compress_size = size, packed
        assert entry_refusal(info) == ("compression ratio above 100:1" if refused else None), (size, packed)


def _stored(name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info, data = _entry(name, data)
    info.compress_type = zipfile.ZIP_STORED  # a padded meta.json deflated would trip the ratio check first
    return info, data


def test_a_meta_json_may_be_exactly_the_size_limit() -> None:
    text = b'{"name": "j"}'
    exact = text + b" " * (MAX_META_BYTES - len(text))
    converted = _entries(convert_legacy_upload(_zip(_stored("job/meta.json", exact)), "job"))
    assert json.loads(converted["job/meta.json"][0]) == {"name": "j", "job_folder_name": "job"}
    with pytest.raises(UnsafeUpload) as info:
        convert_legacy_upload(_zip(_stored("job/meta.json", exact + b" ")), "job")
    assert str(info.value) == f"job/meta.json is larger than {MAX_META_BYTES} bytes for job job"


def _sized(name: str, size: int) -> zipfile.ZipInfo:
    info = _named(name)
    info.file_size = info.compress_size = size
    return info


def test_the_upload_caps_allow_exactly_their_limit() -> None:
    many = [_sized(f"job/f{i}", 0) for i in range(10_000)]
    _refuse_hostile(many, "job")
    with pytest.raises(UnsafeUpload) as info:
        _refuse_hostile([*many, _sized("job/one-more", 0)], "job")
    assert str(info.value) == "upload has 10001 zip entries, more than the limit of 10000"
    big = [_sized(f"job/b{i}", 1024 * 1024) for i in range(128)]
    _refuse_hostile(big, "job")
    with pytest.raises(UnsafeUpload) as info:
        _refuse_hostile([*big, _sized("job/byte", 1)], "job")
    assert (
        str(info.value)
        == f"upload expands to {128 * 1024 * 1024 + 1} bytes, more than the limit of {128 * 1024 * 1024}"
    )


def test_a_name_that_is_a_file_and_a_folder_or_twice_is_refused() -> None:
    with pytest.raises(UnsafeUpload) as info:
        _refuse_hostile([_sized("job/a", 1), _sized("job/a", 1)], "job")
    assert str(info.value) == "unsafe zip entry 'job/a' (duplicate entry name) for job job"
    cases = [
        [_sized("job/X/", 0), _sized("job/X", 1)],
        [_sized("job/a", 1), _sized("job/a/b", 1)],
        [_sized("job", 1), _sized("job/a", 1)],  # the top folder too
    ]
    for infos in cases:
        with pytest.raises(UnsafeUpload) as info:
            _refuse_hostile(infos, "job")
        assert "(both a file and a folder) for job job" in str(info.value)
    _refuse_hostile([_sized("job/d/", 0), _sized("job/d/x", 1)], "job")


def test_a_legacy_app_that_holds_its_own_meta_json_clashes_after_conversion() -> None:
    upload = _zip(_entry("app/config/config_fed_client.json", b"{}"), _entry("meta.json", b"{}"))
    with pytest.raises(UnsafeUpload) as info:
        convert_legacy_upload(upload, "app")
    assert str(info.value) == "unsafe zip entry 'app/meta.json' (duplicate entry name after conversion) for job app"


def test_a_converted_legacy_app_has_no_comment() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(*_entry("app/config/config_fed_client.json", b"{}"))
        archive.comment = b"uploaded"
    with zipfile.ZipFile(io.BytesIO(convert_legacy_upload(buffer.getvalue(), "app"))) as converted:
        assert converted.comment == b""


def test_a_folder_entry_is_never_a_file_even_under_an_empty_segment() -> None:
    _refuse_hostile([_sized("job/", 0), _sized("job//x", 1)], "job")  # "job/" is a folder of "job//x"


def test_without_a_folder_name_errors_name_no_job() -> None:
    upload = _zip(_entry("app/config/config_fed_client.json", b"{}"), _entry("meta.json", b"{}"))
    with pytest.raises(UnsafeUpload) as info:
        convert_legacy_upload(upload)
    assert str(info.value).endswith("(duplicate entry name after conversion) for job ")
