"""Every string the fake server puts on the wire, as named constants (FLARE 2.3.12 wording, exactly).

Templates use ``str.format`` fields; tests assert against these names, and the contract tests prove the
real client reads them the way it reads the real server's.
"""

from __future__ import annotations

# --- protocol and dispatch (reference sections 2.5, 4) ------------------------------------------
PROTOCOL_VIOLATION = "protocol violation"
UNKNOWN_COMMAND = 'Unknown command "{name}"'
AMBIGUOUS_COMMAND = 'Command "{name}" exists in multiple scopes. Please use full command name'
EXCEPTION_OCCURRED = "Exception Occurred: {type}: {message}"
# Ours, not FLARE's (FLARE has no size limit): a request over the server's byte limit.
REQUEST_TOO_LARGE = "request too large: more than {limit} bytes before end of transmission"

# --- login filter and sessions (sections 4, 5) ---------------------------------------------------
NO_TOKEN = "not authenticated - no token"
SESSION_INACTIVE = "session_inactive"
SESSION_TIMED_OUT_FILTER = (
    "user not authenticated or session timed out after {timeout} seconds of inactivity - logged out"
)
SESSION_TIMED_OUT_CHECK = "admin client session timed out after {timeout} seconds of inactivity - logging out"
LOGIN_OK = "OK"
LOGIN_REJECT = "REJECT"
LOGOUT_OK = "OK"
CHECK_SESSION_OK = "OK"

# --- _commands (section 5.3) ----------------------------------------------------------------------
COMMANDS_HEADER = ["SCOPE", "COMMAND", "DESCRIPTION", "USAGE", "CONFIRM", "CLIENTCMD", "VISIBLE"]
COMMAND_DETAIL = "Command: {scope}.{name}"
COMMAND_DESCRIPTION = "Description: {description}"
COMMAND_USAGE = "Usage: {usage}\n"
UNDEFINED_COMMAND = "undefined command {name}\n"

# --- authorization (sections 4, 10) ---------------------------------------------------------------
NOT_AUTHORIZED_INFO = "user '{user}' is not authorized for '{right}'"
NOT_AUTHORIZED = "Authorization Error: " + NOT_AUTHORIZED_INFO
NOT_PROJECT_ADMIN = "Not authorized as project_admin."

# --- targets (section 6.0) ------------------------------------------------------------------------
MISSING_TARGET_TYPE = "missing target type (server or client)"
UNKNOWN_TARGET_TYPE = "unknown target type {target}"
INVALID_CLIENTS = "invalid client(s): {names}"
NO_CLIENTS_AVAILABLE = "no clients available"

# --- check_status (section 6.2) -------------------------------------------------------------------
ENGINE_STATUS = "Engine status: {status}"
ENGINE_STARTED = "started"
ENGINE_STOPPED = "stopped"
REGISTERED_CLIENTS = "Registered clients: {count} "
JOBS_TABLE_HEADER = ["JOB_ID", "APP NAME"]
CLIENTS_TABLE_HEADER = ["CLIENT", "TOKEN", "LAST CONNECT TIME"]
CHECK_STATUS_INVALID_TARGET = "invalid target type {target}. Usage: check_status server|client ..."
CLIENT_STATUS_HEADER = ["CLIENT", "APP_NAME", "JOB_ID", "STATUS"]
CLIENT_NO_JOBS = "No Jobs"
CLIENT_NO_REPLY = "No Reply"
NO_RESPONSES_FROM_CLIENTS = "no responses from clients"

