"""A transport that hands requests to a fake server in the same process, without a socket.

The request and reply go through exactly the bytes, framing, validation and dispatcher of the TLS
path; only TCP and TLS are skipped. One TLS request costs milliseconds (FLARE's protocol opens a
connection per command), this costs about a fifth of a millisecond, which is what lets ``monitor_job`` on a
virtual clock get through an hour-long job in well under a second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Optional

from flare_api.errors import NoConnection, ProtocolError
from flare_api.transport import parse_reply
from flare_api.wire import (
    DEFAULT_MAX_BYTES,
    Document,
    FrameTooLarge,
    FramingError,
    StreamAccumulator,
    encode_stream,
)

from ..pipeline.dispatch import PeerIdentity
from ..pipeline.reply import Reply
from ..protocol import messages as msg

if TYPE_CHECKING:
    from ..server import FakeFlareServer


class InProcessTransport:
    """Implements the client's ``RequestTransport`` against a :class:`FakeFlareServer` object.

    ``user`` is who the (virtual) client certificate names; None for a POC server or no certificate.
    """

    def __init__(self, server: FakeFlareServer, user: Optional[str], *, timeout: float = 10.0) -> None:
        self._server = server
        self.host, self.port = server.address
        self.timeout = timeout
        self.max_reply_bytes = DEFAULT_MAX_BYTES
        if user is None or not server.secure:
            self._peer: Optional[PeerIdentity] = None
        else:
            admin = server.project.admin(user)
            self._peer = PeerIdentity(admin.name, admin.org, admin.role)

    def request(self, line: str, token: Optional[str] = None, *, timeout: Optional[float] = None) -> Optional[Document]:
        """Run one request through the server's request path and parse its reply."""
        server = self._server
        where = f"{self.host}:{self.port} (in-process)"
        if not server.running or server.state.gone:
            raise NoConnection(f"connecting to admin server {where} failed: the server is not running")
        if server.faults.take(None, at_handshake=True) is not None:
            server.stats.faults_fired += 1
            raise NoConnection(f"TLS handshake with admin server {where} failed: connection aborted (injected)")
        started = time.monotonic()
        request = StreamAccumulator(server.max_request_bytes)
        try:
            request.feed(encode_stream([Document.request(line, token).to_json()]))
            text = request.text()
        except FrameTooLarge:
            reply = Reply().error(msg.REQUEST_TOO_LARGE.format(limit=server.max_request_bytes)).document()
            return parse_reply(reply.to_json() + "\x03", where)
        except FramingError:
            return parse_reply(Reply().error(msg.PROTOCOL_VIOLATION).document().to_json() + "\x03", where)
        response = server.respond(text, self._peer)
        if not response.complete:
            elapsed = time.monotonic() - started
            raise NoConnection(
                f"waiting for the reply of admin server {where} failed after {elapsed:.2f} s: "
                f"StreamClosed: connection closed before end of transmission ({len(response.payload)} bytes received)"
            )
        reply_stream = StreamAccumulator(self.max_reply_bytes)
        try:
            reply_stream.feed(response.payload)
            return parse_reply(reply_stream.text(), where)
        except FramingError as exc:
            raise ProtocolError(f"bad reply from admin server {where}: {exc}") from None
