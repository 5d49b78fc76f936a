"""Texts, statuses and keys the FLARE 2.4-2.6 servers send where 2.3.12's differ, or that 2.3 lacks.

Taken from the real 2.4.2 / 2.5.2 / 2.6.3 server modules and checked against the real deployments'
captures (scripts/real_flare_socket/captures); :mod:`.messages` keeps 2.3.12's.
"""

from __future__ import annotations

# ---- meta statuses added in 2.4 (2.6's no_job_compoents is FLARE's spelling)
INVALID_TARGET = "invalid_target"
JOB_NOT_RUNNING = "job_not_running"
CLIENTS_RUNNING = "clients_running"
NO_CLIENTS = "no_clients"
NO_JOBS = "no_jobs"
NO_REPLY = "no_reply"
NO_JOB_COMPONENTS = "no_job_compoents"

# ---- meta keys added in 2.4+
CLIENT_STATUS = "client_status"
FQCN = "fqcn"
JOB_COMPONENTS = "job_components"
#: The ``data_storage_format`` 2.5+ servers write into the meta of a submitted or cloned job.
DATA_STORAGE_FORMAT_VALUE = 2

# ---- job ids (2.4+ check the id is a UUID4 before looking it up)
INVALID_JOB_ID = "invalid job_id {job_id}"

# ---- shell commands on an unknown target
SHELL_INVALID_TARGET = "invalid target: {name}"

# ---- check_status
#: 2.6 lists clients with their cell names (FQCN/FQSN) and whether the cell is a leaf.
CLIENTS_TABLE_HEADER_26 = ["CLIENT", "FQCN", "FQSN", "LEAF", "TOKEN", "LAST CONNECT TIME"]

# ---- show_stats / show_errors / reset_errors
INFO_USAGE = "Usage: {usage}"

# ---- shutdown / restart
SHUTDOWN_SERVER_DONE_26 = "Flare Server has been shutdown."
SHUTDOWN_GOODBYE = "Goodbye!"
SHUTDOWN_CLIENTS_FAILED = "failed to shut down all clients"
RESTART_NO_CLIENTS_INFO = "no clients"

# ---- admin_check_status and dead
NOT_PROJECT_ADMIN = "Not authorized for {role}"

# ---- report_env
ENV_HEADER = ["Sites", "Env"]
ENV_WORKSPACE = "{workspace}/startup/.."
ENV_ROOT_URL = "grpc://{host}:{fl_port}"

# ---- app_command (2.5+)
APP_COMMAND_USAGE = "Usage: {usage}"
APP_COMMAND_NO_FUNC = "rc='BAD_REQUEST_DATA' reason='no app command func for topic {topic}'"
APP_COMMAND_ERROR = "command execution error: {detail}"
APP_COMMAND_NO_RESULT = "command execution error: no result"
APP_COMMAND_NO_RESULT_INFO = "no result"

# ---- list_job (2.6)
NO_COMPONENTS = "No additional job components found."

# ---- configure_job_log / configure_site_log (2.6)
LOG_MODES = ("reload", "full", "concise", "verbose")
INVALID_LOG_LEVEL = "Invalid logging level: {config}"
CONFIGURE_JOB_LOG_SYNTAX = "syntax error: please provide job_id, target_type, and config"
CONFIGURE_SITE_LOG_SYNTAX = "syntax error: please provide target_type and config"
JOB_MUST_BE_RUNNING = "Job {job_id} must be running but is {status}"
JOB_LOG_CONFIGURED = "successfully configured server job {job_id} log"
SITE_LOG_CONFIGURED = "successfully configured server site log"
SITE_LOG_REPLY = "successfully configured {site} log"
JOB_LOG_SITE_REPLY = "successfully configured {site} job {job_id} log"
INVALID_REPLY = "invalid_reply"
ENV_TABLE = "clients"
INTERNAL_ERROR = "internal_error"

# ---- cellnet (list_pools, show_pool, show_config_vars): what 2.4+ processes have, per the captures
#: 2.4+ add the streaming pools to 2.3's.
STREAM_POOLS: dict[str, tuple[str, str]] = {
    "sent_stream_counters": ("counter", "Counters of sent streams"),
    "received_stream_counters": ("counter", "Counters of received streams"),
    "sent_stream_sizes": ("hist", "Sizes of streams sent (MBs)"),
    "received_stream_sizes": ("hist", "Sizes of streams received (MBs)"),
}
#: show_config_vars of a 2.4 server process (the gRPC driver is no longer the aio one).
CONFIG_VARS_24: dict[str, object] = {
    "max_message_size": 2144337904,
    "backbone_conn_gen": 2,
    "internal_conn_scheme": "tcp",
    "allow_adhoc_conns": False,
    "adhoc_conn_scheme": "tcp",
    "use_aio_grpc": False,
    "heartbeat_interval": 60,
    "streaming_chunk_size": 1048576,
    "streaming_window_size": 16777216,
    "streaming_ack_interval": 4194304,
}
#: 2.5 adds these lookups, 2.6 these too.
CONFIG_VARS_25: dict[str, object] = {
    "max_reg_duration": 60.0,
    "streaming_max_out_seq_chunks": 16,
    "streaming_read_timeout": 300,
}
CONFIG_VARS_26: dict[str, object] = {"max_concurrent_streaming_sessions": 20, "streaming_ack_wait": 300}
#: show_comm_config: 2.6 adds this to ``internal_resources``.
INTERNAL_CONNECTION_SECURITY: dict[str, object] = {"connection_security": "clear"}
SHELL_CLIENT_TIMEOUT = "client timeout"
#: start_app (2.4, 2.5) of a job without a run process (2.3.12: ``Job: <id> is not running.``).
START_APP_NOT_RUNNING = "Job {job_id} is not running."
