"""What the server gets back when it forwards an admin command to client sites.

FLARE sends some commands on to the sites (check_status client, sys_info, shell commands on a site,
show_stats client, restart/shutdown client ...). Each site answers unless it is silent, and when the
command requires it, authorizes the user with its own policy, its own org as the site org, and the
real submitter (reference 10.2). Handlers turn these answers into their command's reply shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..model.policy import NOBODY, Person, denial
from .request import Request


@dataclass(frozen=True)
class SiteAnswer:
    """One site's answer: ``no_reply`` if silent, ``denied`` (FLARE's text) if its authorization failed."""

    site: str
    org: str
    no_reply: bool = False
    denied: Optional[str] = None

    @property
    def ok(self) -> bool:
        return not self.no_reply and self.denied is None


def ask_sites(
    request: Request,
    names: list[str],
    *,
    require_authz: bool,
    right: Optional[str] = None,
    submitter: Person = NOBODY,
) -> list[SiteAnswer]:
    """Forward the request to each named site (in order) and collect their answers."""
    state = request.state
    answers = []
    for name in names:
        site = state.sites.get(name)
        if not site.responsive:
            answers.append(SiteAnswer(name, site.org, no_reply=True))
            continue
        denied = None
        if require_authz:
            user = _forwarded_user(request)
            wanted = right or request.spec.name
            if not state.policy.permits(user, wanted, site_org=site.org, submitter=submitter):
                denied = denial(user, wanted)
        answers.append(SiteAnswer(name, site.org, denied=denied))
    return answers


def _forwarded_user(request: Request) -> Person:
    """The user as a site sees it: FLARE forwards only non-empty props, so a missing org or role is ""."""
    session = request.session
    if session is None:
        return NOBODY
    return Person.of(session.user_name or "", session.org or "", session.role or "")
