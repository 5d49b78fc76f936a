"""fakeserver.model.job_config and .loadable: a job's config as FLARE 2.3.12 reads it, and what would not load.

Expected error texts are what nvflare 2.3.12's ``get_class`` / ``ComponentBuilder`` / ``JsonScanner`` raise for the
same input (run against the real package, docs/real-flare.md); the ModuleScanner's names were compared with the
real scanner's table (they agree except for classes whose optional dependencies, torch and others, the fake
assumes installed).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Optional

import pytest

from fakeserver import JobScript
from fakeserver.model.job_config import parse_job
from fakeserver.model.job_script import RunStatus
from fakeserver.model.loadable import LoadFailure, app_failure, flare_catalog, job_load_failures
from tests.configjobs import BROKEN, MISSING_CLASS, client_config, server_config

SITES = {"server": "app", "site-1": "app", "site-2": "app"}


def job_zip(
    server: Optional[dict[str, Any]] = None,
    client: Optional[dict[str, Any]] = None,
    custom: Optional[dict[str, str]] = None,
    app: str = "app",
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job/meta.json", "{}")
        archive.writestr(f"job/{app}/config/config_fed_server.json", json.dumps(server or server_config(3)))
        archive.writestr(f"job/{app}/config/config_fed_client.json", json.dumps(client or client_config()))
        for name, text in (custom or {}).items():
            archive.writestr(f"job/{app}/custom/{name}", text)
    return buffer.getvalue()


def client_with(*components: dict[str, Any], executor: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    client = client_config()
    client["components"] = list(components)
    if executor is not None:
        client["executors"][0]["executor"] = executor
    return client


def site_error(
    client: dict[str, Any], custom: Optional[dict[str, str]] = None, installed: tuple[str, ...] = ()
) -> Optional[str]:
    failure = app_failure(parse_job(job_zip(client=client, custom=custom)), "app", "site-1", installed)
    return None if failure is None else failure.exception


# ------------------------------------------------------------------------------------------- the config
def test_num_rounds_and_persistor_come_from_the_server_app() -> None:
    config = parse_job(job_zip(server_config(7, persistor_args={"model_name": "m.npy"})))
    assert config.num_rounds("app") == 7
    persistor = config.persistor("app")
    assert persistor is not None and persistor.args == {"model_name": "m.npy"}
    assert config.num_rounds("other") is None and config.persistor("other") is None


@pytest.mark.parametrize("value", [0, -1, True, "5", 2.5, None])
def test_num_rounds_that_are_not_a_count_are_ignored(value: object) -> None:
    server = server_config(3)
    server["workflows"][0]["args"]["num_rounds"] = value
    assert parse_job(job_zip(server)).num_rounds("app") is None


def test_unreadable_configs_and_zips_give_no_config() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job/app/config/config_fed_server.json", "{not json")
        archive.writestr("job/app/config/config_fed_client.json", "[1, 2]")
    config = parse_job(buffer.getvalue())
    assert config.num_rounds("app") is None
    assert job_load_failures(config, SITES) == []
    assert parse_job(b"not a zip").app_names == []


def test_the_default_script_follows_the_jobs_rounds_and_a_script_wins() -> None:
    assert JobScript().for_job(5).rounds == 5
    assert JobScript().for_job(5).running.seconds == 50.0  # 10 s a round when the script does not say
    assert JobScript().for_job(None).rounds == 3
    scripted = JobScript.completes(after=12, rounds=2).for_job(5)
    assert (scripted.rounds, scripted.running.seconds) == (2, 12.0)
    assert JobScript.hangs().for_job(4).running.forever


# --------------------------------------------------------------------------------- what loads, what not
def test_flare_classes_reexports_and_custom_classes_load() -> None:
    reexported = {"id": "x", "path": "nvflare.app_common.workflows.scatter_and_gather_scaffold.ScatterAndGather"}
    assert site_error(client_with(reexported)) is None
    custom = {"trainer.py": "import os\n\nclass MyTrainer:\n    pass\n", "pkg/__init__.py": "", "pkg/mod.py": "X = 1\n"}
    mine = client_with({"id": "a", "path": "pkg.mod.X"}, executor={"path": "trainer.MyTrainer", "args": {}})
    assert site_error(mine, custom) is None


@pytest.mark.parametrize(
    ("path", "error"),
    [
        (MISSING_CLASS, "ModuleNotFoundError: No module named 'nvflare.app_common.no_such_module'"),
        (
            "nvflare.app_common.np.np_trainer.Nope",
            "ValueError: Class nvflare.app_common.np.np_trainer.Nope does not exist",
        ),
        (
            "nvflare.apis.fl_constant.X.Y",
            "ModuleNotFoundError: No module named 'nvflare.apis.fl_constant.X'; 'nvflare.apis.fl_constant' is not a "
            "package",
        ),
        ("nope.pkg.C", "ModuleNotFoundError: No module named 'nope'"),
        ("trainer.Other", "ValueError: Class trainer.Other does not exist"),
        ("pkg.C", "ValueError: Class pkg.C does not exist"),
        ("pkg.missing.C", "ModuleNotFoundError: No module named 'pkg.missing'"),
        ("NoDots", "ConfigError: invalid class path 'NoDots': missing module name"),
        ("", "ConfigError: path spec must not be empty"),
    ],
)
def test_a_path_that_does_not_load_gets_flares_error(path: str, error: str) -> None:
    custom = {"trainer.py": "class MyTrainer:\n    pass\n", "pkg/__init__.py": ""}
    assert site_error(client_with({"id": "c", "path": path}), custom) == error


@pytest.mark.parametrize(
    ("element", "error"),
    [
        ({"name": "NPTrainer"}, None),
        ({"name": "CrossSiteModelEval"}, None),
        ({"name": "Controller"}, 'ConfigError: Cannot find component class "Controller"'),  # nvflare.apis: not scanned
        ({"name": ""}, "ConfigError: class name must not be empty"),
        ({"name": 3}, "ConfigError: class name must be str but got <class 'int'>."),
        ({"path": 3}, "ConfigError: path spec must be str but got <class 'int'>."),
        ({"id": "x", "args": {}}, "ConfigError: class name or path must be specified"),
        ({"path": MISSING_CLASS, "disabled": True}, None),
    ],
)
def test_names_and_malformed_elements(element: dict[str, Any], error: Optional[str]) -> None:
    assert site_error(client_with(element)) == error


def test_a_component_in_args_is_built_first() -> None:
    nested = {"id": "outer", "path": "nvflare.app_common.np.np_trainer.NPTrainer", "args": {"inner": dict(BROKEN)}}
    assert site_error(client_with(nested)) == (
        "ValueError: failed to instantiate class: ModuleNotFoundError: No module named "
        "'nvflare.app_common.no_such_module' "
    )
    plain_dict = {"id": "outer", "path": "nvflare.app_common.np.np_trainer.NPTrainer", "args": {"d": {"a": 1}}}
    assert site_error(client_with(plain_dict)) is None


def test_a_custom_module_that_does_not_parse_fails_as_its_import_would() -> None:
    custom = {"broken.py": "class X(:\n"}
    assert site_error(client_with({"id": "c", "path": "broken.X"}), custom) == (
        "SyntaxError: invalid syntax (broken.py, line 1)"
    )


def test_installed_paths_and_prefixes_load() -> None:
    client = client_with({"id": "a", "path": "my_pkg.sub.Thing"}, {"id": "b", "path": "other.Exact"})
    assert site_error(client) == "ModuleNotFoundError: No module named 'my_pkg'"
    assert site_error(client, installed=("my_pkg.",)) == "ModuleNotFoundError: No module named 'other'"
    assert site_error(client, installed=("my_pkg.", "other.Exact")) is None


# --------------------------------------------------------------------------------- where and in what order
def test_the_first_failure_in_json_order_with_flares_path_and_text() -> None:
    server = server_config(1)
    server["components"].append(dict(BROKEN))
    server["workflows"].append({"id": "wf2", "path": "also.Missing"})
    failures = job_load_failures(parse_job(job_zip(server)), SITES)
    assert failures == [
        LoadFailure("server", "app", "config_fed_server.json", "components.#4", BROKEN, failures[0].exception)
    ]
    assert failures[0].config_error("/ws/startup/../j/app_server/config/config_fed_server.json") == (
        "Error processing ['/ws/startup/../j/app_server/config/config_fed_server.json'] in JSON element "
        "{'id': 'broken', 'path': 'nvflare.app_common.no_such_module.NoSuchComponent', 'args': {}}: "
        "path: components.#4, exception: ModuleNotFoundError: No module named 'nvflare.app_common.no_such_module'"
    )


def test_executors_and_filters_have_flares_json_paths() -> None:
    client = client_with(executor={"path": "missing.Executor"})
    failure = app_failure(parse_job(job_zip(client=client)), "app", "site-2")
    assert failure is not None and failure.json_path == "executors.#1.executor"
    client = client_config()
    client["task_result_filters"] = [{"tasks": ["train"], "filters": [{"path": "nvflare.apis.dxo.DXO"}, BROKEN]}]
    failure = app_failure(parse_job(job_zip(client=client)), "app", "site-2")
    assert failure is not None and failure.json_path == "task_result_filters.#1.filters.#2"


def test_only_the_participants_apps_are_checked_server_first() -> None:
    client = client_with(dict(BROKEN))
    config = parse_job(job_zip(client=client))
    assert [f.target for f in job_load_failures(config, SITES)] == ["site-1", "site-2"]
    assert job_load_failures(config, {"server": "app"}) == []
    server = server_config(1)
    server["components"].append(dict(BROKEN))
    both = parse_job(job_zip(server, client))
    assert [f.target for f in job_load_failures(both, {"site-1": "app", "server": "app"})] == ["server", "site-1"]


def test_a_script_with_another_outcome_keeps_it() -> None:
    failing = JobScript().fails_to_load("x", 6.0)
    assert failing.outcome is RunStatus.FINISHED_EXECUTION_EXCEPTION and failing.running.seconds == 6.0
    assert JobScript.ends("ABORTED").fails_to_load("x", 6.0).outcome is RunStatus.FINISHED_ABORTED


def test_the_catalog_is_flare_2_3_12s() -> None:
    catalog = flare_catalog()
    assert "nvflare.app_common.np.np_trainer.NPTrainer" in catalog.attributes
    assert "nvflare.app_common.np" in catalog.packages and "nvflare.apis.fl_constant" not in catalog.packages
    assert catalog.by_name["ScatterAndGather"] == "nvflare.app_common.workflows.scatter_and_gather"


def test_a_corrupt_entry_reads_as_absent() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("job/app/config/config_fed_server.json", json.dumps(server_config(4)))
        archive.writestr("job/app/custom/mod.py", "class A: pass\n" * 50)
    data = bytearray(buffer.getvalue())
    for name in (b"config_fed_server.json", b"mod.py"):  # flip a byte of each entry's compressed data
        data[data.index(name) + len(name) + 3] ^= 0xFF
    config = parse_job(bytes(data))
    assert config.num_rounds("app") is None
    app = config.app("app")
    assert app is not None and config.custom_source(app.custom_modules["mod"]) is None  # unreadable: trusted


def test_configs_are_parsed_on_use_and_released() -> None:
    config = parse_job(job_zip(server_config(6)))
    assert config._parsed == {}  # submit-time scan: entry names only
    first = config.app("app")
    assert first is not None and config.app("app") is first and config.num_rounds("app") == 6
    config.release()
    assert config._parsed == {} and config.num_rounds("app") == 6  # read again when asked
