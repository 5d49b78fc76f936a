"""Site resources and FLARE 2.3.12's client-side resource check, reservation, allocation and release.

A site has one resource manager, as a provisioned kit's ``local/resources.json`` configures it:
:class:`GPUResources` (FLARE's ``GPUResourceManager``, the provisioned default with 0 GPUs) or
:class:`ListResources` (FLARE's ``ListResourceManager``). :class:`ResourcePool` holds every site's free
units, applies the managers' ``check_resources`` rules, and keeps what a running job holds until it ends.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

#: FLARE's ``AutoCleanResourceManager`` default: an unallocated reservation is released after 30 s.
RESERVATION_EXPIRY = 30.0
_GPU_PATH = "nvflare.app_common.resource_managers.gpu_resource_manager.GPUResourceManager"
_LIST_PATH = "nvflare.app_common.resource_managers.list_resource_manager.ListResourceManager"
_GPU_CONSUMER = "nvflare.app_common.resource_consumers.gpu_resource_consumer.GPUResourceConsumer"
_LIST_CONSUMER = "nvflare.app_common.resource_consumers.list_resource_consumer.ListResourceConsumer"


@dataclass(frozen=True)
class GPUResources:
    """``GPUResourceManager(num_of_gpus, mem_per_gpu_in_GiB)``; a requirement names ``num_of_gpus`` and
    optionally ``mem_per_gpu_in_GiB``."""

    num_of_gpus: int = 0
    mem_per_gpu_in_GiB: float = 0

    def __post_init__(self) -> None:
        if isinstance(self.num_of_gpus, bool) or not isinstance(self.num_of_gpus, int) or self.num_of_gpus < 0:
            raise ValueError(f"num_of_gpus must be an integer >= 0, got {self.num_of_gpus!r}")
        mem = self.mem_per_gpu_in_GiB
        if isinstance(mem, bool) or not isinstance(mem, (int, float)) or mem < 0:
            raise ValueError(f"mem_per_gpu_in_GiB must be a number >= 0, got {mem!r}")

    def resources_json(self) -> dict[str, Any]:
        """The site's ``local/resources.json`` (FLARE 2.3.12's provisioned template, with these numbers)."""
        manager = {"num_of_gpus": self.num_of_gpus, "mem_per_gpu_in_GiB": self.mem_per_gpu_in_GiB}
        return _resources_json(
            [
                {"id": "resource_manager", "path": _GPU_PATH, "args": manager},
                {"id": "resource_consumer", "path": _GPU_CONSUMER, "args": {}},
            ]
        )


@dataclass(frozen=True)
class ListResources:
    """``ListResourceManager(resources={name: [unit, ...]})``; a requirement maps names to unit counts."""

    resources: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.resources, Mapping):
            raise ValueError(f"resources must be a mapping of name to a list of units, got {self.resources!r}")
        fixed = {}
        for name, units in self.resources.items():
            if not isinstance(name, str) or not isinstance(units, (list, tuple)):
                raise ValueError(f"resource {name!r} must be a list of units, got {units!r}")
            fixed[name] = tuple(units)
        object.__setattr__(self, "resources", fixed)

    def resources_json(self) -> dict[str, Any]:
        """The site's ``local/resources.json`` with a ``ListResourceManager`` and its consumer (without a
        ``resource_consumer`` a real 2.3.12 site fails every job that gets units: FAILED_TO_RUN, observed)."""
        args = {"resources": {name: list(units) for name, units in self.resources.items()}}
        return _resources_json(
            [
                {"id": "resource_manager", "path": _LIST_PATH, "args": args},
                {"id": "resource_consumer", "path": _LIST_CONSUMER, "args": {}},
            ]
        )


SiteResources = Union[GPUResources, ListResources]
#: What an unconfigured site has: the provisioned ``GPUResourceManager`` with no GPUs.
DEFAULT_RESOURCES = GPUResources()


def _resources_json(components: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format_version": 2, "client": {"retry_timeout": 30, "compression": "Gzip"}, "components": components}


class _Manager:
    """One site's free units and FLARE's check/reserve/deallocate rules for its manager class."""

    def __init__(self, spec: SiteResources) -> None:
        self.spec = spec
        self.gpus: dict[int, float] = {}
        self.units: dict[str, deque[Any]] = {}
        if isinstance(spec, GPUResources):
            self.gpus = {i: float(spec.mem_per_gpu_in_GiB) for i in range(spec.num_of_gpus)}
        else:
            self.units = {name: deque(units) for name, units in spec.resources.items()}

    def available(self, req: dict[str, Any]) -> bool:
        """``_check_required_resource_available``; raises as FLARE does for a GPU requirement without a count."""
        if isinstance(self.spec, GPUResources):
            if not req:
                return True
            if "num_of_gpus" not in req:
                raise ValueError("resource_requirement is missing num_gpu_key num_of_gpus.")
            need, mem = req["num_of_gpus"], req.get("mem_per_gpu_in_GiB", 0)
            satisfied = 0
            for free in self.gpus.values():
                if free >= mem:
                    satisfied += 1
                if satisfied >= need:
                    return True
            return False
        return all(name in self.units and len(self.units[name]) >= count for name, count in req.items())

    def reserve(self, req: dict[str, Any]) -> dict[Any, Any]:
        if isinstance(self.spec, GPUResources):
            if not req:
                return {}
            need, mem = req["num_of_gpus"], req.get("mem_per_gpu_in_GiB", 0)
            reserved: dict[Any, Any] = {}
            for gpu, free in self.gpus.items():
                if free >= mem:
                    self.gpus[gpu] = free - mem
                    reserved[gpu] = mem
                if len(reserved) == need:
                    break
            return reserved
        return {name: [self.units[name].popleft() for _ in range(count)] for name, count in req.items()}

    def deallocate(self, reserved: dict[Any, Any]) -> None:
        if isinstance(self.spec, GPUResources):
            for gpu, mem in reserved.items():
                self.gpus[gpu] += mem
            return
        for name, units in reserved.items():
            for unit in units:
                self.units[name].appendleft(unit)

    def report(self) -> dict[str, Any]:
        if isinstance(self.spec, GPUResources):
            return {"gpus": [{"gpu_id": gpu, "memory": mem} for gpu, mem in self.gpus.items()]}
        return {"resources": {name: list(units) for name, units in self.units.items()}}


class ResourcePool:
    """Every site's resource manager, the open reservations and what each job holds."""

    def __init__(self, specs: Mapping[str, SiteResources]) -> None:
        self._base = dict(specs)
        self._specs = dict(specs)
        self._managers: dict[str, _Manager] = {}
        #: token -> (site, reserved units, expiry time)
        self._reserved: dict[str, tuple[str, dict[Any, Any], float]] = {}
        self._held: dict[str, list[tuple[str, dict[Any, Any]]]] = {}
        self._tokens = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """The project's resources again (undoing :meth:`set_spec`), all free, nothing reserved or held."""
        self._specs = dict(self._base)
        self._managers = {name: _Manager(spec) for name, spec in self._specs.items()}
        self._reserved.clear()
        self._held.clear()

    def spec(self, site: str) -> SiteResources:
        return self._managers[site].spec if site in self._managers else DEFAULT_RESOURCES

    def set_spec(self, site: str, spec: SiteResources) -> None:
        """Replace a site's resources (all free); what running jobs hold is not given back to the new set."""
        if not isinstance(spec, (GPUResources, ListResources)):
            raise TypeError(f"resources must be GPUResources or ListResources, got {type(spec).__name__}")
        self._specs[site] = spec
        self._managers[site] = _Manager(spec)
        self._reserved = {t: r for t, r in self._reserved.items() if r[0] != site}
        self._held = {job: [(s, r) for s, r in held if s != site] for job, held in self._held.items()}

    def _manager(self, site: str) -> _Manager:
        if site not in self._managers:
            self._managers[site] = _Manager(self._specs.get(site, DEFAULT_RESOURCES))
        return self._managers[site]

    def expire(self, now: float) -> None:
        """Release reservations nobody allocated within :data:`RESERVATION_EXPIRY` (FLARE's auto-clean)."""
        for token, (site, reserved, until) in list(self._reserved.items()):
            if until <= now:
                del self._reserved[token]
                self._manager(site).deallocate(reserved)

    def check(self, site: str, req: Any, now: float) -> tuple[bool, str]:
        """A site's answer to ``CHECK_RESOURCE``: (enough, reservation token). A requirement the manager
        raises on (e.g. a GPU requirement without ``num_of_gpus``) answers (False, "") as the client does."""
        self.expire(now)
        manager = self._manager(site)
        try:
            if not isinstance(req, dict) or not manager.available(req):
                return False, ""
            reserved = manager.reserve(req)
        except (ValueError, TypeError, KeyError):
            return False, ""
        token = f"reservation-{next(self._tokens)}"
        self._reserved[token] = (site, reserved, now + RESERVATION_EXPIRY)
        return True, token

    def cancel(self, token: str) -> None:
        entry = self._reserved.pop(token, None)
        if entry is not None:
            self._manager(entry[0]).deallocate(entry[1])

    def allocate(self, job_id: str, tokens: Mapping[str, str]) -> None:
        """The job starts on these sites: their reservations become the job's until :meth:`free`."""
        held = self._held.setdefault(job_id, [])
        for token in tokens.values():
            entry = self._reserved.pop(token, None)
            if entry is not None:
                held.append((entry[0], entry[1]))

    def free(self, job_id: str) -> None:
        """The job ended: every site gets back what it held."""
        for site, reserved in self._held.pop(job_id, []):
            self._manager(site).deallocate(reserved)

    def report(self, site: str) -> dict[str, Any]:
        """The site's free units (what ``report_resources`` would show, without reservations)."""
        return self._manager(site).report()

    def held_by(self, job_id: str) -> Optional[dict[str, Any]]:
        held = self._held.get(job_id)
        return None if held is None else {site: reserved for site, reserved in held}
