"""Small server-pipeline rules with exact outputs: the ``_commands`` table (hidden ``_`` commands left out,
visibility as ``"True"``/``"False"``, disabled commands kept out of dispatch and the table), the three
confirm kinds, ``Reply.error_with_status``'s default info, FLARE's printing of seconds, and a peer
certificate without a subject."""

from __future__ import annotations

from typing import Any

import pytest

from fakeserver.pipeline.dispatch import format_seconds
from fakeserver.pipeline.registry import CommandRegistry, CommandSpec
from fakeserver.pipeline.reply import Reply
from fakeserver.pipeline.request import PeerIdentity


def _handler(request: Any, reply: Any) -> None:
    return None


def _spec(name: str, **kwargs: Any) -> CommandSpec:
    fields: dict[str, Any] = {"scope": "sys", "name": name, "description": f"{name} d", "usage": name}
    fields.update(kwargs)
    return CommandSpec(handler=_handler, **fields)


def test_the_commands_table_lists_enabled_visible_names_with_flares_cells() -> None:
    registry = CommandRegistry()
    registry.register_all(
        [
            _spec("zeta", confirm="yesno"),
            _spec("_hidden"),
            _spec("alpha", confirm="auth", visible=False, client_cmd="push"),
            _spec("off", enabled=False),
            _spec("beta", scope="aaa"),
        ]
    )
    assert registry.commands_table() == [
        ["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"],
        ["aaa", "beta", "beta d", "beta", "none", None, "True"],
        ["sys", "alpha", "alpha d", "alpha", "auth", "push", "False"],
        ["sys", "zeta", "zeta d", "zeta", "yesno", None, "True"],
    ]
    assert [spec.name for spec in registry.specs()] == ["beta", "_hidden", "alpha", "zeta"]
    assert [spec.name for spec in registry.specs(include_disabled=True)] == ["beta", "_hidden", "alpha", "off", "zeta"]
    assert registry.lookup("off") == []


def test_an_unknown_confirm_kind_is_refused() -> None:
    with pytest.raises(ValueError) as info:
        CommandRegistry().register(_spec("x", confirm="maybe"))
    assert str(info.value) == "command sys.x: confirm must be none, yesno or auth, got 'maybe'"


def test_error_with_status_defaults_the_info_to_the_text() -> None:
    doc = Reply().error_with_status("no such job", "invalid_job_id").document()
    assert doc.meta == {"status": "invalid_job_id", "info": "no such job"}
    doc = Reply().error_with_status("no such job", "invalid_job_id", "42").document()
    assert doc.meta == {"status": "invalid_job_id", "info": "42"}
    doc = Reply().error_with_status("no such job", "invalid_job_id", "").document()
    assert doc.meta == {"status": "invalid_job_id", "info": ""}


@pytest.mark.parametrize(("seconds", "shown"), [(3600, "3600"), (3600.0, "3600"), (2.5, "2.5"), (0.25, "0.25")])
def test_seconds_print_like_flares_settings(seconds: float, shown: str) -> None:
    assert format_seconds(seconds) == shown


def test_a_peer_certificate_without_a_subject_has_no_fields() -> None:
    assert PeerIdentity.from_peercert({"issuer": ()}) == PeerIdentity(None, None, None)
    assert PeerIdentity.from_peercert({}) is None
    subject = ((("commonName", "a@b.com"),), (("organizationName", "org1"),), (("unstructuredName", "lead"),))
    assert PeerIdentity.from_peercert({"subject": subject}) == PeerIdentity("a@b.com", "org1", "lead")


def test_a_command_registered_twice_is_refused() -> None:
    registry = CommandRegistry()
    registry.register(_spec("x"))
    with pytest.raises(ValueError) as info:
        registry.register(_spec("x", description="again"))
    assert str(info.value) == "command sys.x is registered twice"
