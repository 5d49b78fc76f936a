"""The scenario file format: the examples load, and each kind of bad file gets its one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakeserver.model.job_script import Phase, RunStatus
from fakeserver.model.resources import GPUResources, ListResources
from fakeserver.scenario_file import ScenarioError, load_scenario, schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_schema_is_shipped_and_is_valid() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("name", ["scenario.yaml", "scenario.toml"])
def test_examples_load(name: str) -> None:
    scenario = load_scenario(EXAMPLES / name)
    sites = {site.name: site.resources for site in scenario.project.sites}
    assert sites == {"site-1": GPUResources(2, 16), "site-2": ListResources({"gpu": (0, 1, 2, 3)})}
    assert [u.role for u in scenario.project.admins] == ["project_admin", "lead", "member"]
    assert scenario.default_script is not None and scenario.default_script.running == Phase.after(30.0)
    failing = scenario.scripts["hello-numpy-sag"]
    assert failing.outcome is RunStatus.FINISHED_EXECUTION_EXCEPTION and failing.failure.startswith("division")
    assert scenario.scripts["slow-job"].running == Phase.never()
    assert scenario.scripts["polled-job"].running == Phase.after_polls(3)
    assert scenario.scripts["site-trainer"].loadable == ("my_site_pkg.",)
    assert scenario.scripts["legacy-app"].check_loadable is False
    assert scenario.faults[0].kind == "delay" and scenario.faults[0].command == "list_jobs"
    assert scenario.clock.mode == "virtual" and scenario.clock.start == 1767225600.0 and scenario.clock.speed == 10


def test_yaml_and_toml_examples_are_the_same_scenario() -> None:
    assert load_scenario(EXAMPLES / "scenario.yaml") == load_scenario(EXAMPLES / "scenario.toml")


def test_an_empty_file_is_the_default_federation(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    scenario = load_scenario(path)
    assert [s.name for s in scenario.project.sites] == ["site-1", "site-2"]
    assert scenario.clock.mode == "real" and scenario.default_script is None


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _json(tmp_path: Path, doc: object) -> Path:
    return _write(tmp_path, "s.json", json.dumps(doc))


BAD_DOCS = [
    ({"projekt": {}}, "(top level): Additional properties are not allowed ('projekt' was unexpected)"),
    ({"project": {"sites": [{"name": "site-1"}]}}, "project.sites[0]: 'org' is a required property"),
    (
        {"project": {"sites": [{"name": "a", "org": "o", "resources": {"gpu": {"num_of_gpus": -1}}}]}},
        "project.sites[0].resources.gpu.num_of_gpus: -1 is less than the minimum of 0",
    ),
    (
        {"project": {"sites": [{"name": "a", "org": "o", "resources": {"cpu": 4}}]}},
        "project.sites[0].resources: ",
    ),
    (
        {"project": {"users": [{"name": "a@b.c", "org": "o", "role": "boss"}]}},
        "project.users[0].role: 'boss' is not one of ['project_admin', 'org_admin', 'lead', 'member']",
    ),
    ({"jobs": {"by_name": {"j": {"outcome": "WON"}}}}, "jobs.by_name.j.outcome: 'WON' is not one of"),
    ({"jobs": {"default": {"running": "soon"}}}, "jobs.default.running: "),
    ({"jobs": {"default": {"loadable": "my_pkg."}}}, "jobs.default.loadable: 'my_pkg.' is not of type 'array'"),
    ({"jobs": {"default": {"check_loadable": "no"}}}, "jobs.default.check_loadable: 'no' is not of type 'boolean'"),
    ({"faults": [{"kind": "explode"}]}, "faults[0].kind: 'explode' is not one of"),
    ({"faults": [{"kind": "drop", "times": 0}]}, "faults[0].times: must not be 0"),
    ({"faults": [{"kind": "delay"}]}, "faults[0].seconds: a delay fault needs seconds > 0"),
    ({"faults": [{"kind": "tls_abort", "command": "list_jobs"}]}, "faults[0].command: a tls_abort fault fires"),
    ({"clock": {"mode": "sundial"}}, "clock.mode: 'sundial' is not one of ['real', 'virtual']"),
    ({"clock": {"mode": "real", "advance": "auto"}}, "clock: start, advance and speed need mode 'virtual'"),
    ({"clock": {"start": "yesterday"}}, "clock.start: 'yesterday' is not an ISO 8601 date-time"),
    ({"clock": {"start": "2026-01-01T00:00:00"}}, "clock.start: '2026-01-01T00:00:00' needs a time zone"),
    ({"clock": {"speed": 0}}, "clock.speed: 0 is less than or equal to the minimum of 0"),
    (
        {"project": {"sites": [{"name": "x", "org": "o"}, {"name": "x", "org": "o"}]}},
        "project: duplicate name: site 'x' clashes with site 'x'",
    ),
    ({"project": {"users": [{"name": "nobody", "org": "o", "role": "lead"}]}}, "project: admin name 'nobody' is not"),
    ([1, 2], "(top level): [1, 2] is not of type 'object'"),
]


@pytest.mark.parametrize(("doc", "message"), BAD_DOCS)
def test_bad_documents(tmp_path: Path, doc: object, message: str) -> None:
    path = _json(tmp_path, doc)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    text = str(raised.value)
    assert text.startswith(f"{path}: {message}"), text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("s.yaml", "project: [unclosed", "not valid YAML: "),
        ("s.toml", "project = = 1", "not valid TOML: "),
        ("s.json", "{", "not valid JSON: "),
        ("s.ini", "", "unknown file type '.ini'; use .yaml, .yml, .toml or .json"),
    ],
)
def test_unparsable_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    assert str(raised.value).startswith(f"{path}: {message}")
    assert "\n" not in str(raised.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: cannot be read: No such file or directory"):
        load_scenario(tmp_path / "nope.yaml")
