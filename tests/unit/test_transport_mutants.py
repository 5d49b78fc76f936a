"""Which cause ``Transport._tls_fail`` names for each TLS failure (the TLS-rejection integration tests,
outside the mutation selection, were the only ones to reach it)."""

from __future__ import annotations

import re
import ssl
import time
from pathlib import Path
from typing import Any, Optional

import pytest
import trustme

from flare_api.errors import NoConnection, TLSRejected
from flare_api.transport import Transport, client_ssl_context


def _rejected_by_server() -> ssl.SSLError:
    exc = ssl.SSLError(1, "[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate")
    exc.reason = "SSLV3_ALERT_BAD_CERTIFICATE"  # type: ignore[misc]
    return exc


def _fail(exc: BaseException, client_cert: Optional[Path]) -> NoConnection:
    transport = Transport("127.0.0.9", 8003, None, client_cert=client_cert)
    return transport._tls_fail("TLS handshake with", time.monotonic(), exc)


def _text(failure: NoConnection) -> str:
    """The message with the elapsed time (wall clock) blanked out."""
    return re.sub(r"failed after \d+\.\d\d s", "failed after T s", str(failure), count=1)


def _head(exc: BaseException) -> str:
    return f"TLS handshake with admin server 127.0.0.9:8003 failed after T s: {type(exc).__name__}: {exc}"


@pytest.mark.parametrize(
    "exc", [ssl.SSLEOFError(8, "EOF"), ssl.SSLZeroReturnError(6, "closed"), ConnectionResetError(104, "reset")]
)
def test_a_dropped_handshake_names_the_local_certificate_problem(exc: BaseException, tmp_path: Path) -> None:
    missing = tmp_path / "client.crt"
    failure = _fail(exc, missing)
    assert type(failure) is TLSRejected
    assert _text(failure).startswith(_head(exc) + f": the client certificate {missing} cannot be read: ")
    plain = _fail(exc, None)  # nothing known about the certificate: just the dropped connection
    assert type(plain) is NoConnection and _text(plain) == _head(exc)


def test_a_server_refusal_prefers_the_local_certificate_problem(tmp_path: Path) -> None:
    missing = tmp_path / "client.crt"
    exc = _rejected_by_server()
    assert _text(_fail(exc, missing)).startswith(_head(exc) + f": the client certificate {missing} cannot be read: ")
    refused = _fail(exc, None)
    assert type(refused) is TLSRejected
    assert _text(refused) == _head(exc) + ": the server refused the client certificate (SSLV3_ALERT_BAD_CERTIFICATE)"


def test_our_refusal_of_the_servers_certificate_ignores_the_client_certificate(tmp_path: Path) -> None:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_message = "unable to get local issuer certificate"
    failure = _fail(exc, tmp_path / "client.crt")
    assert type(failure) is TLSRejected
    assert _text(failure) == _head(exc) + (
        ": the server's certificate was not accepted: unable to get local issuer certificate"
    )


def test_other_errors_stay_plain_connection_failures(tmp_path: Path) -> None:
    exc = OSError(111, "Connection refused")
    failure = _fail(exc, tmp_path / "client.crt")
    assert type(failure) is NoConnection and _text(failure) == _head(exc)


def test_client_ssl_context_clears_the_strict_x509_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.13's default context sets VERIFY_X509_STRICT; 3.11's does not, so set it here to see it cleared."""
    ca = trustme.CA()
    leaf = ca.issue_cert("admin@example.com")
    ca_path, cert_path, key_path = tmp_path / "rootCA.pem", tmp_path / "client.crt", tmp_path / "client.key"
    ca.cert_pem.write_to_path(str(ca_path))
    leaf.cert_chain_pems[0].write_to_path(str(cert_path))
    leaf.private_key_pem.write_to_path(str(key_path))
    default = ssl.create_default_context

    def strict_default(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = default(*args, **kwargs)
        context.verify_flags |= ssl.VERIFY_X509_STRICT
        return context

    monkeypatch.setattr(ssl, "create_default_context", strict_default)
    context = client_ssl_context(ca_path, cert_path, key_path)
    assert not context.verify_flags & ssl.VERIFY_X509_STRICT
    assert context.check_hostname is False and context.verify_mode is ssl.CERT_REQUIRED
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
