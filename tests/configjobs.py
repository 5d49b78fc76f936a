"""Job folders with real FLARE 2.3.12 configs (the numpy ScatterAndGather job of scripts/real_flare/make_jobs.py),
with other rounds, model files and components that do not load, for the job-config tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

MISSING_CLASS = "nvflare.app_common.no_such_module.NoSuchComponent"
BROKEN = {"id": "broken", "path": MISSING_CLASS, "args": {}}


def server_config(num_rounds: int, *, min_clients: int = 2, persistor_args: Optional[dict] = None) -> dict[str, Any]:
    return {
        "format_version": 2,
        "server": {"heart_beat_timeout": 600},
        "task_data_filters": [],
        "task_result_filters": [],
        "components": [
            {
                "id": "persistor",
                "path": "nvflare.app_common.np.np_model_persistor.NPModelPersistor",
                "args": persistor_args or {},
            },
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
                "args": {"expected_data_kind": "WEIGHTS"},
            },
        ],
        "workflows": [
            {
                "id": "scatter_and_gather",
                "path": "nvflare.app_common.workflows.scatter_and_gather.ScatterAndGather",
                "args": {
                    "min_clients": min_clients,
                    "num_rounds": num_rounds,
                    "aggregator_id": "aggregator",
                    "persistor_id": "persistor",
                    "shareable_generator_id": "shareable_generator",
                    "train_task_name": "train",
                },
            }
        ],
    }


def client_config() -> dict[str, Any]:
    return {
        "format_version": 2,
        "executors": [
            {"tasks": ["train"], "executor": {"path": "nvflare.app_common.np.np_trainer.NPTrainer", "args": {}}}
        ],
        "task_result_filters": [],
        "task_data_filters": [],
        "components": [],
    }


def numpy_job(
    parent: Path,
    name: str,
    *,
    num_rounds: int = 3,
    server: Optional[dict[str, Any]] = None,
    client: Optional[dict[str, Any]] = None,
    custom: Optional[dict[str, str]] = None,
    deploy_map: Optional[dict[str, list[str]]] = None,
    min_clients: int = 2,
) -> Path:
    """A job folder ``parent/name`` with one app ``app`` (configs as given, else the numpy job's)."""
    folder = parent / name
    config = folder / "app" / "config"
    config.mkdir(parents=True)
    meta = {
        "name": name,
        "resource_spec": {},
        "deploy_map": deploy_map or {"app": ["@ALL"]},
        "min_clients": min_clients,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    server = server if server is not None else server_config(num_rounds, min_clients=min_clients)
    (config / "config_fed_server.json").write_text(json.dumps(server, indent=2))
    (config / "config_fed_client.json").write_text(json.dumps(client or client_config(), indent=2))
    for relative, text in (custom or {}).items():
        path = folder / "app" / "custom" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def broken_server_job(parent: Path, name: str = "bad-server-app") -> Path:
    server = server_config(1)
    server["components"].append(dict(BROKEN))
    return numpy_job(parent, name, server=server)


def broken_site_job(parent: Path, name: str = "bad-site-app") -> Path:
    client = client_config()
    client["components"].append(dict(BROKEN))
    return numpy_job(parent, name, num_rounds=1, client=client)
