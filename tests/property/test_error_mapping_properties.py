"""Exception-mapping properties: for any reply document the client does what FLARE 2.3.12's does.

The model below is transcribed from nvflare 2.3.12 (``git show 2.3.12:<path>`` of NVIDIA/NVFlare):

* ``fuel/hci/proto.py`` ``validate_proto``: what counts as a document at all (else: no result);
* ``fuel/hci/client/api.py`` ``server_execute``/``_determine_api_status``: the ``APIStatus`` of a reply, and
  ``process_server_reply``: ``result["meta"]`` is the document's meta when truthy;
* ``fuel/flare_api/flare_api.py`` ``_do_command`` (meta status first, then the APIStatus, then
  ``enforce_meta``) and each ``Session`` method's checks on the meta it gets back.

The model works on the raw JSON, not on our ``Document``, so it shares no code with ``flare_api.errors``.
FLARE raises its own classes or builtins; ours must be an instance of the class FLARE raises (our classes
derive from FLARE's where they are more precise) and always a ``FlareError``. Where FLARE itself crashes
(``TypeError`` joining dict-valued string items) the model only demands a return or a ``FlareError``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional, Union

import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from fakeserver import FakeFlareServer
from fakeserver.poc_kit import write_poc_admin_kit
from flare_api import Session
from flare_api import errors as ours
from flare_api.clock import VirtualClock
from flare_api.errors import FlareError, raise_for_reply
from flare_api.transport import parse_reply
from flare_api.wire import Document
from tests.helpers import examples
from tests.jobfolders import write_job

JSON = Any


# ----------------------------------------------------------------------------------------------- the model
PROTO_TYPES = ("string", "success", "error", "table", "command", "token", "shutdown", "dict")
TYPES_WITH_DATA = ("string", "success", "error", "dict", "command", "token", "shutdown")


def flare_validate_proto(text: str) -> Optional[dict]:
    """``validate_proto``: the decoded document, or None when FLARE would not accept it."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "data" not in doc or not isinstance(doc["data"], list):
        return None
    for item in doc["data"]:
        if not isinstance(item, dict) or "type" not in item or item["type"] not in PROTO_TYPES:
            return None
        if item["type"] in TYPES_WITH_DATA:
            if not isinstance(item.get("data"), (str, dict)):
                return None
        elif not isinstance(item.get("rows"), list) or not all(isinstance(r, list) for r in item["rows"]):
            return None
    return doc


class FlareCrash(Exception):
    """FLARE's own client would crash here (not a deliberate exception)."""


def flare_api_status(doc: dict) -> str:
    """``_determine_api_status``: first success wins; else the first matching substring of the texts."""
    if not doc.get("data"):
        return "ERROR_RUNTIME"
    texts = []
    for item in doc["data"]:
        if item["type"] == "success":
            return "SUCCESS"
        if item["type"] in ("string", "error"):
            texts.append(item["data"])
    if not all(isinstance(t, str) for t in texts):
        raise FlareCrash("'\\n'.join() of a dict item")
    joined = "\n".join(texts)
    for needle, status in (
        ("session_inactive", "ERROR_INACTIVE_SESSION"),
        ("wrong server", "ERROR_SERVER_CONNECTION"),
        ("Failed to communicate", "ERROR_SERVER_CONNECTION"),
        ("invalid client", "ERROR_INVALID_CLIENT"),
        ("unknown site", "ERROR_INVALID_CLIENT"),
        ("not authorized", "ERROR_AUTHORIZATION"),
    ):
        if needle in joined:
            return status
    return "SUCCESS"


Raised = tuple[str, Optional[str]]  # FLARE's exception class name, and its exact message where we match it


