"""How the job store starts a run whose app does not load, and how it schedules against the sites' resources,
with exact times and texts (mutation testing, docs/testing.md; the rules themselves: docs/guide.md, "The
job's config", and FLARE 2.3.12's scheduler). A hand-driven clock; no waiting."""

from __future__ import annotations

import io
import json
import random
import zipfile
from typing import Any, Optional

from fakeserver.model.job_script import JobScript, Phase, RunStatus
from fakeserver.model.jobs import (
    DEAD_SITE_DELAY,
    RUN_WIND_DOWN,
    SERVER_LOAD_FAILURE_SECONDS,
    SITE_LOAD_FAILURE_SECONDS,
    JobRecord,
    JobStore,
    _server_app,
)
from fakeserver.model.resources import ListResources, ResourcePool
from tests.configjobs import BROKEN, MISSING_CLASS, client_config, server_config

START = 1_002.0  # queued 1 s, deploying 1 s from 1,000
MISSING = "ModuleNotFoundError: No module named 'nvflare.app_common.no_such_module'"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def time(self) -> float:
        return self.now


def _store(sites: tuple[str, ...] = ("site-1", "site-2")) -> tuple[JobStore, _Clock]:
    clock = _Clock()
    return JobStore(clock, random.Random(9), lambda: list(sites)), clock