# --- job commands (section 6.1) -------------------------------------------------------------------
MISSING_JOB_ID = "syntax error: missing job_id"
JOB_DOES_NOT_EXIST = "Job with ID {job_id} doesn't exist"
ABORT_TASK_MISSING_JOB_ID = "missing job_id (syntax is: abort_task job_id <client-name>)"
NO_JOBS_FOUND = "No jobs found."
NO_JOBS_MATCHING = "No jobs matching the specified criteria."
LIST_JOBS_HEADER = ["JOB ID", "NAME", "STATUS", "SUBMIT TIME", "RUN DURATION"]
SUBMITTED_JOB = "Submitted job: {job_id}"
CLONED_JOB = "Cloned job {source} as: {job_id}"
ABORTED_BEFORE_RUNNING = "Aborted the job {job_id} before running it."
ALREADY_COMPLETED = "Job for {job_id} is already completed."
ABORT_SIGNAL_SENT = "Abort signal has been sent to the server app."
JOB_NOT_RUNNING = "Job {job_id} is not running."
JOB_IS_RUNNING = "job: {job_id} is running, could not be deleted at this time."
JOB_DELETED = "Job {job_id} deleted."
#: FLARE's provisioned job store lives here; a download of an unknown (e.g. upper-case) id names it.
JOB_STORE_ROOT = "/tmp/nvflare/jobs-storage"
DOWNLOAD_STORE_ERROR = (
    "Exception occurred trying to get job from store: StorageException: object "
    + JOB_STORE_ROOT
    + "/{job_id} does not exist"
)
DOWNLOAD_URL_MARKER = "Download_URL:"
# --- FLARE 2.4-2.6 file transfers (reference flare-2.4-2.6 sections 2, 6; nvflare/fuel/hci/server/hci.py,
# binary_transfer.py, private/fed/server/job_cmds.py) -------------------------------------------------------
#: An empty binary exchange (2.5+): error item, meta ``internal_error`` with info :data:`NO_DATA_INFO`.
NO_DATA_RECEIVED = "no data received from client"
NO_DATA_INFO = "no data received"
#: ``download_job`` / ``download_job_components`` reply string; the meta carries files, tx_id, cmd_name.
PULL_OK = "OK"
NO_DATA_TO_DOWNLOAD = "No data to download"
DOWNLOAD_INTERNAL_ERROR = "internal error"
#: The pull command the client sends per file (``download_job_file <tx_id> <job_id> <file> [end]``).
DOWNLOAD_JOB_FILE = "download_job_file"
#: A 2.5+ text ``submit_job`` (no binary body): the validator gets no zip file name.
NO_JOB_DATA = "job_data must be bytes or str but got <class 'NoneType'>"
CLIENT_RESPONSE_HEADER = ["CLIENT", "RESPONSE"]
ABORT_TASK_SENT = "Abort signal has been sent to the current task."
CLIENT_APP_NOT_STARTED = "Client app has not started."

# --- shell commands pwd ls cat head tail grep (section 6.4) ------------------------------------------------
# nvflare/private/fed/server/shell_cmd.py unless noted; validation errors are error items (meta status error).
SHELL_MISSING_TARGET = "syntax error: missing target"
SHELL_NO_EXTRA_ARGS = "this command does not accept extra args"
SHELL_ONLY_ONE_FILE = "only one file is allowed"
SHELL_UNSUPPORTED_FILE = "unsupported file {file}"
SHELL_ABSOLUTE_PATH = "absolute path is not allowed"
SHELL_DOTDOT_IN_PATH = ".. in path name is not allowed"
SHELL_TEXT_FILE_ONLY = (
    "this command cannot be applied to file {file}. Only files with the following extensions are permitted: "
    ".txt, .log, .json, .csv, .sh, .config, .py"
)
# nvflare/fuel/hci/cmd_arg_utils.py ArgValidator.validate: any exception inside argparse.
SHELL_ARGUMENT_ERROR = 'argument error; try "? cmdName to show supported usage for a command"'
SHELL_INVALID_CLIENT = "invalid client: {name}"
SHELL_NO_REPLY = "no reply from client - timed out"
# A site's admin agent answers a processor exception with this body; the server sends it as a string item.
SHELL_SITE_EXCEPTION = "exception_occurred: {type}: {message}"
# The _commands DESCRIPTION and the head of the USAGE column (argparse's help follows, except for pwd).
SHELL_TARGET_LINE = 'where target is "server" or client name\n'
SHELL_DESCRIPTIONS = {
    "pwd": "print the name of work directory",
    "ls": "list files in work dir",
    "cat": "show content of a file",
    "head": "print the first 10 lines of a file",
    "tail": "print the last 10 lines of a file",
    "grep": "search for PATTERN in a file.",
}
SHELL_USAGE_HEADS = {
    "pwd": "pwd target\n" + SHELL_TARGET_LINE,
    "ls": "ls target [options] [files]\n " + SHELL_TARGET_LINE,
    "cat": "cat target [options] fileName\n " + SHELL_TARGET_LINE,
    "head": "head target [options] fileName\n " + SHELL_TARGET_LINE,
    "tail": "tail target [options] fileName\n " + SHELL_TARGET_LINE,
    "grep": "grep target [options] PATTERN fileName\n " + SHELL_TARGET_LINE,
}

