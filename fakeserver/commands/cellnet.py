"""The ``cellnet`` scope (reference 6.5): 13 invisible diagnostics commands with no authorization check.

nvflare 2.3.12 ``fuel/f3/cellnet/net_manager.py`` (commands, argument checks, reply shapes) and
``net_agent.py`` / ``cell.py`` (what the cells answer). The fake's cell network is derived from the state:

* ``server``; one job cell ``server.<job_id>`` per job with a process (DISPATCHED, or RUNNING in the runner);
* one root cell per registered site; one job cell ``<site>.<job_id>`` per such job deployed to that site.

A silent site and its job cells time out (return code ``timeout``); a valid FQCN that names no cell is
``target_unreachable``; an FQCN that fails FLARE's ``FQCN.validate`` is ``invalid_target``. Ports, process
ids and timings are fixed functions of the cell names, so every reply is deterministic. Replies carry no
meta unless they hold an error item. ``bulk``, ``change_root``, ``stop_cell`` and ``stop_net`` are
disabled in FLARE (``Unknown command``) and are not registered here.

Deviation: ``stress`` sends everything in one document. FLARE flushes its ``starting stress test on ...``
string (and any error before it) as a first document and the rest as a second; its client keeps the
items of the last document only.
"""

from __future__ import annotations

import re
import uuid
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..model.state import ServerState
from ..model.workspaces import participant_pid
from ..pipeline.arguments import Param, Parsed, arg_count, word
from ..pipeline.registry import CommandSpec
from ..pipeline.reply import Reply, snapshot
from ..pipeline.request import Request
from ..protocol import messages as msg
from ..protocol import messages_24 as msg24
from ..protocol.refusals import Refusal
from ..protocol.versions import FlareVersion

SERVER_CELL = "server"
_FQCN_CHARS = re.compile(r"^[A-Za-z0-9_.-]*$")


# ------------------------------------------------------------------------------------------ the network
@dataclass(frozen=True)
class Cell:
    """One cell: its FQCN, the cell it hangs off (None for root cells) and whether it answers."""

    fqcn: str
    parent: Optional[str]
    responsive: bool

    @property
    def site(self) -> str:
        return self.fqcn.split(".", 1)[0]


def fqcn_error(fqcn: str) -> str:
    """FLARE's ``FQCN.validate``: ``""`` when valid, else why not."""
    fqcn = fqcn.strip()
    if not fqcn:
        return msg.FQCN_EMPTY
    if not _FQCN_CHARS.match(fqcn):
        return msg.FQCN_INVALID_CHAR
    seen: set[str] = set()
    for part in fqcn.split("."):
        if not part:
            return msg.FQCN_EMPTY_PART
        if part in seen:
            return msg.FQCN_DUP_PART.format(part=part)
        seen.add(part)
    return ""


class Network:
    """The cells of the fake federation right now, in the order FLARE's cells report them."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        running = state.jobs.with_process()  # a DISPATCHED job's process is starting: its cells exist
        cells = [Cell(SERVER_CELL, None, True)]
        cells += [Cell(f"{SERVER_CELL}.{r.job_id}", SERVER_CELL, True) for r in running]
        for site in state.sites.connected():
            cells.append(Cell(site.name, None, site.responsive))
            cells += [
                Cell(f"{site.name}.{r.job_id}", site.name, site.responsive) for r in running if site.name in r.sites
            ]
        self.cells = {cell.fqcn: cell for cell in cells}

    def find(self, fqcn: str) -> tuple[str, Optional[Cell]]:
        """``("", cell)`` if the cell answers, else ``(return code, None)``."""
        if fqcn_error(fqcn):
            return msg.RC_INVALID_TARGET, None
        cell = self.cells.get(fqcn)
        if cell is None:
            return msg.RC_TARGET_UNREACHABLE, None
        if not cell.responsive:
            return msg.RC_TIMEOUT, None
        return "", cell

    def subs(self, cell: Cell) -> list[Cell]:
        """Children first, then (for the server) the sites' root cells: ``_broadcast_to_subs``."""
        children = [c for c in self.cells.values() if c.parent == cell.fqcn]
        clients = [c for c in self.cells.values() if cell.fqcn == SERVER_CELL and c.parent is None and c is not cell]
        return children + clients

    def peers(self, cell: Cell) -> list[str]:
        """The cells this one has a connection (agent) to."""
        if cell.fqcn == SERVER_CELL:
            roots = [c.fqcn for c in self.cells.values() if c.parent is None and c.fqcn != SERVER_CELL]
            jobs = [c.fqcn for c in self.cells.values() if c.parent is not None and c.responsive]
            return roots + jobs
        if cell.parent is None:
            return [SERVER_CELL] + [c.fqcn for c in self.cells.values() if c.parent == cell.fqcn]
        return [cell.parent] if cell.parent == SERVER_CELL else [cell.parent, SERVER_CELL]

    def connected(self, a: str, b: str) -> bool:
        """Whether a message goes straight from ``a`` to ``b`` (otherwise it is forwarded by the server)."""
        return SERVER_CELL in (a, b) or a.startswith(b + ".") or b.startswith(a + ".")


