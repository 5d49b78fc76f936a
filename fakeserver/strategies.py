"""Hypothesis strategies for property tests of code that drives FLARE (needs ``hypothesis``: the ``test`` extra).

- :func:`job_folders` — job folders on disk (as :class:`JobFolder` specs, written with ``write(parent)``):
  valid ones the server accepts, or of one named *invalid kind* (:data:`INVALID_KINDS`) that the server
  refuses, each with the exceptions it raises on the client and in the server model (reference 7.4, 7.5);
- :func:`job_metas` — valid ``meta.json`` contents for a set of site names;
- :func:`command_lines` — admin command lines a project admin may run on a fresh fake server, and
  :func:`raw_command_lines` — any printable line, for "never crashes" properties;
- :func:`roles`, :func:`admin_users`, :func:`sites`, :func:`projects`, :func:`project_users` — users, roles
  and whole projects that :func:`fakeserver.model.project.validate_project` accepts.

Invalid kinds a job *folder* cannot produce are left out: a zip whose top folder differs from the
``submit_job`` argument, and hostile zips (symlinks, ``..`` entries) — FLARE's client never uploads those.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hypothesis import strategies as st

from flare_api.errors import FlareError, InternalError, InvalidJobDefinition

from .model.project import DEFAULT_PROJECT, ROLES, AdminUser, Project, Site
from .model.uploads import JobDefinitionError, SubmitCrash, UploadCrash

__all__ = [
    "INVALID_KINDS",
    "JobFolder",
    "Refusal",
    "admin_users",
    "command_lines",
    "job_folders",
    "job_metas",
    "project_users",
    "projects",
    "raw_command_lines",
    "roles",
    "sites",
]

SERVER_CONFIG = "config_fed_server.json"
CLIENT_CONFIG = "config_fed_client.json"
_SERVER_CONFIG_BODY = {"format_version": 2, "workflows": [], "components": []}
_CLIENT_CONFIG_BODY = {"format_version": 2, "executors": [], "components": []}
_DEFAULT_SITES = tuple(site.name for site in DEFAULT_PROJECT.sites)
_NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_-"


@dataclass(frozen=True)
class Refusal:
    """How the server refuses an invalid job: the client's exception, the model's, and a message fragment."""

    #: What ``flare_api.Session.submit_job`` raises.
    client_error: type[FlareError]
    #: What :func:`fakeserver.model.uploads.decode_upload` raises for the uploaded zip.
    server_error: type[Exception]
    #: A fragment of both messages (FLARE's wording, reference 7.5).
    text: str


_INVALID = Refusal(InvalidJobDefinition, JobDefinitionError, "")

#: Each invalid kind :func:`job_folders` can produce → how the server refuses it.
INVALID_KINDS: dict[str, Refusal] = {
    "bad_json": Refusal(InternalError, UploadCrash, "JSONDecodeError"),
    "meta_not_object": Refusal(InternalError, UploadCrash, "TypeError"),
    "empty_deploy_map": Refusal(InvalidJobDefinition, JobDefinitionError, "deploy_map is empty for job"),
    "no_site": Refusal(InvalidJobDefinition, JobDefinitionError, "No site is specified in deploy_map"),
    "all_with_others": Refusal(InvalidJobDefinition, JobDefinitionError, "No other site can be specified if @ALL"),
    "missing_server": Refusal(InvalidJobDefinition, JobDefinitionError, "Missing server site in deploy_map"),
    "duplicate_site": Refusal(InvalidJobDefinition, JobDefinitionError, "Multiple apps to be deployed"),
    "missing_app": Refusal(InvalidJobDefinition, JobDefinitionError, "in deploy_map doesn't exist for job"),
    "missing_server_config": Refusal(InvalidJobDefinition, JobDefinitionError, "server config is missing"),
    "missing_client_config": Refusal(InvalidJobDefinition, JobDefinitionError, "client config is missing"),
    "min_clients_not_int": Refusal(InvalidJobDefinition, JobDefinitionError, "can't not convert to Int"),
    "min_clients_not_positive": Refusal(InvalidJobDefinition, JobDefinitionError, "must be positive for job"),
    "min_clients_too_large": Refusal(InvalidJobDefinition, JobDefinitionError, "must be less than 1000000"),
    "too_few_clients": Refusal(InvalidJobDefinition, JobDefinitionError, "clients required for job"),
    "resource_spec_not_dict": Refusal(InvalidJobDefinition, JobDefinitionError, "Invalid resource_spec for job"),
    "resource_spec_value_not_dict": Refusal(InvalidJobDefinition, JobDefinitionError, "is expecting a dictionary"),
    "mandatory_not_deployed": Refusal(InvalidJobDefinition, JobDefinitionError, "are not in the deploy_map for job"),
    "no_client_site": Refusal(InternalError, SubmitCrash, "StopIteration"),
}


@dataclass(frozen=True)
class JobFolder:
    """A job folder to write: ``name``, its files (relative POSIX path → bytes) and folders to create."""

    name: str
    files: Mapping[str, bytes]
    dirs: tuple[str, ...] = ()
    #: None for a valid job, else a key of :data:`INVALID_KINDS`.
    invalid: Optional[str] = None
    #: The meta the job was built from (before any invalid change to ``meta.json``'s text).
    meta: dict = field(default_factory=dict)

    @property
    def refusal(self) -> Optional[Refusal]:
        """How the server refuses this folder (None when it is valid)."""
        return INVALID_KINDS[self.invalid] if self.invalid is not None else None

    def write(self, parent: Path) -> Path:
        """Write the folder as ``parent/name`` (replacing an earlier one of that name) and return its path."""
        root = Path(parent) / self.name
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        for folder in self.dirs:
            (root / folder).mkdir(parents=True, exist_ok=True)
        for relative, content in self.files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return root


# ----------------------------------------------------------------------------- names
def _names(min_size: int = 1, max_size: int = 16) -> st.SearchStrategy[str]:
    """Folder-safe names: lowercase letters, digits, ``_`` and ``-``, starting with a letter."""
    head = st.sampled_from("abcdefghijklmnopqrstuvwxyz")
    tail = st.text(_NAME_ALPHABET, min_size=min_size - 1, max_size=max_size - 1)
    return st.builds(lambda h, t: h + t, head, tail)


# ----------------------------------------------------------------------------- metas
@st.composite
def job_metas(draw: st.DrawFn, sites: Sequence[str] = _DEFAULT_SITES, *, all_sites: Optional[bool] = None) -> dict:
    """A valid ``meta.json`` dict for client sites ``sites``: deploy_map, and maybe min_clients,
    mandatory_clients, resource_spec and a name.

    ``all_sites=True`` deploys one app to ``@ALL``, ``False`` names the server and sites explicitly,
    ``None`` draws either.
    """
    if not sites:
        raise ValueError("a job needs at least one client site")
    use_all = draw(st.booleans()) if all_sites is None else all_sites
    apps = draw(st.lists(_names(max_size=10), min_size=1, max_size=1 if use_all else 3, unique=True))
    chosen: list[str]
    if use_all:
        deploy_map = {apps[0]: [draw(st.sampled_from(["@ALL", "@all", "@All"]))]}
        chosen = list(sites)
    else:
        chosen = draw(st.lists(st.sampled_from(list(sites)), min_size=1, unique=True))
        targets: dict[str, list[str]] = {app: [] for app in apps}
        for target in ["server", *chosen]:
            targets[draw(st.sampled_from(apps))].append(target)
        deploy_map = {app: sites_of for app, sites_of in targets.items() if sites_of}
    meta: dict[str, Any] = {}
    if draw(st.booleans()):
        meta["name"] = draw(_names(max_size=24))
    meta["resource_spec"] = draw(
        st.one_of(
            st.just({}),
            st.dictionaries(
                st.sampled_from(chosen),
                st.one_of(st.just({}), st.fixed_dictionaries({"num_of_gpus": st.integers(0, 8)})),
            ),
        )
    )
    meta["deploy_map"] = deploy_map
    if draw(st.booleans()):
        meta["min_clients"] = draw(st.integers(1, len(chosen)))
    if draw(st.booleans()):
        meta["mandatory_clients"] = draw(st.lists(st.sampled_from(chosen), unique=True, max_size=len(chosen)))
    return meta


def _targets_server(targets: Sequence[str]) -> bool:
    return any(t.casefold() == "@all" for t in targets) or "server" in targets


def _targets_clients(targets: Sequence[str]) -> bool:
    return any(t.casefold() == "@all" or t != "server" for t in targets)


def _layout(meta: dict, draw: st.DrawFn) -> tuple[dict[str, bytes], list[str]]:
    """The files and config folders of a valid folder for ``meta``, plus maybe some custom code."""
    files: dict[str, bytes] = {}
    dirs: list[str] = []
    for app, targets in meta["deploy_map"].items():
        dirs.append(f"{app}/config")
        if _targets_server(targets):
            files[f"{app}/config/{SERVER_CONFIG}"] = json.dumps(_SERVER_CONFIG_BODY).encode()
        if _targets_clients(targets):
            files[f"{app}/config/{CLIENT_CONFIG}"] = json.dumps(_CLIENT_CONFIG_BODY).encode()
        if draw(st.booleans()):
            files[f"{app}/custom/{draw(_names(max_size=8))}.py"] = draw(st.binary(max_size=64))
    return files, dirs


# ----------------------------------------------------------------------------- folders
@st.composite
def job_folders(
    draw: st.DrawFn, sites: Sequence[str] = _DEFAULT_SITES, *, invalid: Optional[Sequence[str]] = ()
) -> JobFolder:
    """A job folder; valid by default. ``invalid=[kinds]`` draws one of those invalid kinds instead
    (``invalid=None``: any kind of :data:`INVALID_KINDS`)."""
    kinds = list(INVALID_KINDS) if invalid is None else list(invalid)
    unknown = sorted(set(kinds) - set(INVALID_KINDS))
    if unknown:
        raise ValueError(f"unknown invalid kinds {unknown}; known: {', '.join(INVALID_KINDS)}")
    kind = draw(st.sampled_from(kinds)) if kinds else None
    explicit = kind in _NEEDS_EXPLICIT
    meta = draw(job_metas(sites, all_sites=False if explicit else None))
    files, dirs = _layout(meta, draw)
    name = draw(_names())
    meta_value: Any = dict(meta)
    meta_text: Optional[bytes] = None
    if kind is not None:
        meta_value, meta_text = _BREAKERS[kind](draw, meta_value, files, dirs, list(sites))
    files["meta.json"] = meta_text if meta_text is not None else json.dumps(meta_value, indent=2).encode()
    return JobFolder(name=name, files=files, dirs=tuple(dirs), invalid=kind, meta=meta)


_NEEDS_EXPLICIT = {"missing_server", "duplicate_site", "too_few_clients", "mandatory_not_deployed", "all_with_others"}
_Breaker = Any  # (draw, meta, files, dirs, sites) -> (meta, raw text or None)


def _bad_json(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    text = json.dumps(meta)
    return meta, text[: draw(st.integers(0, len(text) - 1))].encode()  # a strict prefix of an object


def _not_object(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    return draw(st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=3))), None


def _empty_map(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    if draw(st.booleans()):
        del meta["deploy_map"]
    else:
        meta["deploy_map"] = {}
    return meta, None


def _no_site(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    meta["deploy_map"] = {app: [] for app in meta["deploy_map"]}
    return meta, None


def _all_with_others(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    app = draw(st.sampled_from(sorted(meta["deploy_map"])))
    meta["deploy_map"] = {**meta["deploy_map"], app: [*meta["deploy_map"][app], "@ALL"]}
    return meta, None


def _missing_server(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    meta["deploy_map"] = {app: [t for t in ts if t != "server"] for app, ts in meta["deploy_map"].items()}
    return meta, None


def _duplicate(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    deploy_map = {app: list(ts) for app, ts in meta["deploy_map"].items()}
    site = draw(st.sampled_from([t for ts in deploy_map.values() for t in ts if t != "server"]))
    deploy_map[draw(st.sampled_from(sorted(deploy_map)))].append(site)
    meta["deploy_map"] = deploy_map
    return meta, None


def _missing_app(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    app = draw(st.sampled_from(sorted(meta["deploy_map"])))
    for path in [p for p in files if p.startswith(f"{app}/")]:
        del files[path]
    dirs.remove(f"{app}/config")
    return meta, None


def _without_config(config: str, wanted: Any) -> _Breaker:
    def breaker(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
        apps = sorted(app for app, targets in meta["deploy_map"].items() if wanted(targets))
        del files[f"{draw(st.sampled_from(apps))}/config/{config}"]
        return meta, None

    return breaker


def _min_not_int(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    meta["min_clients"] = draw(st.one_of(st.text("abcxyz ", min_size=1, max_size=5), st.lists(st.integers())))
    return meta, None


def _min_not_positive(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    meta["min_clients"] = draw(st.integers(max_value=0))  # 0 too: FLARE tests ``is None``, not truthiness
    return meta, None


def _min_too_large(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    meta["min_clients"] = draw(st.integers(min_value=1_000_001, max_value=10**12))
    return meta, None


def _too_few(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    clients = {t for ts in meta["deploy_map"].values() for t in ts if t != "server"}
    meta["min_clients"] = draw(st.integers(len(clients) + 1, 1_000_000))
    return meta, None


def _spec_not_dict(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    meta["resource_spec"] = draw(st.one_of(st.integers(1, 9), st.text(min_size=1, max_size=4), st.just([1])))
    return meta, None


def _spec_value(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    value = draw(st.one_of(st.integers(1, 9), st.text(min_size=1, max_size=4), st.just([1]), st.just(True)))
    meta["resource_spec"] = {**(meta.get("resource_spec") or {}), draw(st.sampled_from(sites)): value}
    return meta, None


def _mandatory(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    clients = {t for ts in meta["deploy_map"].values() for t in ts if t != "server"}
    outsider = draw(_names(max_size=8).filter(lambda n: n not in clients))
    meta["mandatory_clients"] = [*sorted(clients)[:1], outsider]
    return meta, None


def _no_client(draw: st.DrawFn, meta: dict, files: dict, dirs: list, sites: list) -> tuple[Any, Optional[bytes]]:
    app = sorted(meta["deploy_map"])[0]
    meta["deploy_map"] = {app: ["server"]}
    files[f"{app}/config/{SERVER_CONFIG}"] = json.dumps(_SERVER_CONFIG_BODY).encode()
    meta.pop("min_clients", None)
    meta.pop("mandatory_clients", None)
    meta["resource_spec"] = {}
    return meta, None


_BREAKERS: dict[str, _Breaker] = {
    "bad_json": _bad_json,
    "meta_not_object": _not_object,
    "empty_deploy_map": _empty_map,
    "no_site": _no_site,
    "all_with_others": _all_with_others,
    "missing_server": _missing_server,
    "duplicate_site": _duplicate,
    "missing_app": _missing_app,
    "missing_server_config": _without_config(SERVER_CONFIG, _targets_server),
    "missing_client_config": _without_config(CLIENT_CONFIG, _targets_clients),
    "min_clients_not_int": _min_not_int,
    "min_clients_not_positive": _min_not_positive,
    "min_clients_too_large": _min_too_large,
    "too_few_clients": _too_few,
    "resource_spec_not_dict": _spec_not_dict,
    "resource_spec_value_not_dict": _spec_value,
    "mandatory_not_deployed": _mandatory,
    "no_client_site": _no_client,
}


# ----------------------------------------------------------------------------- command lines
@st.composite
def command_lines(draw: st.DrawFn, project: Project = DEFAULT_PROJECT) -> str:
    """A read-only admin command line a project admin may run on a fresh fake server of ``project``
    (the reply is a success, whatever the server's state). ``list_jobs -n`` is left out: as on FLARE
    2.3, it fails with ``AttributeError`` once any job's meta has no ``name`` (reference 6, list_jobs)."""
    site_names = [site.name for site in project.sites]
    some_sites = st.lists(st.sampled_from(site_names), min_size=1, max_size=len(site_names), unique=True)
    target = st.one_of(st.just("server"), st.sampled_from(site_names))
    options = {
        "list_jobs": st.lists(
            st.one_of(
                st.just("-d"),
                st.just("-u"),
                st.just("-r"),
                st.builds("-m {}".format, st.integers(1, 50)),
            ),
            max_size=3,
            unique=True,
        ).map(" ".join),
        "check_status": st.one_of(
            st.just("server"), st.just("client"), some_sites.map(lambda s: "client " + " ".join(s))
        ),
        "sys_info": st.one_of(st.just("server"), some_sites.map(lambda s: "client " + " ".join(s))),
        "report_resources": st.one_of(st.just("server"), some_sites.map(lambda s: "client " + " ".join(s))),
        "show_scopes": st.sampled_from(["server", "client", "all"]),
        "pwd": target,
        "ls": st.builds(lambda t, o: f"{t} {o}".strip(), target, st.sampled_from(["", "-a", "-l", "-al"])),
        "admin_check_status": st.just(""),
    }
    command = draw(st.sampled_from(sorted(options)))
    arguments = draw(options[command])
    return f"{command} {arguments}".strip()


def raw_command_lines() -> st.SearchStrategy[str]:
    """Any printable single line (quotes, unicode, leading spaces): the server must answer, never crash."""
    return st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=80)