# --- info scope: show_stats, show_errors, reset_errors (section 6.3; nvflare 2.3.12 info_coll_cmd.py) ---
INFO_MISSING_ARGS = "syntax error: missing job_id and target"
#: Unreachable in the fake: every fake server has its info collector widget.
INFO_COLLECTOR_NOT_AVAILABLE = "info collector not available"
INFO_JOB_NOT_RUNNING = "Job_id: {job_id} is not running."
INFO_CANNOT_FIND_JOB = (
    "Cannot find job: {job_id}. Please make sure the first arg following the command is a valid job_id."
)
INFO_CLIENT_HEADER = "--- Client ---: {name}"
#: What the server appends for a site whose answer is not JSON: a silent site or a site's denial.
INFO_BAD_CLIENT_RESPONSE = "Bad responses from clients"
INFO_SERVER_NO_ERROR = "No Error"
INFO_SERVER_ERRORS_RESET = "reset the server error stats for job: {job_id}"
#: A site's reset_errors body is the dict {"status": "OK"}.
INFO_SITE_RESET_STATUS = "OK"
#: The stats groups of the example app (ScatterAndGather workflow) on the server and on a site.
INFO_WORKFLOW_GROUP = "ScatterAndGather"
INFO_WORKFLOW_ID = "scatter_and_gather"
INFO_SERVER_RUNNER_GROUP = "ServerRunner"
INFO_CLIENT_RUNNER_GROUP = "ClientRunner"
INFO_TRAIN_TASK = "train"
INFO_RUNNER_STARTED = "started"

# --- system commands: set_timeout, show_scopes, shutdown, restart, remove_client (section 6.2) -----------
# nvflare 2.3.12 private/fed/server/training_cmds.py + cmd_utils.py; site bodies: private/fed/client/
# training_cmds.py and client_engine.py.
SET_TIMEOUT_DONE = "admin command timeout has been set to: {timeout}"
SCOPES_HEADER = ["SITE", "SCOPES", "DEFAULT"]
SCOPES_NO_REPLY = "no reply"
#: FLARE joins scope names with this; a site's error body gets joined too, one character at a time.
SCOPES_SEPARATOR = ", "
SHUTDOWN_JOBS_RUNNING = "There are still jobs running. Please let them finish or abort_job before shutdown."
SHUTDOWN_CLIENTS_ACTIVE = "There are still active clients. Shutdown all clients first."
SHUTDOWN_CLIENTS_FIRST = "Trying to shutdown clients before server..."
#: Unreachable: targets are validated before the handler runs.
SHUTDOWN_NO_CLIENTS = "no clients to shutdown"
#: Unreachable in 2.3.12: nothing sets ServerStatus.STARTING.
SHUTDOWN_SERVER_STARTING = "Server app is starting, please wait for started before shutdown."
SHUTDOWN_SERVER_DONE = "FL app has been shutdown."
SHUTDOWN_BYE = "Bye bye"
SITE_SHUTDOWN_REPLY = "Shutdown the client..."
RESTART_JOBS_RUNNING = "There are still jobs running. Please let them finish or abort_job before restart."
RESTART_CLIENTS_FIRST = "Trying to restart all clients before restarting server..."
RESTART_CLIENT_LINE = "client:{name} : {reply}\n"
RESTART_NO_REPLIES = "No replies"
#: Unreachable in 2.3.12: nothing sets ServerStatus.STARTING.
RESTART_SERVER_STARTING = "Server is starting, please wait for started before restart."
RESTART_SERVER_SCHEDULED = "Server scheduled for restart"
SITE_RESTART_REPLY = "Restart the client..."

