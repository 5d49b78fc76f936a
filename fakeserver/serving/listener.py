"""The TLS listener: accept loop, a thread per connection, the handshake, then the responder's bytes.

Each accepted connection gets a thread: TLS handshake (client certificate required), then one request
read and answered by the :class:`~fakeserver.serving.respond.Responder`, then close. Every socket
operation has a timeout; at most ``max_connections`` connections are served at once.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
from typing import Callable, Optional

from flare_api.wire import read_stream, send_stream

from ..pipeline.dispatch import PeerIdentity
from .respond import Admission, Responder
from .stats import ConnectionStats

#: How many handshake failure descriptions are kept (most recent last).
HANDSHAKE_ERRORS_KEPT = 100


class Listener:
    """Serves one server's responder on a TCP port, over TLS when given a server context (else plain TCP)."""

    def __init__(
        self,
        responder: Responder,
        stats: ConnectionStats,
        *,
        request_timeout: float,
        handshake_timeout: float,
        max_connections: int,
    ) -> None:
        self._responder = responder
        self._stats = stats
        self._request_timeout = request_timeout
        self._handshake_timeout = handshake_timeout
        self._ssl_context: Optional[ssl.SSLContext] = None
        self._socket: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self._wake_r: Optional[socket.socket] = None
        self._wake_w: Optional[socket.socket] = None
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._conn_lock = threading.Lock()
        self._conn_threads: set[threading.Thread] = set()
        self._conn_sockets: set[socket.socket] = set()
        self._handshake_errors: list[str] = []
        #: Notified whenever a connection finishes (served, refused or failed): see ``wait_until``.
        self._changed = threading.Condition()

    # ----------------------------------------------------------------------------- lifecycle
    def start(self, host: str, port: int, ssl_context: Optional[ssl.SSLContext]) -> tuple[str, int]:
        """Bind ``(host, port)`` (0: any free port), start accepting, and return the bound address."""
        if self._accept_thread is not None:
            raise RuntimeError("listener already started")
        self._stopping.clear()
        self._ssl_context = ssl_context
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
            listener.listen(128)
        except OSError:
            listener.close()
            raise
        listener.setblocking(False)
        self._socket = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fakeflare-accept", daemon=True)
        self._accept_thread.start()
        return host, listener.getsockname()[1]

    def stop(self, timeout: float) -> None:
        """Stop accepting, cut open connections, and join every thread for at most ``timeout`` seconds."""
        if self._accept_thread is None:
            return
        self._stopping.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        self._accept_thread.join(timeout)
        with self._conn_lock:
            sockets = list(self._conn_sockets)
            threads = list(self._conn_threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)
        for closing in (self._socket, self._wake_r, self._wake_w):
            if closing is not None:
                closing.close()
        self._socket = self._wake_r = self._wake_w = None
        self._accept_thread = None

    @property
    def running(self) -> bool:
        return self._accept_thread is not None and not self._stopping.is_set()

    # ----------------------------------------------------------------------------- observation
    @property
    def handshake_errors(self) -> list[str]:
        """Why TLS handshakes failed (most recent last, at most :data:`HANDSHAKE_ERRORS_KEPT`)."""
        return self._handshake_errors

    def reset(self) -> None:
        """Forget statistics and handshake errors."""
        with self._changed:
            self._stats.reset()
            self._handshake_errors.clear()

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds after some connection finished; returns ``condition()``."""
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    # ----------------------------------------------------------------------------- connections
    def _accept_loop(self) -> None:
        assert self._socket is not None and self._wake_r is not None
        selector = selectors.DefaultSelector()
        selector.register(self._socket, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping.is_set():
                        return
                    self._accept_one()
        except Exception as exc:  # the listener itself failed: record it, stop serving
            self._responder.record_error("<accept>", exc)
        finally:
            selector.close()

    def _accept_one(self) -> None:
        assert self._socket is not None
        try:
            conn, _ = self._socket.accept()
        except (BlockingIOError, InterruptedError):
            return
        self._stats.add("accepted")
        while not self._slots.acquire(timeout=0.5):
            if self._stopping.is_set():
                conn.close()
                return
        conn.setblocking(True)
        thread = threading.Thread(target=self._serve, args=(conn,), name="fakeflare-conn", daemon=True)
        with self._conn_lock:
            self._conn_threads.add(thread)
            self._conn_sockets.add(conn)
        thread.start()

    def _serve(self, raw: socket.socket) -> None:
        sock: socket.socket = raw
        try:
            if self._responder.admit() is not Admission.ADMITTED:
                return
            peer: Optional[PeerIdentity] = None
            if self._ssl_context is not None:
                tls = self._handshake(raw)
                if tls is None:
                    return
                sock = tls
                with self._conn_lock:
                    self._conn_sockets.add(sock)
                peer = PeerIdentity.from_peercert(tls.getpeercert())
            request_timeout = self._request_timeout
            response = self._responder.respond(
                lambda limit: read_stream(sock, timeout=request_timeout, max_bytes=limit), peer
            )
            if response.payload:
                send_stream(sock, response.payload, timeout=request_timeout)
            if response.hold:
                self._stopping.wait(response.hold)
        except OSError:
            self._stats.add("read_failures")
        except Exception as exc:
            self._responder.record_error("<connection>", exc)
        finally:
            self._close(raw, sock)

    def _handshake(self, raw: socket.socket) -> Optional[ssl.SSLSocket]:
        assert self._ssl_context is not None
        raw.settimeout(self._handshake_timeout)
        tls: Optional[ssl.SSLSocket] = None
        try:
            tls = self._ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            tls.do_handshake()
            return tls
        except (ssl.SSLError, OSError) as exc:
            if tls is not None:  # the wrapper took over the file descriptor: closing ``raw`` would not free it
                with contextlib.suppress(OSError):
                    tls.close()
            with self._changed:
                self._stats.add("handshake_failures")
                self._handshake_errors.append(f"{type(exc).__name__}: {exc}")
                del self._handshake_errors[:-HANDSHAKE_ERRORS_KEPT]
                self._changed.notify_all()
            return None

    def _close(self, raw: socket.socket, sock: socket.socket) -> None:
        for s in {id(sock): sock, id(raw): raw}.values():
            with contextlib.suppress(OSError):
                s.close()
        with self._conn_lock:
            self._conn_sockets.discard(raw)
            self._conn_sockets.discard(sock)
            self._conn_threads.discard(threading.current_thread())
        self._slots.release()
        with self._changed:
            self._changed.notify_all()
