"""Which ``config`` word FLARE 2.6's ``configure_site_log`` / ``configure_job_log`` accept (``dynamic_log_config``).

A log mode (``reload``, ``full``, ``concise``, ``verbose``) or a level name or number 0-50. FLARE also reads
a JSON file at that path on the server; the fake never reads server paths, so a path is an invalid level.
"""

from __future__ import annotations

import logging
from typing import Optional

from ..protocol import messages_24 as msg24


def log_config_error(config: str) -> Optional[str]:
    """None if FLARE would apply ``config``, else its ``ValueError`` text."""
    if config in msg24.LOG_MODES:
        return None
    level = int(config) if config.isdigit() else getattr(logging, config.upper(), None)
    if not isinstance(level, int) or not 0 <= level <= 50:
        return msg24.INVALID_LOG_LEVEL.format(config=config)
    return None
