"""The TLS listener: a non-blocking gate for unauthenticated connections, then a worker per request.

One thread (the *gate*) runs a selector over the listening socket and every connection that has not yet
sent a byte of its request: it accepts without ever blocking, drives each TLS handshake (client
certificate required) step by step on non-blocking sockets, and waits for the first byte of the request.
Both waits have deadlines (``handshake_timeout``, ``first_byte_timeout``), and at most ``max_pending``
connections wait at once (the oldest is cut for a new one), so connections that never authenticate or
never ask cost a file descriptor for a bounded time and never a worker. Only a connection whose request
has begun gets one of the ``max_connections`` workers, which reads the request under ``request_timeout``
and sends the :class:`~fakeserver.serving.respond.Responder`'s answer.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import random
import selectors
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from flare_api.wire import send_stream

from ..pipeline.dispatch import PeerIdentity
from .reading import read_request
from .respond import Admission, Responder
from .stats import ConnectionStats

#: How many handshake failure descriptions are kept (most recent last).
HANDSHAKE_ERRORS_KEPT = 100
#: Default deadline for the first byte of the request once the handshake is done (seconds). Longer than the
#: handshake's: a waiting connection costs only a file descriptor, while cutting an authenticated one early
#: invites a reconnect that costs a full handshake (docs/robustness.md: 2 s tripled a legit client's latency).
DEFAULT_FIRST_BYTE_TIMEOUT = 10.0
#: Gate deadlines are stretched by a random factor of up to this: connections opened together (a flood)
#: then expire, and come back, spread out instead of in one burst.
DEADLINE_JITTER = 0.5
#: Default number of connections that may wait in the gate (handshake or first byte) at once.
DEFAULT_MAX_PENDING = 1024

Conn = Union[socket.socket, ssl.SSLSocket]


@dataclass(eq=False)
class _Pending:
    """A connection in the gate: its socket (the TLS wrapper once wrapped), stage and deadline."""

    sock: Conn
    deadline: float
    handshaking: bool
    events: int = selectors.EVENT_READ
    closed: bool = field(default=False)


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
        first_byte_timeout: Optional[float] = None,
        max_pending: Optional[int] = None,
    ) -> None:
        # None: the module's defaults, read now (so a test or script can lower them for every server it starts)
        first_byte_timeout = DEFAULT_FIRST_BYTE_TIMEOUT if first_byte_timeout is None else first_byte_timeout
        max_pending = DEFAULT_MAX_PENDING if max_pending is None else max_pending
        if first_byte_timeout <= 0 or max_pending < 1:
            raise ValueError("first_byte_timeout must be positive and max_pending at least 1")
        self._responder = responder
        self._stats = stats
        self._request_timeout = request_timeout
        self._handshake_timeout = handshake_timeout
        self._first_byte_timeout = first_byte_timeout
        self._max_pending = max_pending
        self._max_workers = max_connections
        self._ssl_context: Optional[ssl.SSLContext] = None
        self._socket: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self._wake_r: Optional[socket.socket] = None
        self._wake_w: Optional[socket.socket] = None
        self._stopping = threading.Event()
        self._conn_lock = threading.Lock()
        self._conn_threads: set[threading.Thread] = set()
        self._conn_sockets: set[Conn] = set()
        #: Connections whose request has begun, waiting for a free worker (under ``_conn_lock``).
        self._ready: collections.deque[tuple[Conn, Optional[PeerIdentity]]] = collections.deque()
        self._handshake_errors: list[str] = []
        #: Orders equal deadlines in the gate's heap.
        self._seq = itertools.count()
        self._jitter = random.Random()
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
            listener.listen(1024)
        except OSError:
            listener.close()
            raise
        listener.setblocking(False)
        self._socket = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._accept_thread = threading.Thread(target=self._gate_loop, name="fakeflare-accept", daemon=True)
        self._accept_thread.start()
        return host, listener.getsockname()[1]

    def stop(self, timeout: float) -> None:
        """Stop accepting, cut every connection (waiting or served), and join the threads within ``timeout``."""
        if self._accept_thread is None:
            return
        deadline = time.monotonic() + timeout
        self._stopping.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        self._accept_thread.join(timeout)  # the gate closes the connections still in it as it leaves
        with self._conn_lock:
            sockets = list(self._conn_sockets)
            threads = list(self._conn_threads)
            ready = list(self._ready)
            self._ready.clear()
        for sock, _ in ready:
            self._close(sock)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
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

    @property
    def busy_workers(self) -> int:
        """Worker threads serving a request right now."""
        with self._conn_lock:
            return len(self._conn_threads)

    def reset(self) -> None:
        """Forget statistics and handshake errors."""
        with self._changed:
            self._stats.reset()
            self._handshake_errors.clear()

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds after some connection finished; returns ``condition()``."""
        with self._changed:
            return self._changed.wait_for(condition, timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # ----------------------------------------------------------------------------- the gate
    def _gate_loop(self) -> None:
        assert self._socket is not None and self._wake_r is not None
        selector = selectors.DefaultSelector()
        selector.register(self._socket, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        #: In arrival order (the oldest is cut when the gate is full); deadlines in a heap, removed lazily.
        pending: dict[_Pending, None] = {}
        deadlines: list[tuple[float, int, _Pending]] = []
        try:
            while not self._stopping.is_set():
                wait = None
                while deadlines and deadlines[0][2].closed:
                    heapq.heappop(deadlines)
                if deadlines:
                    wait = max(0.0, deadlines[0][0] - time.monotonic())
                for key, _ in selector.select(wait):
                    if self._stopping.is_set():
                        return
                    if key.fileobj is self._wake_r:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(64)
                    elif key.fileobj is self._socket:
                        self._accept_all(selector, pending, deadlines)
                    elif not key.data.closed:  # (an entry cut earlier in this batch is skipped)
                        self._advance(selector, pending, deadlines, key.data)
                now = time.monotonic()
                while deadlines and (deadlines[0][2].closed or deadlines[0][0] <= now):
                    _, _, entry = heapq.heappop(deadlines)
                    if not entry.closed and entry.deadline <= now:
                        self._expire(selector, pending, entry)
        except Exception as exc:  # the listener itself failed: record it, stop serving
            self._responder.record_error("<accept>", exc)
        finally:
            for entry in list(pending):
                self._drop(selector, pending, entry)
            selector.close()

    def _accept_all(
        self,
        selector: selectors.BaseSelector,
        pending: dict[_Pending, None],
        deadlines: list[tuple[float, int, _Pending]],
    ) -> None:
        """Accept every connection the kernel holds, without blocking; each enters the gate."""
        assert self._socket is not None
        while True:
            try:
                conn, _ = self._socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. out of file descriptors: cut the oldest waiter and go on
                self._handshake_failed(f"{type(exc).__name__}: {exc}")
                if pending:
                    self._stats.add("evicted")
                    self._drop(selector, pending, next(iter(pending)))
                else:  # the workers hold every descriptor: let one finish instead of spinning
                    self._stopping.wait(0.05)
                return
            self._stats.add("accepted")
            if self._responder.admit() is not Admission.ADMITTED:
                self._close(conn)
                continue
            conn.setblocking(False)
            if len(pending) >= self._max_pending:
                self._stats.add("evicted")
                self._drop(selector, pending, next(iter(pending)))
            entry = self._enter(conn)
            if entry is None:
                continue
            pending[entry] = None
            heapq.heappush(deadlines, (entry.deadline, next(self._seq), entry))
            if entry.handshaking:
                self._advance(selector, pending, deadlines, entry, registered=False)
            else:
                selector.register(entry.sock, entry.events, entry)

    def _enter(self, conn: socket.socket) -> Optional[_Pending]:
        """A new connection's gate entry: its TLS wrapper (handshake pending) or, without TLS, the socket."""
        if self._ssl_context is None:
            return _Pending(conn, self._deadline(self._first_byte_timeout), handshaking=False)
        try:
            tls = self._ssl_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        except (ssl.SSLError, OSError) as exc:
            self._close(conn)
            self._handshake_failed(f"{type(exc).__name__}: {exc}")
            return None
        return _Pending(tls, self._deadline(self._handshake_timeout), handshaking=True)

    def _deadline(self, timeout: float) -> float:
        """``timeout`` from now, stretched by up to :data:`DEADLINE_JITTER`."""
        return time.monotonic() + timeout * (1 + self._jitter.uniform(0, DEADLINE_JITTER))

    def _advance(
        self,
        selector: selectors.BaseSelector,
        pending: dict[_Pending, None],
        deadlines: list[tuple[float, int, _Pending]],
        entry: _Pending,
        *,
        registered: bool = True,
    ) -> None:
        """The socket is ready: take the handshake one step further, or hand a started request to a worker."""
        if not entry.handshaking:
            self._forget(selector, pending, entry)
            self._dispatch(entry.sock)
            return
        assert isinstance(entry.sock, ssl.SSLSocket)
        try:
            entry.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._watch(selector, entry, selectors.EVENT_READ, registered)
            return
        except ssl.SSLWantWriteError:
            self._watch(selector, entry, selectors.EVENT_WRITE, registered)
            return
        except (ssl.SSLError, OSError) as exc:
            if registered:
                selector.unregister(entry.sock)
            self._forget(selector, pending, entry, registered=False)
            self._close(entry.sock)
            self._handshake_failed(f"{type(exc).__name__}: {exc}")
            return
        entry.handshaking = False
        entry.deadline = self._deadline(self._first_byte_timeout)
        heapq.heappush(deadlines, (entry.deadline, next(self._seq), entry))
        if entry.sock.pending():  # the request's first record came with the handshake's last flight
            if registered:
                selector.unregister(entry.sock)
            self._forget(selector, pending, entry, registered=False)
            self._dispatch(entry.sock)
            return
        self._watch(selector, entry, selectors.EVENT_READ, registered)

    @staticmethod
    def _watch(selector: selectors.BaseSelector, entry: _Pending, events: int, registered: bool) -> None:
        if not registered:
            selector.register(entry.sock, events, entry)
        elif events != entry.events:
            selector.modify(entry.sock, events, entry)
        entry.events = events

    def _expire(self, selector: selectors.BaseSelector, pending: dict[_Pending, None], entry: _Pending) -> None:
        """A deadline passed in the gate: a handshake not completed, or no request begun."""
        handshaking = entry.handshaking
        self._drop(selector, pending, entry)
        if handshaking:
            limit = self._handshake_timeout
            self._handshake_failed(f"TimeoutError: TLS handshake not completed in {limit} s (and its jitter)")
        else:
            self._stats.add("idle_closed")
            self._notify()

    def _forget(
        self, selector: selectors.BaseSelector, pending: dict[_Pending, None], entry: _Pending, registered: bool = True
    ) -> None:
        """Take ``entry`` out of the gate (its socket stays open)."""
        if registered:
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(entry.sock)
        pending.pop(entry, None)
        entry.closed = True

    def _drop(self, selector: selectors.BaseSelector, pending: dict[_Pending, None], entry: _Pending) -> None:
        """Take ``entry`` out of the gate and close its connection."""
        self._forget(selector, pending, entry)
        self._close(entry.sock)

    def _handshake_failed(self, description: str) -> None:
        with self._changed:
            self._stats.add("handshake_failures")
            self._handshake_errors.append(description)
            del self._handshake_errors[:-HANDSHAKE_ERRORS_KEPT]
            self._changed.notify_all()

    # ----------------------------------------------------------------------------- workers
    def _dispatch(self, sock: Conn) -> None:
        """A request has begun on ``sock``: serve it on a worker, or queue it until one is free."""
        sock.setblocking(True)
        peer = PeerIdentity.from_peercert(sock.getpeercert()) if isinstance(sock, ssl.SSLSocket) else None
        with self._conn_lock:
            if len(self._conn_threads) >= self._max_workers:
                if len(self._ready) < self._max_pending:
                    self._ready.append((sock, peer))
                    return
                self._stats.add("evicted")
                thread = None
            else:
                thread = threading.Thread(target=self._work, args=(sock, peer), name="fakeflare-conn", daemon=True)
                self._conn_threads.add(thread)
        if thread is None:
            self._close(sock)
            return
        thread.start()

    def _work(self, sock: Conn, peer: Optional[PeerIdentity]) -> None:
        """Serve this connection, then any queued ones, then leave."""
        while True:
            self._serve(sock, peer)
            with self._conn_lock:
                if not self._ready or self._stopping.is_set():
                    self._conn_threads.discard(threading.current_thread())
                    break
                sock, peer = self._ready.popleft()
        self._notify()

    def _serve(self, sock: Conn, peer: Optional[PeerIdentity]) -> None:
        with self._conn_lock:
            self._conn_sockets.add(sock)
        try:
            request_timeout = self._request_timeout
            binary = self._responder.accepts_binary
            response = self._responder.respond(
                lambda limit: read_request(sock, timeout=request_timeout, max_bytes=limit, accept_binary=binary), peer
            )
            if response.payload:
                send_stream(sock, response.payload, timeout=request_timeout)
            for part in response.parts:
                send_stream(sock, part, timeout=request_timeout)
            if response.hold:
                self._stopping.wait(response.hold)
        except OSError:
            self._stats.add("read_failures")
        except Exception as exc:
            self._responder.record_error("<connection>", exc)
        finally:
            with self._conn_lock:
                self._conn_sockets.discard(sock)
            self._close(sock)
            self._notify()

    @staticmethod
    def _close(sock: Conn) -> None:
        with contextlib.suppress(OSError):
            sock.close()
