"""The server's side of a FLARE 2.4-2.6 ``submit_job``: the uploaded zip, checked as FLARE's ``JobMetaValidator`` does.

Differences from 2.3 (:mod:`fakeserver.model.uploads`; reference flare-2.4-2.6 section 7): no legacy conversion
(the zip is stored as uploaded, ``job_folder_name`` is set in the meta from the command's argument); the meta may
be ``meta.json`` or ``meta.yml``/``meta.yaml``, config files ``config_fed_*`` in any of FLARE's config formats;
messages quote the app and carry no ``ValueError: `` prefix; 2.5+ sets ``byoc: true`` when an app has a
``custom/`` folder; 2.6 accepts ``{"sites": [...]}`` entries in a deploy_map list. Any ``ValueError`` is an
invalid job definition; anything else is FLARE's ``Exception occurred trying to submit job`` (a bad zip too).
The hostile-zip refusals and caps of the 2.3 path apply unchanged, before anything is decompressed.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from .uploads import (
    ALL_SITES,
    MAX_META_BYTES,
    SERVER_SITE,
    JobDefinitionError,
    JobPackage,
    SubmitCrash,
    UnsafeUpload,
    _check_mandatory_clients,
    _check_min_clients,
    _check_resource_spec,
    _names_all_sites,
    _refuse_hostile,
)

__all__ = ["accept_upload"]

#: FLARE's ``ConfigFormat.config_ext_formats()`` order; the first meta file found is read.
CONFIG_EXTENSIONS = (".json", ".conf", ".yml", ".yaml", ".json.default", ".conf.default", ".yml.default",
                     ".yaml.default")  # fmt: skip
META_BASE = "meta"
SERVER_CONFIG = "config_fed_server"
CLIENT_CONFIG = "config_fed_client"
JOB_FOLDER_NAME = "job_folder_name"
BYOC = "byoc"


class _Bare(JobDefinitionError):
    """A 2.4+ validation failure: the reply text is the message alone."""

    @property
    def reply_text(self) -> str:
        return str(self)


def accept_upload(folder_name: str, data: bytes, *, byoc: bool, site_dicts: bool) -> JobPackage:
    """Validate the uploaded zip of job ``folder_name``; ``byoc`` (2.5+) and ``site_dicts`` (2.6) pick the release.

    Raises a :class:`JobDefinitionError` whose ``reply_text`` is FLARE's message, or :class:`SubmitCrash`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile is not a ValueError: FLARE's submit_job reports it as a crash
        raise SubmitCrash(exc) from exc
    with archive:
        infos = archive.infolist()
        try:
            _refuse_hostile(infos, folder_name)
        except UnsafeUpload as exc:
            raise _Bare(str(exc)) from None
        try:
            meta = _validate(folder_name, archive, {info.filename for info in infos}, byoc, site_dicts)
        except JobDefinitionError as exc:
            raise _Bare(str(exc)) from None
        except ValueError as exc:
            raise _Bare(str(exc)) from exc
        except Exception as exc:
            raise SubmitCrash(exc) from exc
    meta[JOB_FOLDER_NAME] = folder_name
    apps = {app: sorted(_participants(sites, site_dicts)) for app, sites in meta["deploy_map"].items()}
    return JobPackage(folder_name, meta, data, apps)


def _read_meta(job: str, archive: zipfile.ZipFile, names: set[str]) -> Any:
    for ext in CONFIG_EXTENSIONS:
        name = f"{job}/{META_BASE}{ext}"
        if name not in names:
            continue
        info = archive.getinfo(name)
        if info.file_size > MAX_META_BYTES:
            raise UnsafeUpload(f"{name} is larger than {MAX_META_BYTES} bytes for job {job}")
        text = archive.read(info).decode()
        if ext.startswith(".json"):
            return json.loads(text)
        if ext.startswith((".yml", ".yaml")):
            import yaml  # PyYAML parses the YAML subset FLARE's OmegaConf loader reads for a meta

            return yaml.safe_load(text)
        raise ValueError(f"{name}: HOCON (.conf) job metas are not supported by flare-harness; use meta.json")
    return None


def _participants(targets: Any, site_dicts: bool) -> list:
    """FLARE 2.6's ``extract_participants``: strings, or dicts whose ``sites`` list is spliced in."""
    if not site_dicts:
        return list(targets)
    sites: list = []
    for item in targets:
        if isinstance(item, str):
            sites.append(item)
        elif isinstance(item, dict):
            sites.extend(item.get("sites"))  # type: ignore[arg-type]  # None raises TypeError, as in FLARE
        else:
            raise ValueError(f"Must be tye of str or dict, but got {type(item)}")
    return sites


def _validate(job: str, archive: zipfile.ZipFile, names: set[str], byoc: bool, site_dicts: bool) -> Any:
    meta = _read_meta(job, archive, names)
    sites = _check_deploy_map(job, meta, site_dicts)
    _check_apps(job, meta, names, byoc, site_dicts)
    clients = {ALL_SITES} if sites[0] == ALL_SITES else {site for site in sites if site != SERVER_SITE}
    _check_min_clients(job, meta, clients)
    _check_resource_spec(job, meta)
    _check_mandatory_clients(job, meta, clients)
    return meta


def _check_deploy_map(job: str, meta: Any, site_dicts: bool) -> list:
    if not meta:
        raise ValueError(
            f"{META_BASE}.[json|conf|yml] not existing for job {job}, possible in legacy job format.  "
            "Please upgrade the job structure."
        )
    deploy_map = meta.get("deploy_map")
    if not deploy_map:
        raise ValueError(f"deploy_map is empty for job {job}")
    sites = [site for targets in deploy_map.values() for site in _participants(targets, site_dicts)]
    if not sites:
        raise ValueError(f"No site is specified in deploy_map for job {job}")
    if _names_all_sites(sites):
        if len(sites) > 1:
            raise ValueError(f"No other site can be specified if {ALL_SITES} is used for job {job}")
        return [ALL_SITES]
    if SERVER_SITE not in sites:
        raise ValueError(f"Missing server site in deploy_map for job {job}")
    counts: dict = {}
    for site in sites:
        counts[site] = counts.get(site, 0) + 1
    duplicates = [site for site, count in counts.items() if count > 1]
    if duplicates:
        raise ValueError(f"Multiple apps to be deployed to following sites {duplicates} for job {job}")
    return sites


def _config_exists(names: set[str], folder: str, base: str) -> bool:
    return any(f"{folder}{base}{ext}" in names for ext in CONFIG_EXTENSIONS)


def _check_apps(job: str, meta: Any, names: set[str], byoc: bool, site_dicts: bool) -> None:
    has_byoc = False
    for app, targets in meta.get("deploy_map").items():
        config_dir = f"{job}/{app}/config/"
        if config_dir not in names:
            raise ValueError(f"App '{app}' in deploy_map doesn't exist for job {job}")
        targets = _participants(targets, site_dicts)
        to_all = _names_all_sites(targets)
        if (to_all or SERVER_SITE in targets) and not _config_exists(names, config_dir, SERVER_CONFIG):
            raise ValueError(f"App '{app}' will be deployed to server but server config is missing")
        if (to_all or [site for site in targets if site != SERVER_SITE]) and not _config_exists(
            names, config_dir, CLIENT_CONFIG
        ):
            raise ValueError(f"App '{app}' will be deployed to client but client config is missing")
        if f"{job}/{app}/custom/" in names:
            has_byoc = True
    if byoc and has_byoc:
        meta[BYOC] = True