def flare_do_command(command: str, text: Optional[str], enforce_meta: bool = True) -> Union[dict, Raised]:
    """FLARE 2.3.12 ``Session._do_command`` on a reply stream's last document: the result dict, or what it raises."""
    doc = flare_validate_proto(text) if text is not None else None
    if doc is None:
        return ("ConnectionError", None)  # result None: ERROR_SERVER_CONNECTION, no meta
    meta = doc.get("meta")
    if meta:
        if not isinstance(meta, dict):
            return ("InternalError", f"meta must be dict but got {type(meta)}")
        status, info = meta.get("status"), meta.get("info", "")
        if status == "invalid_job_def":
            return ("InvalidJobDefinition", f"invalid job definition: {info}")
        if status == "not_authorized":
            return ("AuthorizationError", f"user not authorized for the action '{command}: {info}'")
        if status == "syntax_error":
            return ("InternalError", f"protocol error: {info}")
        if status == "invalid_job_id":
            return ("JobNotFound", f"no such job: {info}")
        if status == "job_running":
            return ("JobNotDone", f"job {info} is still running")
        if status != "ok":
            return ("InternalError", f"server internal error ({status}): {info}")
    api_status = flare_api_status(doc)
    if api_status == "ERROR_AUTHORIZATION":
        return ("AuthorizationError", None)
    if api_status == "ERROR_INACTIVE_SESSION":
        return ("SessionClosed", None)
    if api_status == "ERROR_SERVER_CONNECTION":
        return ("ConnectionError", None)
    if api_status != "SUCCESS":
        return ("RuntimeError", None)
    if enforce_meta and not meta:
        return ("InternalError", None)  # "missing meta from result"
    return {**doc, "meta": meta, "status": api_status}


# nvflare 2.4.2 / 2.5.2 / 2.6.3 ``fuel/flare_api/flare_api.py`` ``_do_command``: the meta checks (status
# defaults to ok; 2.5 adds ``NO_REPLY``); the APIStatus checks after them are 2.3.12's.
_META_24: dict[str, tuple[str, str]] = {
    "invalid_job_def": ("InvalidJobDefinition", "invalid job definition: {info}"),
    "not_authorized": ("AuthorizationError", "user not authorized for the action '{command}: {info}'"),
    "not_authenticated": ("AuthenticationError", "user not authenticated: {info}"),
    "syntax_error": ("InternalError", "syntax error: {info}"),
    "invalid_job_id": ("JobNotFound", "no such job: {info}"),
    "job_running": ("JobNotDone", "job {info} is still running"),
    "job_not_running": ("JobNotRunning", "job {info} is not running"),
    "clients_running": ("ClientsStillRunning", "one or more clients are still running"),
    "no_clients": ("NoClientsAvailable", "no clients available"),
    "internal_error": ("InternalError", "server internal error: {info}"),
    "invalid_target": ("InvalidTarget", "{info}"),
}


def flare24_do_command(command: str, text: str, enforce_meta: bool, version: str) -> Union[dict, Raised]:
    """``Session._do_command`` of the 2.4-2.6 series on one valid document."""
    doc = flare_validate_proto(text)
    assert doc is not None
    meta = doc.get("meta")
    if meta:
        if not isinstance(meta, dict):
            return ("InternalError", f"meta must be dict but got {type(meta)}")
        status, info = meta.get("status", "ok"), meta.get("info", "")
        if version != "2.4" and status == "no_reply":
            return ("NoReply", str(info))
        for value, (name, message) in _META_24.items():
            if status == value:
                return (name, message.format(command=command, info=info))
        if status != "ok":
            return ("InternalError", f"{status}: {info}")
    # the APIStatus half is 2.3.12's: run that model with the meta's status already passed
    passed = {**doc, "meta": {**meta, "status": "ok"}} if meta else doc
    return flare_do_command(command, json.dumps(passed), enforce_meta)


def flare_method(method: str, text: Optional[str]) -> Union[JSON, Raised]:
    """A ``Session`` method of FLARE 2.3.12 on this reply: its return value, or what it raises."""
    command = {
        "get_job_meta": "get_job_meta J",
        "clone_job": "clone_job J",
        "list_jobs": "list_jobs",
        "abort_job": "abort_job J",
        "delete_job": "delete_job J",
        "get_system_info": "check_status server",
        "get_cell_conn_info": "conns server",
    }[method]
    result = flare_do_command(command, text, enforce_meta=method != "get_cell_conn_info")
    if isinstance(result, tuple):
        return result
    meta = result["meta"]
    if method == "get_job_meta":
        return meta["job_meta"] if meta.get("job_meta") else ("InternalError", "server failed to return job meta")
    if method == "clone_job":
        job_id = meta.get("job_id")
        return job_id if job_id else ("InternalError", f"server failed to return job id: {meta.get('info', '')}")
    if method == "list_jobs":
        return meta.get("jobs", [])
    if method in ("abort_job", "delete_job"):
        return None
    if method == "get_cell_conn_info":
        return result["data"][0].get("data") if result["data"] else None
    return "system info"  # built from .get() lookups; ours is stricter (InternalError on missing keys)


