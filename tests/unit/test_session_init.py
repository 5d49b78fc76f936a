"""``Session``'s constructor (argument checks with their texts, the defaults FLARE's ``new_insecure_session``
documents) and ``try_connect``'s retry timing on a scripted clock: each retry gets what is left of the
timeout, sleeps until the next try or the deadline, and gives up at exactly the deadline (mutation
testing, docs/testing.md). Nothing waits: ``time`` is replaced in the session module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pytest
import trustme

import flare_api.session as session_module
from flare_api import Session
from flare_api.clock import RealClock, VirtualClock
from flare_api.errors import InvalidArgumentError, NoConnection, SessionClosed
from flare_api.transport import Transport
from flare_api.wire import Document

from .test_session_unit import Scripted, healthy


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    from fakeserver.poc_kit import write_poc_admin_kit

    return write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)


def test_the_defaults(kit: Path) -> None:
    s = Session("admin", kit, secure_mode=False)
    assert s.debug is False
    assert isinstance(s.clock, RealClock)
    transport = s._transport
    assert isinstance(transport, Transport)
    assert transport.timeout == 10.0
    assert (s.upload_dir, s.download_dir) == (str(kit / "transfer"), str(kit / "transfer"))
    assert Session("admin", str(kit), False, timeout=0.5)._transport.timeout == 0.5
    clock = VirtualClock()
    assert Session("admin", kit, secure_mode=False, clock=clock).clock is clock


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"username": ""}, "username must be a non-empty str, got ''"),
        ({"username": 7}, "username must be a non-empty str, got 7"),
        ({"startup_path": 7}, "startup_path must be str or a path, got int"),
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": True}, "timeout must be a positive number of seconds, got True"),
        ({"timeout": "5"}, "timeout must be a positive number of seconds, got '5'"),
    ],
)
def test_bad_arguments_are_refused_with_their_value(kit: Path, kwargs: dict, text: str) -> None:
    arguments: dict = {"username": "admin", "startup_path": kit, "secure_mode": False, **kwargs}
    with pytest.raises(InvalidArgumentError) as info:
        Session(**arguments)
    assert str(info.value) == text


class _Time:
    """``time`` for the session module: ``monotonic`` follows the given readings (then the last one); ``sleep``
    is recorded and moves nothing."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def _refusing_twice(line: str, token: Optional[str]) -> Optional[Document]:
    raise NoConnection("connecting to admin server 127.0.0.9:8003 failed after 0.00 s: refused")


def test_each_retry_gets_what_is_left_and_sleeps_until_the_next_try(kit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Optional[float]] = []
    calls = iter([_refusing_twice, _refusing_twice, healthy, healthy])

    class Recording(Scripted):
        def request(
            self, line: str, token: Optional[str] = None, *, timeout: Optional[float] = None
        ) -> Optional[Document]:
            if line.startswith("_login"):
                attempts.append(timeout)
            return next(calls)(line, token)

    # started 100; try 1 at 100 (fails, 100.2 elapsed check); try 2 at 100.7 (fails, 100.9); try 3 at 101.4
    fake = _Time(100.0, 100.0, 100.2, 100.7, 100.9, 101.4)
    monkeypatch.setattr(session_module, "time", fake)
    s = Session("admin", kit, secure_mode=False, transport=Recording(healthy))  # type: ignore[arg-type]
    s.try_connect(2.0)
    assert attempts == pytest.approx([2.0, 1.3, 0.6])
    assert fake.slept == pytest.approx([0.5, 0.5])
    late = Session("admin", kit, secure_mode=False, transport=Recording(healthy))  # type: ignore[arg-type]
    calls = iter([_refusing_twice, healthy, healthy])
    fake = _Time(100.0, 100.0, 101.8, 102.5)
    monkeypatch.setattr(session_module, "time", fake)
    late.try_connect(2.0)
    assert fake.slept == pytest.approx([0.21])  # 0.2 s left, plus 10 ms


def test_try_connect_gives_up_only_after_the_deadline(kit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _Time(100.0, 100.0, 102.0, 102.0, 102.0, 102.5)
    monkeypatch.setattr(session_module, "time", fake)
    s = Session("admin", kit, secure_mode=False, transport=Scripted(_refusing_twice))  # type: ignore[arg-type]
    with pytest.raises(NoConnection) as info:
        s.try_connect(2.0)
    assert fake.slept == pytest.approx([0.01, 0.01])  # at exactly the deadline it tries once more
    assert str(info.value).startswith("cannot connect to FLARE in 2.0 seconds (127.0.0.9:8003, 2.50 s elapsed): ")


def test_a_secure_session_hands_its_certificate_to_the_transport(tmp_path: Path) -> None:
    """The transport checks that certificate itself when the server refuses the handshake."""
    from fakeserver.poc_kit import write_poc_admin_kit

    kit = write_poc_admin_kit(tmp_path / "admin", "127.0.0.9", 8003)
    config_path = kit / "startup" / "fed_admin.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    names = {"ca_cert": "rootCA.pem", "client_cert": "client.crt", "client_key": "client.key"}
    config["admin"].update(with_ssl=True, cred_type="cert", **names)
    config_path.write_text(json.dumps(config), encoding="utf-8")
    ca = trustme.CA()
    leaf = ca.issue_cert("admin@nvidia.com")
    ca.cert_pem.write_to_path(str(kit / "startup" / "rootCA.pem"))
    leaf.cert_chain_pems[0].write_to_path(str(kit / "startup" / "client.crt"))
    leaf.private_key_pem.write_to_path(str(kit / "startup" / "client.key"))
    s = Session("admin@nvidia.com", kit, secure_mode=True)
    transport = s._transport
    assert isinstance(transport, Transport)
    assert transport.client_cert == kit / "startup" / "client.crt"
    assert transport.ssl_context is not None


def test_the_flare_version_is_unknown_before_login(kit: Path) -> None:
    s = Session("admin", kit, secure_mode=False, transport=Scripted(healthy))  # type: ignore[arg-type]
    with pytest.raises(SessionClosed):
        s.flare_version  # noqa: B018
    s.try_connect(1.0)
    assert s.flare_version.value == "2.4"  # the scripted table has no set_timeout
