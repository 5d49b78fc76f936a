"""Why a TLS connection to the admin server failed, when retrying cannot help.

With TLS 1.3 the server checks the client certificate after the client has finished its side of the
handshake, so a rejected certificate shows up on the client only as ``SSLEOFError`` on the first read.
The client then looks at its own certificate: expired or not yet valid is named as the cause.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path
from typing import Optional

from cryptography import x509

__all__ = ["definitive_ssl_error", "local_certificate_problem"]

#: OpenSSL reasons (``SSLError.reason``) that mean the peer refused a certificate.
_REJECTION_REASONS = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "TLSV1_ALERT_ACCESS_DENIED",
        "CERTIFICATE_VERIFY_FAILED",
    }
)


def definitive_ssl_error(exc: BaseException) -> Optional[str]:
    """The cause, if ``exc`` says a certificate was refused (by us or by the server); else None."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's certificate was not accepted: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError) and getattr(exc, "reason", None) in _REJECTION_REASONS:
        return f"the server refused the client certificate ({exc.reason})"
    return None


def local_certificate_problem(cert_path: Optional[Path], now: Optional[datetime.datetime] = None) -> Optional[str]:
    """Why the server would refuse the client certificate at ``cert_path`` (expired, not yet valid), or None."""
    if cert_path is None:
        return None
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    except (OSError, ValueError) as exc:
        return f"the client certificate {cert_path} cannot be read: {exc}"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_before = _aware(getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before)
    not_after = _aware(getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after)
    if now > not_after:
        return f"the client certificate {cert_path} expired on {not_after:%Y-%m-%d %H:%M:%S} UTC"
    if now < not_before:
        return f"the client certificate {cert_path} is not valid before {not_before:%Y-%m-%d %H:%M:%S} UTC"
    return None


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.timezone.utc)