# --- sys scope: sys_info, report_resources, dead (sections 6.4, 12; private/fed/server/sys_cmd.py) -------
SYS_INFO_HEADER = ["METRICS", "VALUE"]
SYS_INFO_CLIENT = "Client: {name}"
SYS_INFO_NO_REPLIES = ": No replies"
SYS_INFO_AVAILABLE_PERCENT = "available_percent"
#: Also what report_resources answers for a target that is neither server nor client (it names sys_info).
SYS_INVALID_TARGET = "invalid target type {target}. Usage: sys_info server|client <client-name>"
#: Unreachable: the target is validated first.
SYS_MISSING_SITE_NAMES = "syntax error: missing site names"
#: psutil.virtual_memory()._asdict() on Linux, fixed values: the server's machine (16 GiB) ...
SYS_INFO_SERVER_MEMORY: dict[str, object] = {
    "total": 17179869184,
    "available": 12884901888,
    "percent": 25.0,
    "used": 3758096384,
    "free": 8589934592,
    "active": 5368709120,
    "inactive": 2147483648,
    "buffers": 536870912,
    "cached": 4294967296,
    "shared": 268435456,
    "slab": 402653184,
}
#: ... and every site's (8 GiB).
SYS_INFO_SITE_MEMORY: dict[str, object] = {
    "total": 8589934592,
    "available": 4294967296,
    "percent": 50.0,
    "used": 3221225472,
    "free": 3221225472,
    "active": 3758096384,
    "inactive": 1073741824,
    "buffers": 268435456,
    "cached": 1879048192,
    "shared": 134217728,
    "slab": 201326592,
}
RESOURCES_HEADER = ["SITES", "RESOURCES"]
RESOURCES_SERVER = "unlimited"
RESOURCES_NO_REPLIES = "No replies"
#: A provisioned site's GPUResourceManager (no GPUs) reports this dict; the server shows str() of it.
RESOURCES_SITE_REPORT: dict[str, object] = {"resources": [], "reserved_resources": {}}
SYS_DEAD_USAGE = "Usage: {command} client_name job_id"
SYS_DEAD_DONE = "called notify_dead_job for client client_name={client!r} job_id={job_id!r}"

