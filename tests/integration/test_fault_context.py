"""``with server.fault(...)``: armed inside the block, disarmed after; bad arguments say what is wrong."""

from __future__ import annotations

import pytest

from fakeserver import FakeFlareServer
from flare_api import ConnectionLost, Session

pytestmark = pytest.mark.fake_flare_only


@pytest.fixture
def session(flare: FakeFlareServer) -> Session:
    return flare.session(in_process=True)


def test_armed_inside_disarmed_after(flare: FakeFlareServer, session: Session) -> None:
    with flare.fault("drop", command="list_jobs", times=2) as fault:
        assert fault.armed and len(flare.faults) == 1
        session.get_system_info()  # another command: untouched
        with pytest.raises(ConnectionLost):
            session.list_jobs()
        assert fault.hits == 1
    assert not fault.armed and len(flare.faults) == 0
    assert session.list_jobs() == []  # the second use was never spent, yet the fault is gone


def test_disarmed_even_when_the_block_raises(flare: FakeFlareServer) -> None:
    with pytest.raises(RuntimeError), flare.fault("empty", forever=True):
        raise RuntimeError("test failure inside")
    assert len(flare.faults) == 0


def test_forever_fires_on_every_request(flare: FakeFlareServer, session: Session) -> None:
    with flare.fault("drop", command="list_jobs", forever=True) as fault:
        for _ in range(3):
            with pytest.raises(ConnectionLost):
                session.list_jobs()
    assert fault.hits == 3


def test_a_used_up_fault_is_not_armed(flare: FakeFlareServer, session: Session) -> None:
    with flare.fault("drop", command="job_mgmt.list_jobs") as fault:
        with pytest.raises(ConnectionLost):
            session.list_jobs()
        assert not fault.armed
        assert session.list_jobs() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "bogus"}, r"'bogus' is not a valid FaultKind; valid kinds: tls_abort, drop, delay"),
        ({"kind": "drop", "command": "list_job"}, r"unknown command 'list_job'.*did you mean list_jobs"),
        ({"kind": "drop", "command": "frobnicate"}, r"unknown command 'frobnicate': the fake FLARE server"),
        ({"kind": "drop", "times": 0}, r"times must be an int of at least 1, got 0 \(pass forever=True"),
        ({"kind": "drop", "times": -1}, r"times must be an int of at least 1, got -1"),
        ({"kind": "drop", "seconds": -0.5}, r"seconds must be a number of seconds, not negative, got -0.5"),
        ({"kind": "delay"}, r"fault delay needs seconds > 0"),
    ],
)
def test_bad_arguments_are_refused(flare: FakeFlareServer, kwargs: dict, message: str) -> None:
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match=message), flare.fault(kind, **kwargs):
        pass  # pragma: no cover - never reached
    assert len(flare.faults) == 0
