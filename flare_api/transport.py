"""One (TLS) connection per request, as FLARE's admin protocol requires; the SSL context is built once.

Connect, handshake, send and read each have a deadline; failures become :class:`NoConnection`
naming host, port and elapsed time, and protocol breaches become :class:`ProtocolError`.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, TypeVar, Union

from .errors import InvalidReply, NoConnection, TLSRejected
from .tls_diagnosis import definitive_ssl_error, local_certificate_problem
from .wire import (
    DEFAULT_MAX_BYTES,
    Document,
    FrameTimeout,
    FramingError,
    ProtocolViolation,
    StreamAccumulator,
    StreamClosed,
    encode_stream,
    parse_document,
    read_stream,
    send_stream,
    split_segments,
)
from .wire.framing import ALL_END_BYTE, RECV_CHUNK
from .wire.transfer import TransferFraming, binary_exchange_parts, decoder_for, read_decoded

__all__ = ["RequestTransport", "TransferTransport", "Transport", "client_ssl_context", "parse_reply", "read_pull"]

T = TypeVar("T")


class RequestTransport(Protocol):
    """What a Session needs to send commands: one request in, one reply document (or None) out."""

    host: str
    port: int
    timeout: float

    def request(
        self,
        line: str,
        token: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        meta: Optional[dict[str, Any]] = None,
    ) -> Optional[Document]:
        """Send one command line with an optional session token (and request ``meta``); return the reply."""
        ...


class TransferTransport(RequestTransport, Protocol):
    """A transport that also carries FLARE 2.4+ file transfers (the TLS transport and the fake's in-process one)."""

    def push(
        self, line: str, token: Optional[str], body: bytes, *, timeout: Optional[float] = None
    ) -> Optional[Document]:
        """Send ``line`` as a binary exchange carrying ``body`` (FLARE 2.5+ ``submit_job``); return the reply."""
        ...

    def pull(
        self, line: str, token: Optional[str], framing: TransferFraming, *, timeout: Optional[float] = None
    ) -> Union[bytes, Optional[Document]]:
        """Send ``line`` and read one file in ``framing`` (bytes), or the server's text reply (a document)."""
        ...


def client_ssl_context(ca_cert: Path, client_cert: Path, client_key: Path) -> ssl.SSLContext:
    """FLARE's client TLS settings: verify the server against the kit's CA, present the admin cert.

    Hostname checking is off (FLARE's client does not check it and sends no SNI). Python 3.13's
    strict X.509 flag is cleared so kits provisioned by FLARE 2.3 itself (no AKI on leaves) verify.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_cert))
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    strict = getattr(ssl, "VERIFY_X509_STRICT", 0)
    context.verify_flags &= ~strict
    context.load_cert_chain(str(client_cert), str(client_key))
    return context


class Transport:
    """Sends one command per connection to ``host:port`` and returns the reply document."""

    def __init__(
        self,
        host: str,
        port: int,
        ssl_context: Optional[ssl.SSLContext],
        *,
        timeout: float = 10.0,
        max_reply_bytes: int = DEFAULT_MAX_BYTES,
        client_cert: Optional[Path] = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.max_reply_bytes = max_reply_bytes
        #: The certificate ``ssl_context`` presents, checked locally when the server refuses the handshake.
        self.client_cert = client_cert
        #: Resume the last TLS session (tickets) to skip the certificate exchange on later requests.
        self.resume_tls = True
        self._tls_session: Optional[ssl.SSLSession] = None

    def _fail(self, what: str, started: float, exc: BaseException) -> NoConnection:
        elapsed = time.monotonic() - started
        return NoConnection(
            f"{what} admin server {self.host}:{self.port} failed after {elapsed:.2f} s: {type(exc).__name__}: {exc}"
        )

    def _tls_fail(self, what: str, started: float, exc: BaseException) -> NoConnection:
        """Like :meth:`_fail`, but :class:`TLSRejected` naming the cause when a certificate was refused.

        A refused client certificate arrives as an alert or, racing it, as a bare EOF (TLS 1.3: the
        server checks it after the client's side of the handshake); either way the client's own
        certificate is checked so the message can say what is wrong with it.
        """
        failure = self._fail(what, started, exc)
        cause = definitive_ssl_error(exc)
        server_refused = cause is not None and not isinstance(exc, ssl.SSLCertVerificationError)
        dropped = isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError))
        if server_refused or dropped:
            cause = local_certificate_problem(self.client_cert) or cause
        if cause is None:
            return failure
        return TLSRejected(f"{failure}: {cause}")

    def request(
        self,
        line: str,
        token: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        meta: Optional[dict[str, Any]] = None,
    ) -> Optional[Document]:
        """Send ``line`` (with ``token``) and return the reply; None if the server sent no document."""
        timeout = self.timeout if timeout is None else timeout
        payload = encode_stream([Document.request(line, token, meta).to_json()])
        text = self._roundtrip(
            [payload], timeout, lambda sock: read_stream(sock, timeout=timeout, max_bytes=self.max_reply_bytes)
        )
        return parse_reply(text, self._where)

    def push(
        self, line: str, token: Optional[str], body: bytes, *, timeout: Optional[float] = None
    ) -> Optional[Document]:
        """FLARE 2.5+'s binary push (``submit_job``): the request document travels as a binary exchange's meta,
        ``body`` as its body; the reply is an ordinary text reply."""
        timeout = self.timeout if timeout is None else timeout
        parts = binary_exchange_parts(Document.request(line, token).to_json(), body)
        text = self._roundtrip(
            parts, timeout, lambda sock: read_stream(sock, timeout=timeout, max_bytes=self.max_reply_bytes)
        )
        return parse_reply(text, self._where)

    def pull(
        self, line: str, token: Optional[str], framing: TransferFraming, *, timeout: Optional[float] = None
    ) -> Union[bytes, Optional[Document]]:
        """FLARE 2.4+'s file pull (``download_job_file``): a text request answered by one file in ``framing``
        (returned as bytes), or by a text reply when the server refused (returned as its document)."""
        timeout = self.timeout if timeout is None else timeout
        payload = encode_stream([Document.request(line, token).to_json()])
        answer = self._roundtrip(
            [payload], timeout, lambda sock: read_pull(sock, framing, timeout, self.max_reply_bytes)
        )
        return answer if isinstance(answer, bytes) else parse_reply(answer.text, self._where)

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def _roundtrip(
        self, parts: Sequence[Union[bytes, memoryview]], timeout: float, read: Callable[[socket.socket], T]
    ) -> T:
        """One connection: connect, TLS (resumed), send ``parts``, ``read`` the answer, close."""
        started = time.monotonic()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=timeout)
        except OSError as exc:
            raise self._fail("connecting to", started, exc) from None
        try:
            if self.ssl_context is not None:
                session = self._tls_session if self.resume_tls else None
                try:
                    sock = self.ssl_context.wrap_socket(sock, session=session)
                except (ssl.SSLError, OSError) as exc:
                    self._tls_session = None
                    raise self._tls_fail("TLS handshake with", started, exc) from None
            try:
                for part in parts:
                    send_stream(sock, part, timeout=timeout)
                result = read(sock)
            except (FrameTimeout, StreamClosed) as exc:
                raise self._fail("waiting for the reply of", started, exc) from None
            except FramingError as exc:
                raise InvalidReply(f"bad reply from admin server {self._where}: {exc}") from None
            except OSError as exc:
                self._tls_session = None
                if self.ssl_context is None:
                    raise self._fail("talking to", started, exc) from None
                raise self._tls_fail("talking to", started, exc) from None
            if isinstance(sock, ssl.SSLSocket) and self.resume_tls:
                self._tls_session = sock.session
        finally:
            sock.close()
        return result


@dataclass(frozen=True)
class _TextAnswer:
    """A pull answered with text (the server refused before sending the file)."""

    text: str


def read_pull(
    sock: socket.socket, framing: TransferFraming, timeout: float, max_bytes: int
) -> Union[bytes, _TextAnswer]:
    """Read a pull's answer: the first byte tells the file's frames from a text reply (which starts with ``{``)."""
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    try:
        first = sock.recv(RECV_CHUNK)
    except socket.timeout:
        raise FrameTimeout(f"no answer within {timeout:g} s") from None
    if not first:
        raise StreamClosed("connection closed before the transfer began (0 bytes received)")
    remaining = max(deadline - time.monotonic(), 0.001)
    if first[:1] in (b"{", ALL_END_BYTE):
        stream = StreamAccumulator(max_bytes)
        done = stream.feed(first)
        while not done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FrameTimeout(f"no complete reply within {timeout:g} s ({stream.size} bytes received)")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(RECV_CHUNK)
            except socket.timeout:
                raise FrameTimeout(f"no complete reply within {timeout:g} s ({stream.size} bytes received)") from None
            if not chunk:
                raise StreamClosed(f"connection closed before end of transmission ({stream.size} bytes received)")
            done = stream.feed(chunk)
        return _TextAnswer(stream.text())
    decoder = decoder_for(framing, max_bytes)
    read_decoded(sock, decoder, timeout=remaining, first=first)
    data = decoder.body()
    if framing is TransferFraming.BINARY_EXCHANGE and not data:
        raise FramingError("nothing received from the server")
    return data


def parse_reply(text: str, where: str) -> Optional[Document]:
    """The reply document in ``text`` (what came before ``\\x04``); None if the server sent none.

    FLARE's client keeps the last document when a server sends several; an invalid one is an error.
    """
    segments = split_segments(text)
    if not segments:
        return None
    try:
        return parse_document(segments[-1])
    except ProtocolViolation as exc:
        raise InvalidReply(f"invalid reply document from admin server {where}: {exc}") from None