def _port(fqcn: str) -> int:
    """A stable internal-listener port per cell."""
    return 40000 + zlib.crc32(fqcn.encode("utf-8")) % 20000


def _connector(url: str, handle: int, active: bool) -> dict[str, str]:
    kind = msg.CONN_TYPE_CONNECTOR if active else msg.CONN_TYPE_LISTENER
    return {msg.CONN_URL: url, msg.CONN_HANDLE: msg.CONN_HANDLE_FORMAT.format(number=handle), msg.CONN_TYPE: kind}


def connectors(state: ServerState, cell: Cell) -> dict[str, Any]:
    """The cell's listeners and connectors, as ``NetAgent._get_connectors`` reports them."""
    project = state.project
    int_url = msg.CONN_INT_URL.format(port=_port(cell.fqcn))
    ext_connect = msg.CONN_GRPC_CONNECT_URL.format(host=project.server_name, port=project.fl_port)
    if cell.fqcn == SERVER_CELL:
        ext = msg.CONN_GRPC_LISTEN_URL.format(port=project.fl_port)
        return {
            msg.CONN_INT_LISTENER: _connector(int_url, 2, False),
            msg.CONN_EXT_LISTENERS: [_connector(ext, 1, False)],
        }
    if cell.parent is None:
        return {msg.CONN_INT_LISTENER: _connector(int_url, 2, False), msg.CONN_BB_EXT: _connector(ext_connect, 1, True)}
    parent_url = msg.CONN_INT_URL.format(port=_port(cell.parent))
    result: dict[str, Any] = {msg.CONN_BB_INT: _connector(parent_url, 1, True)}
    if cell.parent != SERVER_CELL:
        result[msg.CONN_BB_EXT] = _connector(ext_connect, 2, True)
    return result


def _url_use(state: ServerState, cell: Cell, url: str) -> str:
    """``NetAgent._get_url_use_of_cell``."""
    conns = connectors(state, cell)
    if conns.get(msg.CONN_INT_LISTENER, {}).get(msg.CONN_URL) == url:
        return msg.URL_USE_INT_LISTEN
    if any(c[msg.CONN_URL] == url for c in conns.get(msg.CONN_EXT_LISTENERS, [])):
        return msg.URL_USE_EXT_LISTEN
    if conns.get(msg.CONN_BB_EXT, {}).get(msg.CONN_URL) == url:
        return msg.URL_USE_BB_EXT_CONNECT
    if conns.get(msg.CONN_BB_INT, {}).get(msg.CONN_URL) == url:
        return msg.URL_USE_INT_CONNECT
    return msg.URL_USE_NONE


def _rc_reply(rc: str) -> dict[str, str]:
    """The headers of a reply FLARE makes up for a request it could not deliver."""
    return {msg.HDR_RETURN_CODE: rc}


