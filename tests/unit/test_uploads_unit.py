"""Upload validation details found by mutation testing: messages that list sets are stably ordered."""

from __future__ import annotations

import pytest

from fakeserver.model.uploads import JobDefinitionError, validate_job_meta

ENTRIES = {"j/app/config/", "j/app/config/config_fed_server.json", "j/app/config/config_fed_client.json"}


def test_missing_mandatory_clients_are_listed_sorted_by_type_then_value() -> None:
    meta = {"deploy_map": {"app": ["server", "site-1"]}, "mandatory_clients": ["zeta", 7, "alpha", "site-1"]}
    with pytest.raises(JobDefinitionError) as info:
        validate_job_meta("j", meta, ENTRIES)
    assert str(info.value) == "Mandatory clients {7, 'alpha', 'zeta'} are not in the deploy_map for job j"
