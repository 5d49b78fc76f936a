"""The project model: the server, its sites and admin users, and the rules a provisionable project obeys.

Pure data and validation, apart from the certificate generator (``fakeserver.provision``), so the state,
the sites and the workspaces can hold a project without importing any cryptography.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from .resources import GPUResources, ListResources, SiteResources

ROLES = ("project_admin", "org_admin", "lead", "member")
_MAX_NAME_LEN = 64  # RFC 5280 upper bound for commonName and organizationName
_UNSAFE_FOLDER_CHARS = frozenset('/\\:*?"<>|')


class ProvisionError(ValueError):
    """A project definition or endpoint cannot be provisioned; the message names the bad value."""


class UnknownNameError(KeyError):
    """A user or site name lookup failed; str() is the plain message rather than KeyError's repr."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class AdminUser:
    """An admin console user; name is an email and becomes the certificate CN and kit folder."""

    name: str
    org: str
    role: str


@dataclass(frozen=True)
class Site:
    """A federated-learning client site known to the project; ``resources`` is its resource manager
    (None: the provisioned default, a ``GPUResourceManager`` with no GPUs)."""

    name: str
    org: str
    resources: Optional[SiteResources] = field(default=None, hash=False)


DEFAULT_SITES: tuple[Site, ...] = (Site("site-1", "nvidia"), Site("site-2", "other"))
DEFAULT_ADMINS: tuple[AdminUser, ...] = (
    AdminUser("admin@nvidia.com", "nvidia", "project_admin"),
    AdminUser("orgadmin@nvidia.com", "nvidia", "org_admin"),
    AdminUser("lead@nvidia.com", "nvidia", "lead"),
    AdminUser("lead@other.org", "other", "lead"),
    AdminUser("member@nvidia.com", "nvidia", "member"),
)


def unknown_name(kind: str, name: str, known: Iterable[str]) -> UnknownNameError:
    """Build the lookup error naming the missing entry and the known ones."""
    return UnknownNameError(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known)) or '(none)'}")


@dataclass(frozen=True)
class Project:
    """What to provision: the server, its endpoint, the client sites and the admin users."""

    name: str = "flare_harness"
    server_name: str = "localhost"
    server_org: str = "nvidia"
    host: str = "127.0.0.1"
    fl_port: int = 8002
    admin_port: int = 8003
    sites: tuple[Site, ...] = DEFAULT_SITES
    admins: tuple[AdminUser, ...] = DEFAULT_ADMINS

    def admin(self, name: str) -> AdminUser:
        """Return the admin user called name, or raise UnknownNameError listing the known users."""
        for user in self.admins:
            if user.name == name:
                return user
        raise unknown_name("admin user", name, (u.name for u in self.admins))

    def site(self, name: str) -> Site:
        """Return the site called name, or raise UnknownNameError listing the known sites."""
        for site in self.sites:
            if site.name == name:
                return site
        raise unknown_name("site", name, (s.name for s in self.sites))


DEFAULT_PROJECT = Project()


def _check_text(what: str, value: object) -> str:
    """Require a non-empty, printable, trimmed string of at most 64 characters (a valid X.509 name)."""
    if not isinstance(value, str):
        raise ProvisionError(f"{what} must be a string, got {value!r}")
    if not value:
        raise ProvisionError(f"{what} must not be empty")
    if value != value.strip():
        raise ProvisionError(f"{what} {value!r} has leading or trailing whitespace")
    if not value.isprintable():
        raise ProvisionError(f"{what} {value!r} contains control characters")
    if len(value) > _MAX_NAME_LEN:
        raise ProvisionError(f"{what} {value!r} is longer than {_MAX_NAME_LEN} characters")
    return value


def _check_folder_name(what: str, value: object) -> str:
    """Require a name that is safe as a single folder name on POSIX and Windows."""
    name = _check_text(what, value)
    if name in (".", ".."):
        raise ProvisionError(f"{what} {name!r} is not usable as a folder name")
    bad = sorted(set(name) & _UNSAFE_FOLDER_CHARS)
    if bad:
        raise ProvisionError(f"{what} {name!r} contains characters unsafe in a folder name: {''.join(bad)!r}")
    return name


def check_port(what: str, value: object) -> int:
    """Require a TCP port number in 1..65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ProvisionError(f"{what} must be an integer in 1..65535, got {value!r}")
    return value


def check_host(value: object) -> str:
    """Require a host usable inside FLARE's colon-separated sp_end_point."""
    host = _check_text("host", value)
    if ":" in host or any(ch.isspace() for ch in host):
        raise ProvisionError(f"host {host!r} must not contain ':' or whitespace (sp_end_point is host:port:port)")
    return host


def _check_email(value: str) -> None:
    """FLARE admin names are emails: exactly one '@' with text on both sides and no whitespace."""
    local, _, domain = value.partition("@")
    if not local or not domain or "@" in domain or any(ch.isspace() for ch in value):
        raise ProvisionError(f"admin name {value!r} is not an email address")
    if not value.isascii():
        # The name is also the certificate's DNS subject alternative name, which X.509 keeps to ASCII.
        raise ProvisionError(f"admin name {value!r} must be ASCII (it becomes the certificate's DNS name)")


def validate_project(project: Project) -> None:
    """Raise ProvisionError for the first problem in project; provision() calls this first."""
    if not isinstance(project, Project):
        raise ProvisionError(f"expected a Project, got {project!r}")
    _check_text("project name", project.name)
    _check_folder_name("server name", project.server_name)
    _check_text(f"org of server {project.server_name!r}", project.server_org)
    check_host(project.host)
    check_port("fl_port", project.fl_port)
    check_port("admin_port", project.admin_port)
    if project.fl_port == project.admin_port:
        raise ProvisionError(f"fl_port and admin_port must differ, both are {project.fl_port}")
    if not isinstance(project.sites, tuple) or not all(isinstance(s, Site) for s in project.sites):
        raise ProvisionError(f"sites must be a tuple of Site, got {project.sites!r}")
    if not isinstance(project.admins, tuple) or not all(isinstance(a, AdminUser) for a in project.admins):
        raise ProvisionError(f"admins must be a tuple of AdminUser, got {project.admins!r}")
    if not project.admins:
        raise ProvisionError("project defines no admin users")
    # Participant names share one namespace (and, on case-insensitive file systems, one folder space).
    seen = {project.server_name.casefold(): f"server {project.server_name!r}"}
    participants = [("site", s.name, s.org) for s in project.sites]
    participants += [("admin", a.name, a.org) for a in project.admins]
    for kind, name, org in participants:
        _check_folder_name(f"{kind} name", name)
        _check_text(f"org of {kind} {name!r}", org)
        label = f"{kind} {name!r}"
        clash = seen.get(name.casefold())
        if clash is not None:
            raise ProvisionError(f"duplicate name: {label} clashes with {clash}")
        seen[name.casefold()] = label
    for site in project.sites:
        if site.resources is not None and not isinstance(site.resources, (GPUResources, ListResources)):
            raise ProvisionError(f"resources of site {site.name!r} must be GPUResources or ListResources")
    for user in project.admins:
        _check_email(user.name)
        if user.role not in ROLES:
            raise ProvisionError(f"unknown role {user.role!r} for admin {user.name!r}; expected one of {ROLES}")
