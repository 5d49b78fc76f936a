"""FLARE 2.3's role policy: rights, categories, condition expressions, and the authorization decision.

The policy file format is ``authorization.json`` (reference section 10). Names, orgs and roles are
normalized (lower-cased, whitespace collapsed) before comparing; a value that is not a string raises
``TypeError("User org must be a str but got <class 'NoneType'>")`` exactly as FLARE does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ..protocol import messages as msg

#: Which category each right belongs to; rights without a category are only named explicitly.
RIGHT_CATEGORIES: dict[str, str] = {
    **dict.fromkeys(["abort", "abort_task", "abort_job", "start_app", "delete_job", "delete_workspace"], "manage_job"),
    **dict.fromkeys(
        [
            "check_status",
            "show_scopes",
            "show_stats",
            "reset_errors",
            "show_errors",
            "list_jobs",
            "get_job_meta",
        ],
        "view",
    ),
    **dict.fromkeys(
        ["sys_info", "report_resources", "restart", "shutdown", "remove_client", "set_timeout", "call"],
        "operate",
    ),
    **dict.fromkeys(["cat", "grep", "head", "ls", "pwd", "tail"], "shell_commands"),
    # FLARE 2.4+: the pull of each file of a download is authorized like the download itself.
    **dict.fromkeys(["download_job", "download_job_file"], "download_job"),
    # FLARE 2.4+ (2.6 for the configure_* commands); app_command and list_job have no category
    **dict.fromkeys(["report_env", "configure_site_log"], "operate"),
    "configure_job_log": "manage_job",
}

#: FLARE 2.3's provisioned ``authorization.json.default``.
DEFAULT_POLICY: dict[str, Any] = {
    "format_version": "1.0",
    "permissions": {
        "project_admin": "any",
        "org_admin": {
            "submit_job": "none",
            "clone_job": "none",
            "manage_job": "o:submitter",
            "download_job": "o:submitter",
            "view": "any",
            "operate": "o:site",
            "shell_commands": "o:site",
            "byoc": "none",
        },
        "lead": {
            "submit_job": "any",
            "clone_job": "n:submitter",
            "manage_job": "n:submitter",
            "download_job": "n:submitter",
            "view": "any",
            "operate": "o:site",
            "shell_commands": "o:site",
            "byoc": "any",
        },
        "member": {"view": "any"},
    },
}

SUPER_ROLE = "super"
_ANY_RIGHT = "*"


class PolicyError(ValueError):
    """The policy document is malformed; the message names the offending part."""


def normalize(value: object, field_name: str) -> str:
    """Lower-case and collapse whitespace, refusing non-strings with FLARE's ``TypeError`` text."""
    if not isinstance(value, str):
        raise TypeError(f"{field_name} must be a str but got {type(value)}")
    return " ".join(value.lower().split())


@dataclass(frozen=True)
class Person:
    """A user or a job submitter, normalized for comparison."""

    name: str
    org: str
    role: str

    @classmethod
    def of(cls, name: object, org: object, role: object) -> Person:
        """Normalize the three fields in FLARE's order (name, org, role), raising its ``TypeError``s."""
        return cls(normalize(name, "User name"), normalize(org, "User org"), normalize(role, "User role"))


NOBODY = Person("", "", "")


@dataclass(frozen=True)
class _Condition:
    kind: str  # "true", "false", "org", "name"
    target: str = ""

    def holds(self, user: Person, submitter: Person, site_org: str) -> bool:
        if self.kind == "true":
            return True
        if self.kind == "false":
            return False
        if self.kind == "org":
            expected = (
                site_org if self.target == "site" else submitter.org if self.target == "submitter" else self.target
            )
            return user.org == expected
        expected = submitter.name if self.target == "submitter" else self.target
        return user.name == expected


@dataclass
class _Rule:
    allowed: list[_Condition] = field(default_factory=list)
    blocked: list[_Condition] = field(default_factory=list)

    def permits(self, user: Person, submitter: Person, site_org: str) -> bool:
        if any(c.holds(user, submitter, site_org) for c in self.blocked):
            return False
        if self.allowed:
            return any(c.holds(user, submitter, site_org) for c in self.allowed)
        return True