def _zip(apps: dict[str, dict[str, Any]]) -> bytes:
    """A job zip: app name -> {config file name: config}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("job/meta.json", "{}")
        for app, configs in apps.items():
            for name, config in configs.items():
                archive.writestr(f"job/{app}/config/{name}", json.dumps(config))
    return buffer.getvalue()


def _broken_server() -> dict[str, Any]:
    server = server_config(3)
    server["components"].append(dict(BROKEN))
    return server


def _broken_client() -> dict[str, Any]:
    client = client_config()
    client["components"] = [dict(BROKEN)]
    return client


def _app(server: Optional[dict[str, Any]] = None, client: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    return {"config_fed_server.json": server or server_config(3), "config_fed_client.json": client or client_config()}


def _run(store: JobStore, clock: _Clock, content: bytes, deploy_map: dict[str, list[str]]) -> JobRecord:
    record = store.create({"name": "j", "deploy_map": deploy_map}, content)
    clock.now = START
    store.sync()
    assert record.status is RunStatus.RUNNING and record.started_at == START
    return record


def _finish(store: JobStore, clock: _Clock, record: JobRecord) -> tuple[float, RunStatus]:
    clock.now = START + 1_000
    store.sync()
    when, _old, new = record.transitions[-1]
    return when, new


# ------------------------------------------------------------------ apps that do not load


def test_a_server_app_that_does_not_load_ends_the_run_after_six_seconds_without_a_round() -> None:
    store, clock = _store()
    record = _run(store, clock, _zip({"app": _app(server=_broken_server())}), {"app": ["@ALL"]})
    assert [(f.target, f.exception) for f in record.load_failures] == [("server", MISSING)]
    assert record.script.outcome is RunStatus.FINISHED_EXECUTION_EXCEPTION
    assert record.script.failure == MISSING
    assert record.script.running == Phase.after(SERVER_LOAD_FAILURE_SECONDS)
    assert record.round_times == []
    assert _finish(store, clock, record) == (START + 6.0, RunStatus.FINISHED_EXECUTION_EXCEPTION)
    assert record.round_times == []


def test_when_no_site_loads_its_app_the_run_fails_after_the_dead_client_grace_period() -> None:
    store, clock = _store()
    record = _run(store, clock, _zip({"app": _app(client=_broken_client())}), {"app": ["@ALL"]})
    assert [f.target for f in record.load_failures] == ["site-1", "site-2"]
    assert record.script.running == Phase.after(SITE_LOAD_FAILURE_SECONDS)
    assert record.round_times == [START]  # the server's workflow starts round 0
    assert _finish(store, clock, record) == (START + 74.0, RunStatus.FINISHED_EXECUTION_EXCEPTION)
    assert record.round_times == [START]


def test_a_run_outlives_some_dead_sites_round_zero_waiting_for_them() -> None:
    store, clock = _store()
    content = _zip({"good": _app(), "bad": _app(client=_broken_client())})
    record = _run(store, clock, content, {"good": ["server", "site-1"], "bad": ["site-2"]})
    assert [f.target for f in record.load_failures] == ["site-2"]
    assert record.some_sites_dead
    span = 10.0  # 30 s over 3 rounds
    assert record.script.outcome is RunStatus.FINISHED_COMPLETED
    assert record.script.running == Phase.after(DEAD_SITE_DELAY + 2 * span + RUN_WIND_DOWN)
    assert record.script.round_seconds == span
    assert _finish(store, clock, record) == (START + 94.0, RunStatus.FINISHED_COMPLETED)
    assert record.round_times == [START, START + 69.0, START + 79.0]


def test_a_scripted_outcome_or_check_loadable_off_skips_the_load_check() -> None:
    content = _zip({"app": _app(server=_broken_server())})
    for script in (JobScript.ends("ABNORMAL", after=30.0), JobScript(check_loadable=False)):
        store, clock = _store()
        store.script(script)
        record = _run(store, clock, content, {"app": ["@ALL"]})
        assert record.load_failures == []
        assert record.round_times == [START]
        assert _finish(store, clock, record) == (START + 30.0, script.outcome)


def test_installed_classes_load() -> None:
    store, clock = _store()
    prefix = MISSING_CLASS.rsplit(".", 1)[0] + "."
    store.script(JobScript(loadable=(prefix,)))
    record = _run(store, clock, _zip({"app": _app(server=_broken_server())}), {"app": ["@ALL"]})
    assert record.load_failures == []
    assert _finish(store, clock, record) == (START + 30.0, RunStatus.FINISHED_COMPLETED)


def test_the_server_app_is_the_one_the_deploy_map_gives_the_server() -> None:
    store, clock = _store()
    record = _run(store, clock, _zip({"app": _app()}), {"app": ["site-1", "site-2"]})
    assert record.app_name == ""
    assert record.site_apps == {"site-1": "app", "site-2": "app"}
    other = store.create({"name": "k", "deploy_map": {"a": ["site-1"], "b": ["server"]}}, b"")
    clock.now = START + 2
    store.sync()
    assert other.app_name == "b"


# ------------------------------------------------------------------ resources


def _slots(**sites: int) -> ResourcePool:
    return ResourcePool({site: ListResources({"slot": tuple(range(count))}) for site, count in sites.items()})


def _free(pool: ResourcePool, site: str) -> int:
    return len(pool.report(site)["resources"]["slot"])


def test_a_dispatched_job_holds_its_reserved_units_until_it_ends() -> None:
    store, clock = _store(("site-1",))
    store.resources = pool = _slots(**{"site-1": 2})
    record = store.create({"name": "a", "deploy_map": {"app": ["@ALL"]}, "resource_spec": {"site-1": {"slot": 2}}}, b"")
    clock.now = 1_001.0
    store.sync()
    assert record.status is RunStatus.DISPATCHED
    assert pool.held_by(record.job_id) == {"site-1": {"slot": [0, 1]}}
    assert _free(pool, "site-1") == 0
    clock.now = 2_000.0
    store.sync()
    assert record.status is RunStatus.FINISHED_COMPLETED
    assert _free(pool, "site-1") == 2


def test_a_deployment_that_fails_gives_its_reservations_back_at_once() -> None:
    store, clock = _store(("site-1",))
    store.resources = pool = _slots(**{"site-1": 1})
    store.script(JobScript.ends("FAILED_TO_RUN"))
    record = store.create({"name": "a", "deploy_map": {"app": ["@ALL"]}, "resource_spec": {"site-1": {"slot": 1}}}, b"")
    clock.now = 1_001.0
    store.sync()
    assert record.status is RunStatus.FAILED_TO_RUN
    assert _free(pool, "site-1") == 1


def test_a_required_site_without_resources_fails_the_attempt_and_frees_the_others() -> None:
    store, clock = _store()
    store.resources = pool = _slots(**{"site-1": 1, "site-2": 0})
    results: list[Optional[str]] = []
    store.on_schedule.append(lambda record, result, when: results.append(result))
    spec = {"site-1": {"slot": 1}, "site-2": {"slot": 1}}
    meta = {"name": "a", "deploy_map": {"app": ["@ALL"]}, "resource_spec": spec, "mandatory_clients": ["site-2"]}
    record = store.create({**meta, "min_clients": 1}, b"")
    clock.now = 1_001.0
    store.sync()
    assert results == ["required sites: ['site-2'] don't have enough resources"]
    assert record.status is RunStatus.SUBMITTED
    assert record.meta["schedule_history"][-1].endswith(": required sites: ['site-2'] don't have enough resources")
    assert _free(pool, "site-1") == 1  # site-1's reservation was cancelled, not left to expire


def test_a_resource_spec_that_is_not_a_mapping_asks_nothing_of_the_sites() -> None:
    store, clock = _store(("site-1",))
    store.resources = _slots(**{"site-1": 0})
    record = store.create({"name": "a", "deploy_map": {"app": ["@ALL"]}, "resource_spec": ["slot"]}, b"")
    clock.now = 1_001.0
    store.sync()
    assert record.status is RunStatus.DISPATCHED


def test_a_job_that_stops_crashing_the_scheduler_no_longer_holds_back_later_jobs() -> None:
    store, clock = _store()
    store.resources = _slots(**{"site-1": 0, "site-2": 1})
    results: list[tuple[str, Optional[str]]] = []
    store.on_schedule.append(lambda record, result, when: results.append((str(record.meta["name"]), result)))
    crashing = store.create(
        {"name": "a", "deploy_map": {"app": ["@ALL"]}, "min_clients": 2, "resource_spec": {"site-1": {"slot": 1}}}, b""
    )
    clock.now = 1_001.0
    store.sync()
    assert results == [("a", None)] and store.crash_site == "site-2"
    crashing.meta["resource_spec"] = {"site-1": {"slot": 1}, "site-2": {"slot": 1}}  # now it just fails
    later = store.create({"name": "b", "deploy_map": {"app": ["site-2"]}}, b"")
    clock.now = 1_002.0
    store.sync()
    assert results[1:] == [
        ("a", "not enough sites have enough resources (ok sites 1 < min sites 2"),
        ("b", "scheduled"),  # not held back: the pass gets past "a" again
    ]
    assert later.status is RunStatus.DISPATCHED


def test_a_job_over_the_schedule_count_cannot_be_scheduled_and_the_hooks_hear_why() -> None:
    store, clock = _store()
    results: list[Optional[str]] = []
    store.on_schedule.append(lambda record, result, when: results.append(result))
    record = store.create({"name": "a", "deploy_map": {"app": ["@ALL"]}, "schedule_count": 10}, b"")
    clock.now = 1_001.0
    store.sync()
    assert results == ["exceeded max schedule count 10"]
    assert record.status is RunStatus.FINISHED_CANT_SCHEDULE
    assert record.meta["schedule_count"] == 11


# ------------------------------------------------------------------ FLARE's _try_job


def _attempts(store: JobStore) -> list[tuple[str, Optional[str], float]]:
    seen: list[tuple[str, Optional[str], float]] = []
    store.on_schedule.append(lambda record, result, when: seen.append((str(record.meta["name"]), result, when)))
    return seen


def test_a_job_behind_one_that_crashes_the_scheduler_is_retried_every_tick_untried() -> None:
    store, clock = _store()
    store.resources = _slots(**{"site-1": 0, "site-2": 1})
    seen = _attempts(store)
    spec = {"site-1": {"slot": 1}}
    crashing = store.create(
        {"name": "a", "deploy_map": {"app": ["@ALL"]}, "min_clients": 2, "resource_spec": spec}, b""
    )
    behind = store.create({"name": "b", "deploy_map": {"app": ["site-2"]}}, b"")
    for now in (1_001.0, 1_002.0, 1_003.0):
        clock.now = now
        store.sync()
    assert seen == [("a", None, 1_001.0), ("a", None, 1_002.0), ("a", None, 1_003.0)]
    assert behind.status is RunStatus.SUBMITTED and behind.next_attempt == 1_004.0
    store.abort(crashing)  # the pass gets past it again
    clock.now = 1_004.0
    store.sync()
    assert seen[-1] == ("b", "scheduled", 1_004.0)


def test_a_job_without_a_usable_deploy_map_cannot_be_scheduled() -> None:
    deploy_maps: tuple[object, ...] = (None, {}, ["app"], "app")
    for deploy_map in deploy_maps:
        store, clock = _store()
        seen = _attempts(store)
        record = store.create({"name": "a", "deploy_map": deploy_map}, b"")
        clock.now = 1_001.0
        store.sync()
        assert seen == [("a", "no deploy map", 1_001.0)]
        assert record.status is RunStatus.FINISHED_CANT_SCHEDULE
        assert record.transitions == [(1_001.0, RunStatus.SUBMITTED, RunStatus.FINISHED_CANT_SCHEDULE)]


def test_the_deploy_map_picks_the_online_sites_and_the_server() -> None:
    store, clock = _store()
    record = store.create({"name": "a", "deploy_map": {"x": [7, "site-1", "site-9"], "y": ["server", "site-2"]}}, b"")
    clock.now = 1_001.0
    store.sync()
    assert record.status is RunStatus.DISPATCHED
    assert record.site_apps == {"server": "y", "site-1": "x", "site-2": "y"}
    assert record.sites == ["site-1", "site-2"]


def test_a_missing_required_site_or_too_few_sites_is_tried_again_later() -> None:
    store, clock = _store()
    seen = _attempts(store)
    missing = store.create({"name": "m", "deploy_map": {"app": ["@ALL"]}, "mandatory_clients": ["site-3"]}, b"")
    few = store.create({"name": "f", "deploy_map": {"app": ["site-1"]}, "min_clients": 2}, b"")
    clock.now = 1_001.0
    store.sync()
    assert seen == [
        ("m", "missing required site site-3", 1_001.0),
        ("f", "connected sites (1) < min_sites (2)", 1_001.0),
    ]
    assert missing.status is RunStatus.SUBMITTED and missing.next_attempt == 1_011.0
    assert few.status is RunStatus.SUBMITTED and few.next_attempt == 1_011.0


def test_a_job_scripted_not_to_schedule_fails_for_resources_until_the_count_runs_out() -> None:
    store, clock = _store()
    seen = _attempts(store)
    store.script(JobScript.ends("CAN_NOT_SCHEDULE"))
    one = store.create({"name": "one", "deploy_map": {"app": ["@ALL"]}}, b"")
    two = store.create({"name": "two", "deploy_map": {"app": ["@ALL"]}, "min_clients": 2}, b"")
    clock.now = 1_001.0
    store.sync()
    assert seen == [
        ("one", "not enough sites have enough resources (ok sites 0 < min sites 1", 1_001.0),
        ("two", "not enough sites have enough resources (ok sites 0 < min sites 2", 1_001.0),
    ]
    assert one.status is RunStatus.SUBMITTED and two.status is RunStatus.SUBMITTED
    clock.now = 100_000.0
    store.sync()
    assert one.status is RunStatus.FINISHED_CANT_SCHEDULE
    assert one.meta["schedule_count"] == 11


def test_a_resource_refusal_is_tried_again_later() -> None:
    store, clock = _store(("site-1",))
    store.resources = _slots(**{"site-1": 0})
    meta = {"name": "a", "deploy_map": {"app": ["@ALL"]}, "resource_spec": {"site-1": {"slot": 1}}}
    record = store.create({**meta, "min_clients": 1}, b"")
    clock.now = 1_001.0
    store.sync()
    assert record.status is RunStatus.SUBMITTED
    assert record.next_attempt == 1_011.0


# ------------------------------------------------------------------ rounds from the job's config


def test_a_jobs_rounds_come_from_the_app_the_deploy_map_gives_the_server() -> None:
    content = _zip({"a": _app(server=server_config(2)), "b": _app(server=server_config(7))})
    cases: list[tuple[object, int]] = [
        ({"b": ["@ALL"]}, 7),
        ({"a": ["site-1"], "b": ["server"]}, 7),
        ({"b": ["server"], "a": ["@all"]}, 2),  # the last mention wins; @ALL in any case
        ({"b": ["server"], "a": ["site-1", 5]}, 7),
        ({"a": {"server": 1}}, 3),  # not a list of sites: no server app, the default rounds
        ({"a": ["site-1"]}, 3),
        ("server", 3),
    ]
    for deploy_map, rounds in cases:
        store, _clock = _store()
        record = store.create({"name": "j", "deploy_map": deploy_map}, content)
        assert record.script.rounds == rounds, deploy_map
        assert record.script.running == Phase.after(10.0 * rounds)


def test_a_name_that_is_not_a_string_gets_the_default_script() -> None:
    store, _clock = _store()
    store.script(JobScript.hangs(), name="['x']")
    record = store.create({"name": ["x"], "deploy_map": {"app": ["@ALL"]}}, b"")
    assert not record.script.running.forever
    assert store.unnamed() == [record]


def test_server_app_is_empty_without_a_server_in_the_deploy_map() -> None:
    assert _server_app({"deploy_map": {"a": ["site-1"]}}) == ""
    assert _server_app({}) == ""
    assert _server_app({"deploy_map": {"a": ["server"]}}) == "a"
