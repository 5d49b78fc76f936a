"""Client defects found in review, each pinned by a test that failed before its fix (docs/robustness.md)."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path
from typing import Any

import pytest

from fakeserver import FakeFlareServer
from fakeserver.provision import DEFAULT_ADMINS, issue_admin_certificate, new_ca
from flare_api import Session, VirtualClock
from flare_api.errors import FlareError, InvalidArgumentError, NoConnection, ProtocolError, TLSRejected
from flare_api.monitor import MAX_STALLED_POLLS, monitor
from flare_api.startup_kit import load_startup_kit

pytestmark = pytest.mark.fake_flare_only

ADMIN = DEFAULT_ADMINS[0].name


def test_unbalanced_quote_is_a_flare_error(flare: FakeFlareServer) -> None:
    with flare.session(ADMIN) as session, pytest.raises(InvalidArgumentError, match="No closing quotation") as caught:
        session.do_command('list_jobs "oops')
    assert isinstance(caught.value, FlareError)


@pytest.mark.parametrize("job_meta", [[1, 2], "meta", 7, True])
def test_non_dict_job_meta_is_a_protocol_error(
    flare: FakeFlareServer, monkeypatch: pytest.MonkeyPatch, job_meta: Any
) -> None:
    class Reply:
        meta = {"status": "ok", "job_meta": job_meta}

    with flare.session(ADMIN) as session:
        monkeypatch.setattr(session, "_command", lambda *args, **kwargs: Reply())
        with pytest.raises(ProtocolError, match=f"job meta of type {type(job_meta).__name__}"):
            session.get_job_meta("0123")


def _kit_with(flare: FakeFlareServer, tmp_path: Path, cert_pem: bytes, key_pem: bytes, ca_pem: bytes = b"") -> Path:
    kit = tmp_path / "kit"
    shutil.copytree(flare.startup_kit(ADMIN), kit)
    paths = load_startup_kit(kit)
    assert paths.client_cert and paths.client_key and paths.ca_cert
    paths.client_cert.write_bytes(cert_pem)
    paths.client_key.write_bytes(key_pem)
    if ca_pem:
        paths.ca_cert.write_bytes(ca_pem)
    return kit


def _attempts(session: Session) -> list[str]:
    """Record every request the session's transport makes."""
    made: list[str] = []
    transport = session._transport
    original = transport.request

    def counting(line: str, *args: Any, **kwargs: Any) -> Any:
        made.append(line)
        return original(line, *args, **kwargs)

    transport.request = counting  # type: ignore[method-assign]
    return made


def test_expired_client_certificate_fails_fast_naming_the_cause(flare: FakeFlareServer, tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    cert, key = issue_admin_certificate(
        flare.provisioned.ca,
        DEFAULT_ADMINS[0],
        not_before=now - datetime.timedelta(days=10),
        not_after=now - datetime.timedelta(days=1),
    )
    session = Session(ADMIN, _kit_with(flare, tmp_path, cert, key))
    made = _attempts(session)
    with pytest.raises(TLSRejected, match=r"client certificate .* expired on"):
        session.try_connect(timeout=3600)
    assert made == [f"_cert_login {ADMIN}"]


def test_untrusted_server_fails_fast_naming_the_cause(flare: FakeFlareServer, tmp_path: Path) -> None:
    cert, key = issue_admin_certificate(flare.provisioned.ca, DEFAULT_ADMINS[0])
    session = Session(ADMIN, _kit_with(flare, tmp_path, cert, key, new_ca().cert_pem.bytes()))
    made = _attempts(session)
    with pytest.raises(TLSRejected, match="server's certificate was not accepted"):
        session.try_connect(timeout=3600)
    assert made == [f"_cert_login {ADMIN}"]
    assert isinstance(TLSRejected("x"), NoConnection)  # existing `except NoConnection` code still catches it


def test_zero_poll_interval_on_a_virtual_clock_gives_up() -> None:
    polls: list[str] = []

    def running(job_id: str) -> dict[str, Any]:
        polls.append(job_id)
        return {"status": "RUNNING"}

    with pytest.raises(InvalidArgumentError, match="the clock has not moved"):
        monitor(None, "j1", running, VirtualClock(), 60.0, 0.0, None, (), {})
    assert len(polls) == MAX_STALLED_POLLS