# --- cellnet scope (section 6.5; fuel/f3/cellnet/net_manager.py, net_agent.py, cell.py) ----------------
CELLNET_USAGE = "Usage: {usage}"
CELLNET_TOTAL_CELLS = "Total Cells: {count}"
CELLNET_NO_REPLY_FROM = "no reply from {target}: {rc}"
CELLNET_TOTAL_AGENTS = "Total Agents: {count}"
CELLNET_NO_PEERS = "No peers"
CELLNET_PEERS_RC = "return code: {rc}"
CELLNET_ERROR = "error"
CELLNET_REPLY = "reply"
CELLNET_PROCESSING_ERROR = "processing error"
CELLNET_NO_URL_USE = "No cell uses {url}"
CELLNET_ROUTE_INFO = "Route Info from {source} to {target}"
CELLNET_REQUEST_HEADERS = "Request Headers:"
CELLNET_REPLY_HEADERS = "Reply Headers:"
CELLNET_ERROR_IN_REPLY = "error in reply {rc}"
CELLNET_ROUTE_REPLY_RC = "Reply ReturnCode: {rc}"
CELLNET_BAD_TARGET = "bad target fqcn {error}"
CELLNET_NOT_A_NUMBER = "'{value}' is not a valid number: {error}"
CELLNET_INVALID_FQCN = "invalid {label} {fqcn}: {error}"
CELLNET_SPEED_RC = "return code {rc}"
CELLNET_STRESS_START = "starting stress test on {targets}"
CELLNET_TOTAL_ERRORS = "total errors: {count}"
#: FLARE prints the mode after parsing it, so an invalid mode always shows as ''.
CELLNET_INVALID_MODE = "invalid mode '{mode}': must be one of {modes}"
CELLNET_MSG_STATS_RC = "error: {rc}"
CELLNET_AGENT_RC = "{rc}: {error}"
CELLNET_UNKNOWN_POOL = "unknown pool '{name}'"
#: FQCN.validate
FQCN_EMPTY = "empty"
FQCN_INVALID_CHAR = "invalid char"
FQCN_EMPTY_PART = "empty part"
FQCN_DUP_PART = "dup '{part}'"
#: cellnet ReturnCode values and message header keys (CELLNET_PREFIX "cn__").
RC_OK = "ok"
RC_TIMEOUT = "timeout"
RC_INVALID_TARGET = "invalid_target"
RC_TARGET_UNREACHABLE = "target_unreachable"
RC_INVALID_REQUEST = "invalid_request"
RC_PROCESS_EXCEPTION = "process_exception"
HDR_REQ_ID = "cn__req_id"
HDR_REPLY_EXPECTED = "cn__reply_expected"
HDR_WAIT_UNTIL = "cn__wait_until"
HDR_OPTIONAL = "cn__optional"
HDR_CHANNEL = "cn__channel"
HDR_TOPIC = "cn__topic"
HDR_ORIGIN = "cn__origin"
HDR_FROM = "cn__from"
HDR_MSG_TYPE = "cn__msg_type"
HDR_ROUTE = "cn__route"
HDR_DESTINATION = "cn__destination"
HDR_TO = "cn__to"
HDR_RETURN_CODE = "cn__return_code"
HDR_ERROR = "cn__error"
MSG_TYPE_REQ = "req"
MSG_TYPE_REPLY = "reply"
NET_CHANNEL = "_net_manager"
NET_TOPIC_ROUTE = "route"
#: NetAgent._get_connectors
CONN_INT_LISTENER = "int_listener"
CONN_EXT_LISTENERS = "ext_listeners"
CONN_BB_EXT = "bb_ext_connector"
CONN_BB_INT = "bb_int_connector"
CONN_URL = "url"
CONN_HANDLE = "handle"
CONN_TYPE = "type"
CONN_HANDLE_FORMAT = "CH{number:05d}"
CONN_TYPE_LISTENER = "listener"
CONN_TYPE_CONNECTOR = "connector"
CONN_INT_URL = "tcp://localhost:{port}"
CONN_GRPC_LISTEN_URL = "grpc://0:{port}"
CONN_GRPC_CONNECT_URL = "grpc://{host}:{port}"
URL_USE_INT_LISTEN = "int_listen"
URL_USE_EXT_LISTEN = "ext_listen"
URL_USE_BB_EXT_CONNECT = "bb_ext_connect"
URL_USE_INT_CONNECT = "int_connect"
URL_USE_NONE = "none"
URL_USE_ERROR = "error {rc}"
#: speed
SPEED_FROM = "from_fqcn"
SPEED_TO = "to_fqcn"
SPEED_DEFAULT_TRIES = 100
SPEED_DEFAULT_SIZE = 1000
SPEED_TEST_TIME = "test_time"
SPEED_TEST = "test"
SPEED_TEST_TEXT = "{size:,}KB {num} rounds between {source} and {target}"
SPEED_PREP = "prep"
SPEED_TIMEOUTS = "timeouts"
SPEED_OTHER_ERRORS = "other_errors"
SPEED_COUNTERS = (SPEED_TIMEOUTS, "comm_errors", "size_errors", "proc_errors", SPEED_OTHER_ERRORS)
SPEED_TOTAL = "total"
SPEED_AVERAGE = "average"
#: stress
STRESS_DEFAULT_ROUNDS = 10
STRESS_DEFAULT_TIMEOUT = 5
STRESS_COUNTS = "counts"
STRESS_ERRORS = "errors"
STRESS_TIME = "time"
STRESS_RC = "RC={rc}"
STRESS_NO_TARGETS = "no targets for stress test"
STRESS_NO_TARGETS_TO_TRY = "no targets to try"
#: stats pools (fuel/utils/stats_utils.py, fuel/f3/stats_pool.py): modes, the pools of a cell's process
HIST_COUNT = "count"
HIST_PERCENT = "percent"
HIST_AVERAGE = "avg"
HIST_MODES = (HIST_COUNT, HIST_PERCENT, HIST_AVERAGE, "max", "min")
TABLE_HEADERS = "headers"
TABLE_ROWS = "rows"
POOL_LIST_HEADER = ("pool", "type", "description")
POOL_CATEGORY = "category"
POOL_REQUEST_RESPONSE = "request_response"
POOLS: dict[str, tuple[str, str]] = {
    "request_response": ("hist", "Request/response time in secs (sender)"),
    "request_processing": ("hist", "Time spent (secs) by request processing callbacks (receiver)"),
    "msg_travel": ("hist", "Time taken (secs) to get here (receiver)"),
    "sent_msg_sizes": ("hist", "Sizes of messages sent (MBs)"),
    "received_msg_sizes": ("hist", "Sizes of messages received (MBs)"),
    "sent_msg_counters": ("counter", "Result counters of sent messages"),
    "received_msg_counters": ("counter", "Result counters of received messages"),
    "sfm_send_frame": ("hist", "SFM send_frame time in secs"),
}
#: One recorded sample per pool: (category, histogram range, seconds, count) / (category, counter, count).
HIST_POOL_SAMPLES: dict[str, tuple[str, str, float, int]] = {
    "request_response": ("reply:_net_manager:cells", "0.001-0.002", 0.0015, 1),
    "request_processing": ("req:_net_manager:cells", "0.0001-0.0005", 0.0003, 1),
}
COUNTER_POOL_SAMPLES: dict[str, tuple[str, str, int]] = {
    "sent_msg_counters": ("req:_net_manager:cells", "sent", 1),
    "received_msg_counters": ("reply:_net_manager:cells", "received", 1),
}
#: show_comm_config without a comm_config.json
COMM_CONFIG: dict[str, object] = {
    "allow_adhoc": False,
    "adhoc_scheme": "tcp",
    "adhoc_resources": {},
    "internal_scheme": "tcp",
    "internal_resources": {"host": "localhost"},
    "config": "none",
}
#: show_config_vars: the variables a process has looked up, with their default values
CONFIG_VARS: dict[str, object] = {
    "max_message_size": 2144337904,
    "backbone_conn_gen": 2,
    "internal_conn_scheme": "tcp",
    "allow_adhoc_conns": False,
    "adhoc_conn_scheme": "tcp",
    "use_aio_grpc": True,
    "subnet_heartbeat_interval": 5.0,
}
#: process_info
PROCESS_HEADER = ("Resource", "Value")
PROCESS_ID = "Process ID"
PROCESS_MEMORY = "Memory Usage"
PROCESS_THREADS = "Thread Count"
PROCESS_THREAD = "Thread:{ident}"
PROCESS_MAXRSS = 262144
PROCESS_THREAD_NAMES = ("MainThread", "admin_server", "conn_mgr_0", "frame_mgr_0", "job_runner", "heartbeat")

# --- start_app (section 6.1) ------------------------------------------------------------------------
START_APP_MISSING_TARGET = "Please provide the target name (client / all) for start_app command."
START_APP_SERVER_ONLY_CLIENT = "start_app command only supports client app start."
START_APP_NOT_RUNNING = "Job: {job_id} is not running."
START_APP_NOT_IN_JOB = "{names} are not in the job running list."
START_APP_ALREADY_STARTED = "Client app already started."

# --- workspaces, audit and cellnet details measured on a real 2.3.12 deployment -----------------------
#: Every message header gets the time of its last send (``Cell._send_to_endpoint``).
HDR_SEND_TIME = "cn__send_time"
#: show_config_vars: what a 2.3.12 process has looked up (``simulate_unstable_network`` is read by the aio
#: gRPC driver for each connection; ``subnet_heartbeat_interval`` only by a subnet heartbeat nobody starts).
PROCESS_CONFIG_VARS: dict[str, object] = {
    "max_message_size": 2144337904,
    "backbone_conn_gen": 2,
    "internal_conn_scheme": "tcp",
    "allow_adhoc_conns": False,
    "adhoc_conn_scheme": "tcp",
    "use_aio_grpc": True,
    "simulate_unstable_network": False,
}
