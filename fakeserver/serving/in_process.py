"""A transport that hands requests to a fake server's responder in the same process, without a socket.

The request and reply go through exactly the bytes, framing, size limit, faults and dispatcher of the
TLS path (the same :class:`~fakeserver.serving.respond.Responder`); only TCP and TLS are skipped. One
TLS request costs milliseconds (FLARE's protocol opens a connection per command), this costs about a
fifth of a millisecond, which is what lets ``monitor_job`` on a virtual clock get through an hour-long
job in well under a second.
"""

from __future__ import annotations

import time
from typing import Any, Optional, Union

from flare_api.errors import NoConnection, ProtocolError
from flare_api.transport import parse_reply
from flare_api.wire import DEFAULT_MAX_BYTES, Document, FramingError, StreamAccumulator, encode_stream
from flare_api.wire.transfer import TransferFraming, decoder_for, encode_binary_exchange

from ..pipeline.dispatch import PeerIdentity
from .respond import Admission, Responder, Response


class InProcessTransport:
    """Implements the client's ``RequestTransport`` against a server's :class:`Responder`.

    ``peer`` is who the (virtual) client certificate names; None for a POC server or no certificate.
    ``address`` only names the server in error messages.
    """

    def __init__(
        self,
        responder: Responder,
        address: tuple[str, int],
        peer: Optional[PeerIdentity],
        *,
        timeout: float = 10.0,
    ) -> None:
        self._responder = responder
        self.host, self.port = address
        self.timeout = timeout
        self.max_reply_bytes = DEFAULT_MAX_BYTES
        self._peer = peer

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port} (in-process)"

    def exchange(self, request: bytes) -> Response:
        """Hand one framed request to the responder and return its reply bytes, as TLS would carry them.

        Raises :class:`NoConnection` where a TLS client could not connect (server stopped or shut down,
        ``tls_abort`` fault).
        """
        admission = self._responder.admit()
        if admission is Admission.NOT_RUNNING:
            raise NoConnection(f"connecting to admin server {self._where} failed: the server is not running")
        if admission is Admission.ABORTED:
            raise NoConnection(f"TLS handshake with admin server {self._where} failed: connection aborted (injected)")
        return self._responder.respond_bytes(request, self._peer)

    def request(
        self,
        line: str,
        token: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        meta: Optional[dict[str, Any]] = None,
    ) -> Optional[Document]:
        """Run one request through the server's respond path and parse its reply."""
        started = time.monotonic()
        return self._text_reply(self.exchange(encode_stream([Document.request(line, token, meta).to_json()])), started)

    def push(
        self, line: str, token: Optional[str], body: bytes, *, timeout: Optional[float] = None
    ) -> Optional[Document]:
        """FLARE 2.5+'s binary push, as the same bytes the TLS transport sends."""
        started = time.monotonic()
        request = encode_binary_exchange(Document.request(line, token).to_json(), body)
        return self._text_reply(self.exchange(request), started)

    def pull(
        self, line: str, token: Optional[str], framing: TransferFraming, *, timeout: Optional[float] = None
    ) -> Union[bytes, Optional[Document]]:
        """FLARE 2.4+'s file pull: the file's frames decoded (bytes), or the server's text reply (a document)."""
        started = time.monotonic()
        response = self.exchange(encode_stream([Document.request(line, token).to_json()]))
        if not response.parts:
            return self._text_reply(response, started)
        decoder = decoder_for(framing, self.max_reply_bytes)
        try:
            for part in (response.payload, *response.parts):
                decoder.feed(bytes(part))
            if not decoder.done:
                raise FramingError("the transfer ended before its last frame")
            data = decoder.body()
            if framing is TransferFraming.BINARY_EXCHANGE and not data:
                raise FramingError("nothing received from the server")
        except FramingError as exc:
            raise ProtocolError(f"bad reply from admin server {self._where}: {exc}") from None
        return data

    def _text_reply(self, response: Response, started: float) -> Optional[Document]:
        if not response.complete:
            elapsed = time.monotonic() - started
            raise NoConnection(
                f"waiting for the reply of admin server {self._where} failed after {elapsed:.2f} s: "
                f"StreamClosed: connection closed before end of transmission ({len(response.payload)} bytes received)"
            )
        reply_stream = StreamAccumulator(self.max_reply_bytes)
        try:
            reply_stream.feed(response.payload)
            return parse_reply(reply_stream.text(), self._where)
        except FramingError as exc:
            raise ProtocolError(f"bad reply from admin server {self._where}: {exc}") from None
