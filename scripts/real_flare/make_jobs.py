"""Writes the tiny real FLARE 2.3 jobs used against the real deployment (under /tmp, never the repo).

- ``hello-numpy``: ScatterAndGather over nvflare's own numpy components (NPTrainer, NPModelPersistor,
  InTimeAccumulateWeightedAggregator, FullModelShareableGenerator), 3 rounds, two clients; ~10-20 s.
- ``slow-numpy``: the same with 50 rounds and a 3 s sleep in the trainer, so it stays RUNNING long
  enough to abort, restart or try to delete it.
- ``bad-no-deploy-map``: meta.json with an empty deploy_map (InvalidJobDefinition).
- ``one-round`` / ``two-sites-five-rounds``: other configs (rounds; ``one-round`` deployed to site-1 only).
- ``gpu-hungry``: resource_spec asking 4 GPUs of each site (none has any: it stays SUBMITTED).
- ``cpu-spec``: a resource_spec every site satisfies (runs like hello-numpy).
- ``bad-server-app`` / ``bad-site-app``: a component path that does not import, on the server / on the sites
  (the app fails to load there).
- ``bad-executor``: the sites' executor names a class its module does not have.
- ``bad-one-site``: two apps; site-2's executor's module does not exist (only site-2 fails to load).
- ``custom-app``: the executor is a class the job ships in ``custom/`` (it loads).
- ``by-name``: the executor given by ``name`` (``NPTrainer``, found by FLARE's module scanner).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _server_config(num_rounds: int) -> dict:
    return {
        "format_version": 2,
        "server": {"heart_beat_timeout": 600},
        "task_data_filters": [],
        "task_result_filters": [],
        "components": [
            {"id": "persistor", "path": "nvflare.app_common.np.np_model_persistor.NPModelPersistor", "args": {}},
            {
                "id": "shareable_generator",
                "path": "nvflare.app_common.shareablegenerators.full_model_shareable_generator."
                "FullModelShareableGenerator",
                "args": {},
            },
            {
                "id": "aggregator",
                "path": "nvflare.app_common.aggregators.intime_accumulate_model_aggregator."
                "InTimeAccumulateWeightedAggregator",
                "args": {
                    "expected_data_kind": "WEIGHTS",
                    "aggregation_weights": {"site-1": 1.0, "site-2": 1.0},
                },
            },
        ],
        "workflows": [
            {
                "id": "scatter_and_gather",
                "path": "nvflare.app_common.workflows.scatter_and_gather.ScatterAndGather",
                "args": {
                    "min_clients": 2,
                    "num_rounds": num_rounds,
                    "start_round": 0,
                    "wait_time_after_min_received": 0,
                    "aggregator_id": "aggregator",
                    "persistor_id": "persistor",
                    "shareable_generator_id": "shareable_generator",
                    "train_task_name": "train",
                    "train_timeout": 0,
                },
            }
        ],
    }


def _client_config(sleep_time: float) -> dict:
    return {
        "format_version": 2,
        "executors": [
            {
                "tasks": ["train"],
                "executor": {
                    "path": "nvflare.app_common.np.np_trainer.NPTrainer",
                    "args": {"sleep_time": sleep_time},
                },
            }
        ],
        "task_result_filters": [],
        "task_data_filters": [],
        "components": [],
    }


_MISSING_CLASS = "nvflare.app_common.no_such_module.NoSuchComponent"


def write_job(
    root: Path,
    name: str,
    num_rounds: int,
    sleep_time: float,
    deploy_map: dict | None = None,
    resource_spec: dict | None = None,
    min_clients: int = 2,
    broken: str = "",
    executor: dict | None = None,
    custom: dict[str, str] | None = None,
) -> Path:
    """One job folder; ``broken`` = "server" or "site" puts a component that does not import into that app."""
    job = root / name
    config = job / "app" / "config"
    config.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": name,
        "resource_spec": resource_spec or {},
        "deploy_map": {"app": ["@ALL"]} if deploy_map is None else deploy_map,
        "min_clients": min_clients,
    }
    server, client = _server_config(num_rounds), _client_config(sleep_time)
    server["workflows"][0]["args"]["min_clients"] = min_clients
    broken_component = {"id": "broken", "path": _MISSING_CLASS, "args": {}}
    if broken == "server":
        server["components"].append(broken_component)
    elif broken == "site":
        client["components"].append(broken_component)
    if executor is not None:
        client["executors"][0]["executor"] = executor
    (job / "meta.json").write_text(json.dumps(meta, indent=2))
    (config / "config_fed_server.json").write_text(json.dumps(server, indent=2))
    (config / "config_fed_client.json").write_text(json.dumps(client, indent=2))
    for name, text in (custom or {}).items():
        (job / "app" / "custom").mkdir(exist_ok=True)
        (job / "app" / "custom" / name).write_text(text)
    return job


#: A trainer the ``custom-app`` job ships (custom/ is on the job process's sys.path).
CUSTOM = {
    "my_trainer.py": "from nvflare.app_common.np.np_trainer import NPTrainer\n\n\n"
    "class MyTrainer(NPTrainer):\n    pass\n"
}


def write_split_job(root: Path, name: str) -> Path:
    """``app`` on the server and site-1, ``broken`` on site-2 with an executor whose module does not exist."""
    job = write_job(root, name, 1, 0, deploy_map={"app": ["server", "site-1"], "broken": ["site-2"]})
    broken = job / "broken" / "config"
    broken.mkdir(parents=True, exist_ok=True)
    client = _client_config(0)
    client["executors"][0]["executor"] = {"path": "no_such_pkg.Trainer", "args": {}}
    (broken / "config_fed_server.json").write_text(json.dumps(_server_config(1), indent=2))
    (broken / "config_fed_client.json").write_text(json.dumps(client, indent=2))
    return job


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/realflare/jobs")
    args = parser.parse_args()
    root = Path(args.out)
    for path in (
        write_job(root, "hello-numpy", num_rounds=3, sleep_time=0),
        write_job(root, "slow-numpy", num_rounds=50, sleep_time=3),
        write_job(root, "bad-no-deploy-map", num_rounds=1, sleep_time=0, deploy_map={}),
        write_job(root, "one-round", 1, 0, deploy_map={"app": ["server", "site-1"]}, min_clients=1),
        write_job(root, "two-sites-five-rounds", 5, 0),
        write_job(root, "gpu-hungry", 1, 0, resource_spec={"site-1": {"num_of_gpus": 4}, "site-2": {"num_of_gpus": 4}}),
        write_job(root, "cpu-spec", 1, 0, resource_spec={"site-1": {"num_of_gpus": 0}, "site-2": {"num_of_gpus": 0}}),
        write_job(root, "bad-server-app", 1, 0, broken="server"),
        write_job(root, "bad-site-app", 1, 0, broken="site"),
        write_job(root, "bad-executor", 1, 0, executor={"path": "nvflare.app_common.np.np_trainer.NoSuchTrainer"}),
        write_split_job(root, "bad-one-site"),
        write_job(root, "custom-app", 1, 0, executor={"path": "my_trainer.MyTrainer", "args": {}}, custom=CUSTOM),
        write_job(root, "by-name", 1, 0, executor={"name": "NPTrainer", "args": {"sleep_time": 0}}),
    ):
        print(path)


if __name__ == "__main__":
    main()