# ------------------------------------------------------------------------------------------ arguments
def _usage(request: Request) -> Refusal:
    """``Usage: <usage>`` as a plain string item: NetManager's answer to a wrong number of words."""
    return Refusal(msg.CELLNET_USAGE.format(usage=request.spec.usage), as_string=True)


def exactly(count: int) -> Param:
    return arg_count(_usage, at_least=count, at_most=count)


def at_least(count: int) -> Param:
    return arg_count(_usage, at_least=count)


def optional_int(index: int, name: str, default: int) -> Param:
    """``_to_int`` of an optional word: ``default`` when absent, FLARE's error text when not a number."""

    def parse(request: Request, parsed: Parsed) -> int:
        if len(request.args) <= index:
            return default
        text = request.args[index]
        try:
            return int(text)
        except ValueError as exc:
            raise Refusal(msg.CELLNET_NOT_A_NUMBER.format(value=text, error=f"{type(exc).__name__}: {exc}")) from None

    return Param(name, parse)


def hist_mode(index: int) -> Param:
    """The histogram mode at ``index`` (default count); FLARE reports the parsed (empty) mode, not the typed one."""

    def parse(request: Request, parsed: Parsed) -> str:
        mode = parse_hist_mode(request.args[index] if len(request.args) > index else "")
        if not mode:
            raise Refusal(msg.CELLNET_INVALID_MODE.format(mode=mode, modes=list(msg.HIST_MODES)))
        return mode

    return Param("mode", parse)


TARGET = word(1, "target")


# ------------------------------------------------------------------------------------------ cells
def _cells_info(net: Network, cell: Cell) -> tuple[str, list[str]]:
    """``request_cells_info``: this cell and, recursively, its subs; a silent sub shows as an error text."""
    result = [cell.fqcn]
    err = ""
    for sub in net.subs(cell):
        if sub.responsive:
            result += _cells_info(net, sub)[1]
        else:
            err = msg.CELLNET_NO_REPLY_FROM.format(target=sub.fqcn, rc=msg.RC_TIMEOUT)
            result.append(err)
    return err, result


def handle_cells(request: Request, reply: Reply) -> None:
    """An error for a silent site first, then every cell, then ``Total Cells: N`` (valid FQCNs only)."""
    net = Network(request.state)
    err, lines = _cells_info(net, net.cells[SERVER_CELL])
    if err:
        reply.error(err)
    for line in lines:
        reply.string(line)
    reply.string(msg.CELLNET_TOTAL_CELLS.format(count=sum(1 for line in lines if not fqcn_error(line))))


# ------------------------------------------------------------------------------------------ conns / peers
def handle_conns(request: Request, reply: Reply, target: str) -> None:
    """``conns <fqcn>``: one dict item, the connectors or ``{"error": "processing error", "reply": ...}``."""
    rc, cell = Network(request.state).find(target)
    if cell is None:
        reply.dictionary({msg.CELLNET_ERROR: msg.CELLNET_PROCESSING_ERROR, msg.CELLNET_REPLY: _rc_reply(rc)})
        return
    result = connectors(request.state, cell)
    if result:
        reply.dictionary(result)


def handle_peers(request: Request, reply: Reply, target: str) -> None:
    """``peers <fqcn>``: one string per connected peer and ``Total Agents: N``, or ``No peers``."""
    net = Network(request.state)
    rc, cell = net.find(target)
    agents = net.peers(cell) if cell is not None else []
    if cell is None:
        error = msg.CELLNET_PEERS_RC.format(rc=rc)
        reply.dictionary({msg.CELLNET_ERROR: error, msg.CELLNET_REPLY: _rc_reply(rc)})
    for agent in agents:
        reply.string(agent)
    reply.string(msg.CELLNET_TOTAL_AGENTS.format(count=len(agents)) if agents else msg.CELLNET_NO_PEERS)


# ------------------------------------------------------------------------------------------ url_use
def _url_uses(net: Network, cell: Cell, url: str) -> dict[str, str]:
    result = {cell.fqcn: _url_use(net.state, cell, url)}
    for sub in net.subs(cell):
        if sub.responsive:
            result.update(_url_uses(net, sub, url))
        else:
            result[sub.fqcn] = msg.URL_USE_ERROR.format(rc=msg.RC_TIMEOUT)
    return result