#: What our exception must also be, for each class FLARE raises.
FLARE_CLASSES: dict[str, type] = {
    "InvalidJobDefinition": ours.InvalidJobDefinition,
    "AuthorizationError": ours.AuthorizationError,
    "AuthenticationError": ours.AuthenticationError,
    "InternalError": ours.InternalError,
    "JobNotFound": ours.JobNotFound,
    "JobNotDone": ours.JobNotDone,
    "SessionClosed": ours.SessionClosed,
    "ConnectionError": ConnectionError,
    "RuntimeError": RuntimeError,
    "JobNotRunning": ours.JobNotRunning,
    "ClientsStillRunning": ours.ClientsStillRunning,
    "NoClientsAvailable": ours.NoClientsAvailable,
    "InvalidTarget": ours.InvalidTarget,
    "NoReply": ours.NoReply,
}


def assert_same_raise(expected: Raised, exc: BaseException) -> None:
    name, message = expected
    assert isinstance(exc, FlareError), f"{type(exc).__name__} is not a FlareError: {exc}"
    assert isinstance(exc, FLARE_CLASSES[name]), f"FLARE raises {name}, we raised {type(exc).__name__}: {exc}"
    if message is not None:
        assert str(exc) == message


# ----------------------------------------------------------------------------------------------- documents
SIGNIFICANT = ["session_inactive", "wrong server", "Failed to communicate", "invalid client", "unknown site"]
SIGNIFICANT += ["not authorized", "Unknown command", "OK", ""]
_texts = st.one_of(st.sampled_from(SIGNIFICANT), st.text(max_size=12)).flatmap(
    lambda core: st.tuples(st.text(max_size=4), st.just(core), st.text(max_size=4)).map("".join)
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def valid_items(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(PROTO_TYPES))
    if kind == "table":
        return {"type": "table", "rows": draw(st.lists(st.lists(_scalars, max_size=3), max_size=3))}
    data = draw(
        st.one_of(_texts, st.dictionaries(st.text(max_size=6), _scalars, max_size=2))
        if kind != "string" and kind != "error"
        else _texts
    )
    return {"type": kind, "data": data}


@st.composite
def valid_items_any_data(draw: st.DrawFn) -> dict:
    """Items whose data may also be a dict where FLARE's status rule joins texts (it then crashes)."""
    item = draw(valid_items())
    if item["type"] in ("string", "error") and draw(st.booleans()):
        item["data"] = {"text": item["data"]}
    return item


META_STATUSES = ["ok", "syntax_error", "not_authorized", "error", "internal_error", "invalid_job_def"]
META_STATUSES += ["invalid_job_id", "job_running", "OK", "", "unknown"]
META_STATUSES += ["job_not_running", "clients_running", "no_clients", "invalid_target", "not_authenticated"]
META_STATUSES += ["no_reply", "no_jobs", "no_job_compoents"]


@st.composite
def metas(draw: st.DrawFn) -> dict:
    meta: dict[str, Any] = {}
    if draw(st.booleans()):
        meta["status"] = draw(st.one_of(st.sampled_from(META_STATUSES), _scalars))
    if draw(st.booleans()):
        meta["info"] = draw(st.one_of(st.sampled_from(["", "session_inactive", "x"]), _scalars))
    for key in ("job_id", "job_meta", "jobs", "server_status", "server_start_time", "clients"):
        if draw(st.integers(0, 3)) == 0:
            meta[key] = draw(
                st.one_of(
                    _json,
                    st.just({"status": "RUNNING", "job_id": "J"}),
                    st.just([{"client_name": "site-1", "client_last_conn_time": 1.0, "job_id": "J", "app_name": "a"}]),
                )
            )
    return meta


@st.composite
def valid_documents(draw: st.DrawFn, items: Optional[st.SearchStrategy[dict]] = None) -> dict:
    items = items if items is not None else valid_items()
    doc: dict[str, Any] = {"time": "2026-12-04 10:00:00.000000", "data": draw(st.lists(items, max_size=4))}
    if draw(st.integers(0, 4)):
        doc["meta"] = draw(metas())
    return doc


_invalid_documents = st.one_of(
    _json.map(json.dumps),  # anything JSON that is not a document
    st.text(max_size=20),  # not JSON at all
    valid_documents().map(lambda d: {**d, "data": [*d["data"], {"type": "bogus", "data": "x"}]}).map(json.dumps),
    valid_documents().map(lambda d: {**d, "data": [*d["data"], {"type": "string"}]}).map(json.dumps),
    valid_documents().map(lambda d: {**d, "data": [*d["data"], {"type": "table", "rows": [1]}]}).map(json.dumps),
)


def our_outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """Run ``call``; ("return", value) or ("raise", exception). Anything but a FlareError fails the test."""
    try:
        return ("return", call())
    except FlareError as exc:
        return ("raise", exc)


# ----------------------------------------------------------------------------------------------- raise_for_reply
@given(doc=valid_documents(), enforce_meta=st.booleans(), command=st.sampled_from(["list_jobs", "get_job_meta 1"]))
def test_raise_for_reply_equals_flare_do_command(doc: dict, enforce_meta: bool, command: str) -> None:
    """``raise_for_reply`` on a valid document returns or raises exactly as FLARE's ``_do_command`` does."""
    text = json.dumps(doc)
    expected = flare_do_command(command, text, enforce_meta)
    kind, value = our_outcome(
        lambda: raise_for_reply(command, parse_reply(text + "\x03", "stub"), enforce_meta=enforce_meta)
    )
    note(f"FLARE: {expected!r}; ours: {kind} {value!r}")
    if isinstance(expected, tuple):
        event(f"FLARE raises {expected[0]}")
        assert kind == "raise", f"FLARE raises {expected}, we returned"
        assert_same_raise(expected, value)
    else:
        event("FLARE returns")
        assert kind == "return", f"FLARE returns, we raised {value!r}"
        assert isinstance(value, Document) and [i.to_json() for i in value.items] == expected["data"]


@given(
    doc=valid_documents(),
    enforce_meta=st.booleans(),
    command=st.sampled_from(["list_jobs", "report_env site-1"]),
    version=st.sampled_from(["2.4", "2.5", "2.6"]),
)
def test_raise_for_reply_equals_the_socket_era_do_command(
    doc: dict, enforce_meta: bool, command: str, version: str
) -> None:
    """With the server's series given, ``raise_for_reply`` returns or raises as that series' ``_do_command``."""
    text = json.dumps(doc)
    expected = flare24_do_command(command, text, enforce_meta, version)
    reply = parse_reply(text + "\x03", "stub")
    kind, value = our_outcome(lambda: raise_for_reply(command, reply, enforce_meta=enforce_meta, flare_version=version))
    note(f"FLARE {version}: {expected!r}; ours: {kind} {value!r}")
    if isinstance(expected, tuple):
        event(f"FLARE {version} raises {expected[0]}")
        assert kind == "raise", f"FLARE raises {expected}, we returned"
        assert_same_raise(expected, value)
    else:
        event(f"FLARE {version} returns")
        assert kind == "return", f"FLARE returns, we raised {value!r}"
        assert isinstance(value, Document) and [i.to_json() for i in value.items] == expected["data"]


@given(doc=valid_documents(valid_items_any_data()), enforce_meta=st.booleans())
def test_raise_for_reply_returns_or_raises_a_flare_error_even_where_flare_crashes(
    doc: dict, enforce_meta: bool
) -> None:
    text = json.dumps(doc)
    try:
        expected: Any = flare_do_command("list_jobs", text, enforce_meta)
    except FlareCrash:
        expected = None
    kind, value = our_outcome(
        lambda: raise_for_reply("list_jobs", parse_reply(text + "\x03", "stub"), enforce_meta=enforce_meta)
    )
    if isinstance(expected, tuple):
        assert kind == "raise"
        assert_same_raise(expected, value)


@settings(max_examples=examples(25))
@given(text=st.one_of(st.none(), _invalid_documents))
def test_a_reply_without_a_valid_document_raises_what_flare_raises(text: Optional[str]) -> None:
    expected = flare_do_command("list_jobs", text)
    assert expected == ("ConnectionError", None)

    def call() -> Document:
        reply = parse_reply(text + "\x03", "stub") if text is not None else None
        return raise_for_reply("list_jobs", reply)

    kind, value = our_outcome(call)
    assert kind == "raise"
    assert_same_raise(expected, value)


# ----------------------------------------------------------------------------------------------- Session methods
class StubTransport:
    """Logs in through a POC fake server, then answers every command with the document under test."""

    def __init__(self, server: FakeFlareServer) -> None:
        self._inner = server.in_process_transport(None)
        self.host, self.port, self.timeout = self._inner.host, self._inner.port, 5.0
        self.text: Optional[str] = None

    def request(self, line: str, token: Optional[str] = None, *, timeout: Optional[float] = None) -> Optional[Document]:
        if line.startswith(("_login", "_commands")):
            return self._inner.request(line, token, timeout=timeout)
        return parse_reply(self.text + "\x03", "stub") if self.text is not None else None


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = FakeFlareServer(secure=False, clock=VirtualClock()).start()
    try:
        kit = write_poc_admin_kit(tmp_path_factory.mktemp("stub-kit") / "admin", *server.address)
        transport = StubTransport(server)
        session = Session("admin", kit, secure_mode=False, transport=transport)
        session.try_connect(5.0)
        yield session, transport
    finally:
        server.stop()


METHODS: dict[str, Callable[[Session], Any]] = {
    "get_job_meta": lambda s: s.get_job_meta("J"),
    "clone_job": lambda s: s.clone_job("J"),
    "list_jobs": lambda s: s.list_jobs(),
    "abort_job": lambda s: s.abort_job("J"),
    "delete_job": lambda s: s.delete_job("J"),
    "get_system_info": lambda s: s.get_system_info(),
    "get_cell_conn_info": lambda s: s.get_cell_conn_info("server"),
}


@given(doc=valid_documents(), method=st.sampled_from(sorted(METHODS)))
def test_session_methods_equal_flare_on_any_reply(stubbed: Any, doc: dict, method: str) -> None:
    """Each Session method returns what FLARE's returns, or raises (an instance of) what FLARE's raises."""
    session, transport = stubbed
    session._closed = False  # a shutdown item in an earlier example closed the shared session
    transport.text = json.dumps(doc)
    expected = flare_method(method, transport.text)
    kind, value = our_outcome(lambda: METHODS[method](session))
    note(f"FLARE: {expected!r}; ours: {kind} {value!r}")
    assert not session.closed or any(i["type"] == "shutdown" for i in doc["data"])
    if isinstance(expected, tuple):
        event(f"{method}: FLARE raises {expected[0]}")
        assert kind == "raise", f"FLARE raises {expected}, we returned {value!r}"
        assert_same_raise(expected, value)
        return
    event(f"{method}: FLARE returns")
    if method == "get_system_info":
        assert kind == "return" or isinstance(value, ours.InternalError)  # ours refuses missing keys
    elif method == "list_jobs" and not isinstance(expected, list):
        assert kind == "return" and value == []  # ours never hands back a non-list
    elif method == "clone_job" and not isinstance(expected, str):
        assert kind == "raise" and isinstance(value, ours.ProtocolError)  # ours refuses a non-str job id
    else:
        assert kind == "return", f"FLARE returns {expected!r}, we raised {value!r}"
        assert value == expected


# ----------------------------------------------------------------------------------------------- round trip
class Recording:
    """Wraps a transport and appends each (command line, reply wire text) to a log shared by a test's sessions."""

    def __init__(self, inner: Any, log: list[tuple[str, Optional[str]]]) -> None:
        self._inner = inner
        self.host, self.port, self.timeout = inner.host, inner.port, inner.timeout
        self.log = log

    def request(self, line: str, token: Optional[str] = None, *, timeout: Optional[float] = None) -> Optional[Document]:
        reply = self._inner.request(line, token, timeout=timeout)
        self.log.append((line, reply.to_json() if reply is not None else None))
        return reply


WIRE_LOG: list[tuple[str, Optional[str]]] = []


@pytest.fixture
def recorded(flare: FakeFlareServer) -> Callable[[str], Session]:
    """Make logged-in sessions whose requests and replies go to ``WIRE_LOG`` (cleared per test)."""
    WIRE_LOG.clear()

    def make(user: str) -> Session:
        transport = Recording(flare.in_process_transport(user), WIRE_LOG)
        session = Session(user, flare.startup_kit(user), transport=transport, clock=flare.clock)
        session.try_connect(5.0)
        return session

    return make


def _submitted(session: Session, folder: Path) -> str:
    return session.submit_job(str(write_job(folder, "job")))


def _running(flare: FakeFlareServer, session: Session, folder: Path) -> str:
    job_id = _submitted(session, folder)
    flare.jobs.advance_to(job_id, "RUNNING")
    return job_id


ADMIN, MEMBER = "admin@nvidia.com", "member@nvidia.com"
Act = Callable[[FakeFlareServer, Callable[[str], Session], Path], Any]

#: Each refusal the fake can produce for a FLARE API call, the act that provokes it, and the class FLARE raises.
REFUSALS: dict[str, tuple[str, Act]] = {
    "unknown job": ("JobNotFound", lambda f, r, p: r(ADMIN).get_job_meta("no-such-job")),
    "unknown job (delete)": ("JobNotFound", lambda f, r, p: r(ADMIN).delete_job("no-such-job")),
    "not authorized (abort another's job)": (
        "AuthorizationError",
        lambda f, r, p: (lambda job: r(MEMBER).abort_job(job))(_submitted(r(ADMIN), p)),
    ),
    "not authorized (submit)": ("AuthorizationError", lambda f, r, p: r(MEMBER).submit_job(str(write_job(p, "j")))),
    "not authorized (sys_info)": ("AuthorizationError", lambda f, r, p: r(MEMBER).do_command("sys_info server")),
    "job running": ("JobNotDone", lambda f, r, p: (lambda s: s.delete_job(_running(f, s, p)))(r(ADMIN))),
    "invalid job definition": (
        "InvalidJobDefinition",
        lambda f, r, p: r(ADMIN).submit_job(str(write_job(p, "bad", deploy_map={"app": []}))),
    ),
    "syntax error": ("InternalError", lambda f, r, p: r(ADMIN).do_command("get_job_meta")),
    "syntax error (list_jobs option)": ("InternalError", lambda f, r, p: r(ADMIN).do_command("list_jobs -m x")),
    "session expired": (
        "InternalError",
        lambda f, r, p: (lambda s: (f.clock.advance(f.sessions.idle_timeout + 1), s.list_jobs()))(r(ADMIN)),  # type: ignore[attr-defined]
    ),
    "invalid target": ("InternalError", lambda f, r, p: r(ADMIN).do_command("check_status client no-such-site")),
    "invalid target type": ("InternalError", lambda f, r, p: r(ADMIN).do_command("check_status bogus")),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_every_refusal_of_the_fake_maps_to_flares_exception(
    flare: FakeFlareServer, recorded: Callable[[str], Session], tmp_path: Path, refusal: str
) -> None:
    """Drive the fake into the refusal; our exception is what FLARE's client raises for the reply on the wire."""
    flare_class, act = REFUSALS[refusal]
    with pytest.raises(FlareError) as info:
        act(flare, recorded, tmp_path)
    line, text = WIRE_LOG[-1]
    command = line.split()[0]
    label = "submit_job" if command.endswith("submit_job") else line
    model = flare_do_command(label, text, enforce_meta=False)
    assert isinstance(model, tuple), f"FLARE would not raise for {text}"
    assert model[0] == flare_class, f"{refusal}: FLARE raises {model[0]} for {text}"
    assert_same_raise((model[0], None if command.endswith("submit_job") else model[1]), info.value)


def test_an_unknown_command_is_refused_like_flare(flare: FakeFlareServer, recorded: Callable[[str], Session]) -> None:
    """The client refuses a command the server does not list, without sending it (FLARE: ERROR_SYNTAX →
    ``InternalError``); sent anyway, the fake's reply maps to ``InternalError`` too."""
    session = recorded(ADMIN)
    sent = len(WIRE_LOG)
    with pytest.raises(ours.InternalError, match="Command bogus_command not found"):
        session.do_command("bogus_command")
    assert len(WIRE_LOG) == sent
    session.do_command("bogus_command", raise_errors=False)
    model = flare_do_command("bogus_command", WIRE_LOG[-1][1])
    assert model == ("InternalError", 'server internal error (error): Unknown command "bogus_command"')
    reply = parse_reply((WIRE_LOG[-1][1] or "") + "\x03", "log")
    with pytest.raises(ours.InternalError) as info:
        raise_for_reply("bogus_command", reply)
    assert_same_raise(model, info.value)