# ----------------------------------------------------------------------------- users, roles, projects
def roles() -> st.SearchStrategy[str]:
    """One of FLARE's four admin roles."""
    return st.sampled_from(ROLES)


def _orgs() -> st.SearchStrategy[str]:
    return _names(max_size=12)


def _emails() -> st.SearchStrategy[str]:
    return st.builds(lambda local, domain, tld: f"{local}@{domain}.{tld}", _names(max_size=16), _names(), _names(2, 6))


def admin_users(*, orgs: Optional[Sequence[str]] = None) -> st.SearchStrategy[AdminUser]:
    """An admin user: an email name, an org (from ``orgs`` if given) and a role."""
    org = st.sampled_from(list(orgs)) if orgs else _orgs()
    return st.builds(AdminUser, _emails(), org, roles())


def sites(*, orgs: Optional[Sequence[str]] = None) -> st.SearchStrategy[Site]:
    """A client site with a folder-safe name."""
    org = st.sampled_from(list(orgs)) if orgs else _orgs()
    return st.builds(Site, _names(max_size=12).map(lambda n: f"site-{n}"), org)


@st.composite
def projects(draw: st.DrawFn, *, max_sites: int = 3, max_admins: int = 4) -> Project:
    """A project :func:`~fakeserver.model.project.validate_project` accepts: unique names (also
    case-insensitively), emails for admins, at least one project admin."""
    orgs = draw(st.lists(_orgs(), min_size=1, max_size=3, unique=True))
    site_list = draw(st.lists(sites(orgs=orgs), min_size=1, max_size=max_sites, unique_by=lambda s: s.name.casefold()))
    admin = draw(admin_users(orgs=orgs).map(lambda u: AdminUser(u.name, u.org, "project_admin")))
    others = draw(st.lists(admin_users(orgs=orgs), max_size=max_admins - 1))
    admins: list[AdminUser] = []
    seen = {"localhost"} | {s.name.casefold() for s in site_list}
    for user in [admin, *others]:
        if user.name.casefold() not in seen:
            seen.add(user.name.casefold())
            admins.append(user)
    return Project(name=draw(_names()), sites=tuple(site_list), admins=tuple(admins))


def project_users(project: Project = DEFAULT_PROJECT, *, role: Optional[str] = None) -> st.SearchStrategy[str]:
    """The name of one of ``project``'s admin users (of ``role`` if given)."""
    names = [user.name for user in project.admins if role is None or user.role == role]
    if not names:
        raise ValueError(f"project {project.name!r} has no admin user with role {role!r}")
    return st.sampled_from(names)