def handle_url_use(request: Request, reply: Reply, url: str) -> None:
    """``url_use <url>``: which cells listen on or connect to the URL."""
    net = Network(request.state)
    uses = {k: v for k, v in _url_uses(net, net.cells[SERVER_CELL], url).items() if v != msg.URL_USE_NONE}
    if uses:
        reply.dictionary(uses)
    else:
        reply.string(msg.CELLNET_NO_URL_USE.format(url=url))


# ------------------------------------------------------------------------------------------ route
def _hops(net: Network, source: str, target: str) -> list[str]:
    """The cells that send a message on its way: the origin, and the server when it forwards."""
    return [source] if net.connected(source, target) else [source, SERVER_CELL]


#: Loopback timings seen on a real deployment: route stamp to send, one leg, arrival of a request to its reply.
_SEND_DELAY = 0.0001
_LEG_SECONDS = 0.002
_REPLY_DELAY = 0.0001


def _travel(hops: list[str], destination: str, start: float) -> tuple[list[list[Any]], float, float]:
    """``cn__route`` of a message that leaves at ``start``: each sender, then the destination (each with the
    time it stamped), the time of the last send, and the arrival."""
    route: list[list[Any]] = []
    when = sent = start
    for hop in hops:
        route.append([hop, when])
        sent = when + _SEND_DELAY
        when = sent + _LEG_SECONDS
    route.append([destination, when])
    return route, sent, when


def _message_headers(
    net: Network, rid: str, source: str, target: str, msg_type: str, start: float
) -> tuple[dict[str, Any], float]:
    """The headers ``target`` sees of a message ``source`` sent at ``start``, and when it arrived."""
    hops = _hops(net, source, target)
    route, sent, arrived = _travel(hops, target, start)
    headers = {
        msg.HDR_REQ_ID: rid,
        msg.HDR_CHANNEL: msg.NET_CHANNEL,
        msg.HDR_TOPIC: msg.NET_TOPIC_ROUTE,
        msg.HDR_ORIGIN: source,
        msg.HDR_FROM: hops[-1],
        msg.HDR_MSG_TYPE: msg_type,
        msg.HDR_ROUTE: route,
        msg.HDR_DESTINATION: target,
        msg.HDR_TO: target,
        msg.HDR_SEND_TIME: sent,
    }
    return headers, arrived


def route_headers(net: Network, source: str, target: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the target saw of the route request, and what ``source`` saw of the target's reply."""
    now = net.state.clock.time()
    rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"route:{source}:{target}:{now}"))
    sent, arrived = _message_headers(net, rid, source, target, msg.MSG_TYPE_REQ, now)
    request = {
        **sent,
        msg.HDR_REPLY_EXPECTED: True,
        msg.HDR_WAIT_UNTIL: now + 1.0,
        msg.HDR_OPTIONAL: False,
    }
    answer, _ = _message_headers(net, rid, target, source, msg.MSG_TYPE_REPLY, arrived + _REPLY_DELAY)
    # The reply copies the request's ``cn__optional`` (``Cell._process_received_msg``).
    reply = {**answer, msg.HDR_OPTIONAL: False, msg.HDR_RETURN_CODE: msg.RC_OK}
    return request, reply


def handle_route(request: Request, reply: Reply, target: str, source: str) -> None:
    """``route <to_cell> [from_cell]``: the headers of a message from ``from_cell`` (default ``server``)."""
    net = Network(request.state)
    reply.string(msg.CELLNET_ROUTE_INFO.format(source=source, target=target))
    rc, start = net.find(source)
    if start is None:
        _route_error(reply, rc, _rc_reply(rc))
        return
    bad = fqcn_error(target)
    if bad:
        headers = {**route_headers(net, SERVER_CELL, source)[1], msg.HDR_RETURN_CODE: msg.RC_PROCESS_EXCEPTION}
        _route_error(
            reply, msg.RC_PROCESS_EXCEPTION, {**headers, msg.HDR_ERROR: msg.CELLNET_BAD_TARGET.format(error=bad)}
        )
        return
    rc, end = net.find(target)
    if end is None:
        seen, back = {msg.CELLNET_ERROR: msg.CELLNET_ROUTE_REPLY_RC.format(rc=rc)}, _rc_reply(rc)
    else:
        seen, back = route_headers(net, source, target)
    reply.string(msg.CELLNET_REQUEST_HEADERS)
    reply.dictionary(seen)
    reply.string(msg.CELLNET_REPLY_HEADERS)
    reply.dictionary(back)