def _parse_condition(expression: object) -> tuple[bool, _Condition]:
    text = normalize(expression, "Expression")
    blocked = False
    parts = text.split()
    if len(parts) == 2 and parts[0] == "not":
        blocked, text = True, parts[1]
    if text in ("all", "any"):
        return blocked, _Condition("true")
    if text in ("none", "no"):
        return blocked, _Condition("false")
    pieces = text.split(":")
    if len(pieces) != 2:
        raise PolicyError(f'bad condition expression "{expression}"')
    kind, target = normalize(pieces[0], "Target type"), normalize(pieces[1], "Target value")
    if kind in ("o", "org"):
        return blocked, _Condition("org", target)
    if kind in ("n", "name"):
        return blocked, _Condition("name", target)
    raise PolicyError(f'bad condition expression "{expression}": invalid type "{kind}"')


def _parse_rule(expression: Union[str, list]) -> _Rule:
    expressions = [expression] if isinstance(expression, str) else expression
    if not isinstance(expressions, list):
        raise PolicyError(f"bad condition expression type - expect str or list but got {type(expression)}")
    if not expressions:
        raise PolicyError("bad condition expression - no conditions specified")
    rule = _Rule()
    for one in expressions:
        blocked, condition = _parse_condition(one)
        (rule.blocked if blocked else rule.allowed).append(condition)
    return rule


class Policy:
    """A parsed ``authorization.json``: for each role, a rule per right (or one rule for every right)."""

    def __init__(self, document: Mapping[str, Any] = DEFAULT_POLICY) -> None:
        if not isinstance(document, Mapping) or not document:
            raise PolicyError("policy definition must be a non-empty dict")
        if document.get("format_version") != "1.0":
            raise PolicyError("missing or invalid policy format_version: must be 1.0")
        permissions = document.get("permissions")
        if not isinstance(permissions, Mapping) or not permissions:
            raise PolicyError("missing permissions")
        self.document = document
        self._rules: dict[tuple[str, str], _Rule] = {}
        for role, conf in permissions.items():
            self._add_role(normalize(role, "Role name"), conf)

    def _add_role(self, role: str, conf: object) -> None:
        if isinstance(conf, (str, list)):
            self._rules[(role, _ANY_RIGHT)] = _parse_rule(conf)
            return
        if not isinstance(conf, Mapping):
            raise PolicyError(f"bad right config: expect a dict but got {type(conf)}")
        categories = set(RIGHT_CATEGORIES.values())
        # Categories first, then explicit rights, so explicit rights override their category.
        for name, expression in conf.items():
            name = normalize(name, "Right for Category")
            if name in categories:
                rule = _parse_rule(expression)
                for right, category in RIGHT_CATEGORIES.items():
                    if category == name:
                        self._rules[(role, right)] = rule
        for name, expression in conf.items():
            name = normalize(name, "Right")
            if name not in categories:
                self._rules[(role, name)] = _parse_rule(expression)

    def permits(self, user: Person, right: str, *, site_org: str, submitter: Person = NOBODY) -> bool:
        """Whether ``user`` holds ``right`` on a site of org ``site_org`` (role ``super`` always does)."""
        if user.role == SUPER_ROLE:
            return True
        rule = self._rules.get((user.role, _ANY_RIGHT)) or self._rules.get((user.role, right))
        if rule is None:
            return False
        return rule.permits(user, submitter, normalize(site_org, "Site org"))


def denial(user: Person, right: str) -> str:
    """The denial text FLARE builds: ``user '<name>' is not authorized for '<right>'`` (normalized name)."""
    return msg.NOT_AUTHORIZED_INFO.format(user=user.name, right=right)


def submitter_of(job_meta: Mapping[str, Any]) -> Person:
    """The job's submitter as FLARE's AuthzFilter builds it: the role is filled with the org (a 2.3 bug)."""
    org = job_meta.get("submitter_org", "")
    return Person.of(job_meta.get("submitter_name", ""), org, org)
