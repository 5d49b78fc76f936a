"""The ``client <names>`` argument of the commands that only target sites: the names after ``first``
(none: every connected site), checked as FLARE's server checks targets, refused with its plain error."""

from __future__ import annotations

from typing import cast

import pytest

from fakeserver.commands import build_registry
from fakeserver.model.policy import Policy
from fakeserver.model.project import DEFAULT_PROJECT
from fakeserver.model.state import ServerState
from fakeserver.pipeline.arguments import client_targets
from fakeserver.pipeline.registry import CommandSpec
from fakeserver.pipeline.request import Request
from fakeserver.pipeline.targets import Targets
from fakeserver.protocol.refusals import Refusal
from flare_api import VirtualClock


def _parse(state: ServerState, line: str, first: int) -> Targets:
    args = line.split()
    spec = CommandSpec(scope="test", name=args[0], description="", usage="", handler=lambda request: None)
    request = Request(state, build_registry(), line, args, None, None, spec)  # FLARE 2.3's texts
    param = client_targets(first)
    assert param.name == "targets" and param.passed
    return cast(Targets, param.parse(request, {}))


@pytest.fixture
def state() -> ServerState:
    return ServerState(DEFAULT_PROJECT, Policy(), clock=VirtualClock())


def test_the_names_after_first_are_the_clients(state: ServerState) -> None:
    assert _parse(state, "restart client site-2", 2) == Targets("client", ["site-2"])
    assert _parse(state, "sys_info site-2 site-1 site-2", 1) == Targets("client", ["site-2", "site-1"])


def test_no_names_means_every_connected_site(state: ServerState) -> None:
    assert _parse(state, "restart client", 2) == Targets("client", ["site-1", "site-2"])


def test_an_unknown_name_is_refused_with_flares_text(state: ServerState) -> None:
    with pytest.raises(Refusal) as info:
        _parse(state, "restart client site-9 site-1 bad", 2)
    assert str(info.value) == "invalid client(s): site-9 bad"
    assert info.value.text == "invalid client(s): site-9 bad"


def test_no_connected_site_is_refused(state: ServerState) -> None:
    for name in ("site-1", "site-2"):
        state.sites.disconnect(name)
    with pytest.raises(Refusal) as info:
        _parse(state, "restart client", 2)
    assert info.value.text == "no clients available"


def test_check_only_keeps_the_parsing_but_does_not_pass_the_value() -> None:
    param = client_targets(2)
    checked = param.check_only()
    assert checked.passed is False and checked.parse is param.parse and checked.name == "targets"