def _route_error(reply: Reply, rc: str, headers: dict[str, Any]) -> None:
    reply.error(msg.CELLNET_ERROR_IN_REPLY.format(rc=rc))
    reply.string(msg.CELLNET_REPLY_HEADERS)
    reply.dictionary(headers)


# ------------------------------------------------------------------------------------------ speed / stress
#: ``NetAgent.speed_test`` waits this long for the source cell's report (``send_request(timeout=100.0)``).
SPEED_TIMEOUT = 100.0
#: Simulated time of one stress round (one 1 KB echo on loopback) and of one speed round's fixed part.
STRESS_ROUND_SECONDS = 0.002
#: ``Cell.broadcast_request`` with a timeout of 0 waits the cell's ``max_timeout``: one hour.
CELL_MAX_TIMEOUT = 3600.0


def speed_result(net: Network, source: str, target: str, num: int, size: int) -> dict[str, Any]:
    """``NetAgent.speed_test``: deterministic timings (1 ms plus 1 µs per KB per round trip); a test that
    would outlast FLARE's 100 s wait for the report is a ``timeout``, as in FLARE. O(1) in ``num``."""
    for label, fqcn in ((msg.SPEED_FROM, source), (msg.SPEED_TO, target)):
        error = fqcn_error(fqcn)
        if error:
            return {msg.CELLNET_ERROR: msg.CELLNET_INVALID_FQCN.format(label=label, fqcn=fqcn, error=error)}
    rc, _ = net.find(source)
    if rc:
        return {msg.SPEED_TEST_TIME: 0.0, msg.CELLNET_ERROR: msg.CELLNET_SPEED_RC.format(rc=rc)}
    num = num if num > 0 else msg.SPEED_DEFAULT_TRIES
    size = size if size > 0 else msg.SPEED_DEFAULT_SIZE
    per_round = 0.001 + size * 1e-6
    total = round(per_round * num, 6)
    if total + 0.01 > SPEED_TIMEOUT:
        return {msg.SPEED_TEST_TIME: SPEED_TIMEOUT, msg.CELLNET_ERROR: msg.CELLNET_SPEED_RC.format(rc=msg.RC_TIMEOUT)}
    rc, _ = net.find(target)
    counts = dict.fromkeys(msg.SPEED_COUNTERS, 0)
    if rc == msg.RC_TIMEOUT:
        counts[msg.SPEED_TIMEOUTS] = num
    elif rc:
        counts[msg.SPEED_OTHER_ERRORS] = num
    result: dict[str, Any] = {msg.SPEED_TEST_TIME: round(total + 0.01, 6)}
    result[msg.SPEED_TEST] = msg.SPEED_TEST_TEXT.format(size=size, num=num, source=source, target=target)
    result[msg.SPEED_PREP] = round(size * 1e-7, 9)
    result.update(counts)
    result.update({msg.SPEED_TOTAL: total, msg.SPEED_AVERAGE: round(per_round, 6)})
    return result


def handle_speed(request: Request, reply: Reply, source: str, target: str, num: int, size: int) -> None:
    """``speed <from> <to> [num_tries] [payload_size]``: one dict item."""
    reply.dictionary(speed_result(Network(request.state), source, target, num, size))


