"""FLARE 2.3.12's resource managers as the fake applies them: check, reserve, cancel, allocate, free."""

from __future__ import annotations

import pytest

from fakeserver.model.resources import RESERVATION_EXPIRY, GPUResources, ListResources, ResourcePool


def test_gpu_check_counts_gpus_with_enough_memory() -> None:
    pool = ResourcePool({"s": GPUResources(num_of_gpus=2, mem_per_gpu_in_GiB=16)})
    assert pool.check("s", {"num_of_gpus": 3}, 0.0) == (False, "")
    assert pool.check("s", {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 32}, 0.0) == (False, "")
    ok, token = pool.check("s", {"num_of_gpus": 2, "mem_per_gpu_in_GiB": 10}, 0.0)
    assert ok and token
    # 6 GiB left on each GPU: a second 10 GiB request fails until the first is cancelled
    assert pool.check("s", {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 10}, 0.0)[0] is False
    pool.cancel(token)
    assert pool.check("s", {"num_of_gpus": 1, "mem_per_gpu_in_GiB": 10}, 0.0)[0] is True


def test_gpu_requirement_without_count_is_not_enough_and_empty_is() -> None:
    pool = ResourcePool({})
    # the provisioned default manager: 0 GPUs; {} always passes, a key other than num_of_gpus raises in FLARE
    assert pool.check("x", {}, 0.0)[0] is True
    assert pool.check("x", {"gpu": 1}, 0.0) == (False, "")
    assert pool.check("x", {"num_of_gpus": 1}, 0.0) == (False, "")


def test_list_manager_units_and_unknown_names() -> None:
    pool = ResourcePool({"s": ListResources({"gpu": [0, 1, 2]})})
    assert pool.check("s", {"gpu": 4}, 0.0)[0] is False
    assert pool.check("s", {"cpu": 1}, 0.0)[0] is False
    ok, token = pool.check("s", {"gpu": 2}, 0.0)
    assert ok
    pool.allocate("job", {"s": token})
    assert pool.report("s") == {"resources": {"gpu": [2]}}
    assert pool.held_by("job") == {"s": {"gpu": [0, 1]}}
    pool.free("job")
    assert pool.report("s") == {"resources": {"gpu": [1, 0, 2]}}  # FLARE appends back to the left, one by one


def test_unallocated_reservations_expire() -> None:
    pool = ResourcePool({"s": ListResources({"gpu": [0]})})
    assert pool.check("s", {"gpu": 1}, 0.0)[0]
    assert pool.check("s", {"gpu": 1}, RESERVATION_EXPIRY - 1)[0] is False
    assert pool.check("s", {"gpu": 1}, RESERVATION_EXPIRY)[0] is True


def test_bad_resource_definitions() -> None:
    with pytest.raises(ValueError, match="num_of_gpus"):
        GPUResources(num_of_gpus=-1)
    with pytest.raises(ValueError, match="mem_per_gpu_in_GiB"):
        GPUResources(mem_per_gpu_in_GiB="lots")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="list of units"):
        ListResources({"gpu": 3})  # type: ignore[dict-item]


def test_resources_json_matches_the_provisioned_template() -> None:
    doc = GPUResources(2, 8).resources_json()
    assert doc["format_version"] == 2
    manager = doc["components"][0]
    assert manager["path"].endswith("GPUResourceManager")
    assert manager["args"] == {"num_of_gpus": 2, "mem_per_gpu_in_GiB": 8}
    listed = ListResources({"gpu": [0, 1]}).resources_json()["components"][0]
    assert listed["args"] == {"resources": {"gpu": [0, 1]}}
