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
MUST_BE_PROJECT_ADMIN = "Not authorized as project_admin."

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
CLIENT_RESPONSE_HEADER = ["CLIENT", "RESPONSE"]
ABORT_TASK_SENT = "Abort signal has been sent to the current task."
CLIENT_APP_NOT_STARTED = "Client app has not started."