def _stress_one(net: Network, cell: Cell, targets: list[str], rounds: int, wait: float) -> Any:
    """What one cell reports after echoing ``rounds`` messages round-robin to the other targets, or
    ``RC=timeout`` when that takes longer than the broadcast waits. Counted, not looped: O(targets)."""
    others = [t for t in targets if t != cell.fqcn]
    if not others:
        return {msg.CELLNET_ERROR: msg.STRESS_NO_TARGETS_TO_TRY}
    rounds = max(rounds, 0)  # FLARE's ``range(num_rounds)`` of a negative count runs no round
    if rounds * STRESS_ROUND_SECONDS > wait:
        return msg.STRESS_RC.format(rc=msg.RC_TIMEOUT)
    whole, extra = divmod(rounds, len(others))
    counts = {t: whole + (i < extra) for i, t in enumerate(others) if whole + (i < extra)}
    errors = {t: n for t, n in counts.items() if net.find(t)[0]}
    return {msg.STRESS_COUNTS: counts, msg.STRESS_ERRORS: errors, msg.STRESS_TIME: rounds * STRESS_ROUND_SECONDS}


def stress_result(net: Network, targets: list[str], rounds: int, timeout: int) -> dict[str, Any]:
    """``NetAgent.start_stress_test`` on every target but the server; the broadcast waits ``timeout``
    seconds (0: an hour; negative: not at all) on the fake's simulated time, however large ``rounds`` is."""
    wait = CELL_MAX_TIMEOUT if timeout == 0 else float(timeout)
    result: dict[str, Any] = {}
    for target in [t for t in targets if t != SERVER_CELL]:
        rc, cell = net.find(target)
        if cell is None:
            result[target] = msg.STRESS_RC.format(rc=rc)
        elif wait < 0:
            result[target] = msg.STRESS_RC.format(rc=msg.RC_TIMEOUT)
        else:
            result[target] = _stress_one(net, cell, list(targets), rounds, wait)
    return result or {msg.CELLNET_ERROR: msg.STRESS_NO_TARGETS}


def handle_stress(request: Request, reply: Reply, rounds: int, timeout: int) -> None:
    """``stress [num_tries] [timeout]``: the plan, each cell's counts (and errors), the error total.

    Any logged-in user may run it, as in FLARE (NetManager's commands have no ``authz_func``); the work
    is bounded by the cell count, not by ``num_tries``."""
    net = Network(request.state)
    err, targets = _cells_info(net, net.cells[SERVER_CELL])
    if err:
        reply.error(err)
    reply.string(msg.CELLNET_STRESS_START.format(targets=targets))
    result = stress_result(net, targets, rounds, timeout)
    total = 0
    for value in result.values():
        if isinstance(value, dict) and msg.STRESS_ERRORS in value:
            cell_errors = sum(value[msg.STRESS_ERRORS].values())
            total += cell_errors
            if cell_errors == 0:
                value.pop(msg.STRESS_ERRORS)
    reply.dictionary(result)
    reply.string(msg.CELLNET_TOTAL_ERRORS.format(count=total))


# ------------------------------------------------------------------------------------------ stats pools
def parse_hist_mode(mode: str) -> str:
    """``stats_utils.parse_hist_mode``: ``""`` for an invalid mode."""
    if not mode:
        return msg.HIST_COUNT
    for prefix, full in (("p", msg.HIST_PERCENT), ("c", msg.HIST_COUNT), ("a", msg.HIST_AVERAGE)):
        if mode.startswith(prefix):
            return full
    return mode if mode in msg.HIST_MODES else ""


def _bin_content(mode: str, value: float, count: int, total: int) -> str:
    """``_Bin.get_content`` for a bin holding ``count`` samples of ``value``."""
    if mode == msg.HIST_COUNT:
        return str(count)
    if mode == msg.HIST_PERCENT:
        return str(round(count / total, 2))
    return f"{value:.3e}"


