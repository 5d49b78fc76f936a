"""What a command declares about who may run it, and the check FLARE's authorization filter makes.

A :class:`Right` is checked with the server's policy after the command's pre-authorization arguments
parsed (reference section 4); a :class:`Role` is the role gate of ``admin_check_status`` and ``dead``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from flare_api.wire import MetaStatus

from ..model.policy import NOBODY, RIGHT_CATEGORIES, denial, submitter_of
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import FlareCrash, Refusal
from ..protocol.versions import FlareVersion
from .arguments import Parsed
from .request import Request


@dataclass(frozen=True)
class Condition:
    """When a right is checked at all, as a test on the parsed arguments (``describe`` is for the docs)."""

    describe: str
    holds: Callable[[Parsed], bool]


#: FLARE's ``authorize_server_operation``: the right matters only if the server is among the targets.
SERVER_TARGETED = Condition("if the server is targeted", lambda parsed: bool(parsed["targets"].includes_server))


@dataclass(frozen=True)
class Right:
    """Check ``name`` for the user against the server's org; ``job_submitter``: the loaded job's submitter
    counts (the ``*_own_job`` / ``*_own_jobs`` rights); ``only``: skip the check unless the condition holds."""

    name: str
    job_submitter: bool = False
    only: Optional[Condition] = None

    def describe(self) -> str:
        category = RIGHT_CATEGORIES.get(self.name)
        notes = ([f"category `{category}`"] if category else []) + (["job submitter"] if self.job_submitter else [])
        text = f"`{self.name}`" + (f" ({'; '.join(notes)})" if notes else "")
        return text if self.only is None else f"{text} {self.only.describe}"


@dataclass(frozen=True)
class Role:
    """Only sessions whose role is exactly ``name`` (not normalized) may run the command."""

    name: str
    refusal: str

    def describe(self) -> str:
        return f"role `{self.name}`"


Authorization = Union[Right, Role]

#: ``admin_check_status`` and ``sys.dead``: only role ``project_admin`` (compared exactly, not normalized).
PROJECT_ADMIN = Role("project_admin", msg.NOT_PROJECT_ADMIN)


def server_operation(right: str) -> Right:
    """FLARE's ``authorize_server_operation``: ``right`` is checked only when the server is targeted."""
    return Right(right, only=SERVER_TARGETED)


def describe(authorization: Optional[Authorization]) -> str:
    """The docs' cell for a command's authorization."""
    return "none" if authorization is None else authorization.describe()


def authorize(request: Request, authorization: Authorization, parsed: Parsed) -> None:
    """Raise FLARE's refusal unless the session may run the command; sets ``request.submitter``."""
    if isinstance(authorization, Role):
        role = request.session.role if request.session else None
        if role != authorization.name:
            text = authorization.refusal
            if request.version >= FlareVersion.V2_4:  # ``must_be_project_admin`` names the role it saw
                text = msg24.NOT_PROJECT_ADMIN.format(role=role or "")
            raise Refusal(text, MetaStatus.NOT_AUTHORIZED, "")
        return
    if authorization.only is not None and not authorization.only.holds(parsed):
        return
    try:
        user = request.user()
    except TypeError as exc:  # a certificate without O or role (reference 10.4)
        raise FlareCrash(exc) from None
    submitter = submitter_of(parsed["job"].meta) if authorization.job_submitter else NOBODY
    request.submitter = submitter
    state = request.state
    if state.policy.permits(user, authorization.name, site_org=state.server_org, submitter=submitter):
        return
    text = msg.NOT_AUTHORIZED.format(user=user.name, right=authorization.name)
    raise Refusal(text, MetaStatus.NOT_AUTHORIZED, denial(user, authorization.name))