def pool_table(pool: str, mode: str) -> dict[str, Any]:
    """The ``{"headers", "rows"}`` a cell answers for one of its stats pools (``get_table(mode)``)."""
    if pool in msg.HIST_POOL_SAMPLES:
        category, column, seconds, count = msg.HIST_POOL_SAMPLES[pool]
        rows = [[category, _bin_content(mode, seconds, count, count)]]
        return {msg.TABLE_HEADERS: [msg.POOL_CATEGORY, column], msg.TABLE_ROWS: rows}
    if pool in msg.COUNTER_POOL_SAMPLES:
        category, counter, count = msg.COUNTER_POOL_SAMPLES[pool]
        return {msg.TABLE_HEADERS: [msg.POOL_CATEGORY, counter], msg.TABLE_ROWS: [[category, str(count)]]}
    return {msg.TABLE_HEADERS: [msg.POOL_CATEGORY], msg.TABLE_ROWS: []}


def _table_dict(reply: Reply, table: dict[str, Any]) -> None:
    """``NetManager._show_table_dict``."""
    rows = reply.table(table[msg.TABLE_HEADERS])
    for row in table[msg.TABLE_ROWS]:
        rows.add_row(row)


def handle_msg_stats(request: Request, reply: Reply, target: str, mode: str) -> None:
    """``msg_stats <target> [mode]``: the target's request/response time histogram."""
    rc, _ = Network(request.state).find(target)
    if rc:
        raise Refusal(msg.CELLNET_MSG_STATS_RC.format(rc=rc))
    _table_dict(reply, pool_table(msg.POOL_REQUEST_RESPONSE, mode))


def handle_list_pools(request: Request, reply: Reply, target: str) -> None:
    """``list_pools <target>``: the stats pools of the target's process."""
    _with_target(request, target, lambda cell: _table_dict(reply, _pool_list(request.version)))


def pools(version: FlareVersion) -> dict[str, tuple[str, str]]:
    """The stats pools a process of ``version`` has: 2.4+ add the streaming pools."""
    return {**msg.POOLS, **msg24.STREAM_POOLS} if version >= FlareVersion.V2_4 else msg.POOLS


def config_vars(version: FlareVersion) -> dict[str, object]:
    """What ``show_config_vars`` lists for a server process of ``version`` (the captures')."""
    if version < FlareVersion.V2_4:
        return dict(msg.PROCESS_CONFIG_VARS)
    found = dict(msg24.CONFIG_VARS_24)
    if version >= FlareVersion.V2_5:
        found.update(msg24.CONFIG_VARS_25)
    if version >= FlareVersion.V2_6:
        found.update(msg24.CONFIG_VARS_26)
    return found


def _pool_list(version: FlareVersion) -> dict[str, Any]:
    rows = [[name, kind, description] for name, (kind, description) in sorted(pools(version).items())]
    return {msg.TABLE_HEADERS: list(msg.POOL_LIST_HEADER), msg.TABLE_ROWS: rows}


def handle_show_pool(request: Request, reply: Reply, target: str, pool_name: str, mode: str) -> None:
    """``show_pool <target> <pool_name> [mode]``: one pool's table."""
    rc, _ = Network(request.state).find(target)
    if rc:
        raise Refusal(msg.CELLNET_AGENT_RC.format(rc=rc, error=""))
    pool = pool_name.lower()
    if pool not in pools(request.version):
        error = msg.CELLNET_UNKNOWN_POOL.format(name=pool_name)
        raise Refusal(msg.CELLNET_AGENT_RC.format(rc=msg.RC_INVALID_REQUEST, error=error))
    _table_dict(reply, pool_table(pool, mode))


def handle_show_comm_config(request: Request, reply: Reply, target: str) -> None:
    """``show_comm_config <target>``: the connector manager's settings (no comm_config.json)."""
    _with_target(request, target, lambda cell: reply.dictionary(comm_config(request.version)))


def comm_config(version: FlareVersion) -> dict[str, object]:
    """The connector manager's settings; 2.6 names the internal connections' security (``clear``)."""
    config: dict[str, object] = snapshot(msg.COMM_CONFIG)
    internal = config["internal_resources"]
    if version >= FlareVersion.V2_6 and isinstance(internal, dict):
        internal.update(msg24.INTERNAL_CONNECTION_SECURITY)
    return config


def handle_show_config_vars(request: Request, reply: Reply, target: str) -> None:
    """``show_config_vars <target>``: the config variables the cell's process has looked up."""
    _with_target(request, target, lambda cell: reply.dictionary(config_vars(request.version)))


def handle_process_info(request: Request, reply: Reply, target: str) -> None:
    """``process_info <target>``: pid, memory, threads of the cell's process."""
    _with_target(request, target, lambda cell: _table_dict(reply, process_table(cell)))


def process_table(cell: Cell) -> dict[str, Any]:
    pid = participant_pid(cell.site)  # the ``pid.fl`` of the participant's workspace
    rows = [
        [msg.PROCESS_ID, str(pid)],
        [msg.PROCESS_MEMORY, str(msg.PROCESS_MAXRSS)],
        [msg.PROCESS_THREADS, str(len(msg.PROCESS_THREAD_NAMES))],
    ]
    rows += [
        [msg.PROCESS_THREAD.format(ident=140000000000000 + i), name] for i, name in enumerate(msg.PROCESS_THREAD_NAMES)
    ]
    return {msg.TABLE_HEADERS: list(msg.PROCESS_HEADER), msg.TABLE_ROWS: rows}


def _with_target(request: Request, target: str, answer: Callable[[Cell], object]) -> None:
    """The target cell's answer or FLARE's ``<rc>: <error>`` text."""
    rc, cell = Network(request.state).find(target)
    if cell is None:
        raise Refusal(msg.CELLNET_AGENT_RC.format(rc=rc, error=""))
    answer(cell)


def specs() -> list[CommandSpec]:
    """No authorization in cellnet: NetManager checks the words itself, after the audit (``args``)."""
    target = (at_least(2), TARGET)
    table: list[tuple[str, str, str, Callable[..., None], tuple[Param, ...]]] = [
        ("cells", "get system cells info", "cells", handle_cells, ()),
        (
            "route",
            "send message to a cell and show route",
            "route to_cell [from_cell]",
            handle_route,
            (at_least(2), TARGET, word(2, "source", SERVER_CELL)),
        ),
        ("peers", "show connected peers of a cell", "peers target_cell", handle_peers, (exactly(2), TARGET)),
        ("conns", "show connectors of a cell", "conns target_cell", handle_conns, (exactly(2), TARGET)),
        ("url_use", "show use of a url", "url_use url", handle_url_use, (exactly(2), word(1, "url"))),
        (
            "speed",
            "test communication speed between cells",
            "speed from_fqcn to_fqcn [num_tries] [payload_size]",
            handle_speed,
            (
                at_least(3),
                word(1, "source"),
                word(2, "target"),
                optional_int(3, "num", msg.SPEED_DEFAULT_TRIES),
                optional_int(4, "size", msg.SPEED_DEFAULT_SIZE),
            ),
        ),
        (
            "stress",
            "stress test communication among cells",
            "stress [num_tries] [timeout]",
            handle_stress,
            (
                optional_int(1, "rounds", msg.STRESS_DEFAULT_ROUNDS),
                optional_int(2, "timeout", msg.STRESS_DEFAULT_TIMEOUT),
            ),
        ),
        ("msg_stats", "show request stats", "msg_stats target [mode]", handle_msg_stats, (*target, hist_mode(2))),
        ("list_pools", "list stats pools", "list_pools target", handle_list_pools, target),
        (
            "show_pool",
            "show stats pool detail",
            "show_pool target pool_name [mode]",
            handle_show_pool,
            (at_least(3), TARGET, word(2, "pool_name"), hist_mode(3)),
        ),
        ("show_comm_config", "show communication config", "show_comm_config target", handle_show_comm_config, target),
        (
            "show_config_vars",
            "show all defined config var values",
            "show_config_vars target",
            handle_show_config_vars,
            target,
        ),
        ("process_info", "show process information", "process_info target", handle_process_info, target),
    ]
    return [
        CommandSpec("cellnet", name, description, usage, handler, args=params, visible=False)
        for name, description, usage, handler, params in table
    ]  # fmt: skip
