"""The sample pipeline against the fake FLARE server, with the public API only: fixtures, JobScript,
faults and the call log."""

from __future__ import annotations

import dataclasses

import pytest
from mlops_pipeline import PipelineConfig, PipelineError, run_training

from fakeserver import FakeFlareServer, JobScript

PIPELINE_USER = "lead@nvidia.com"  # the user conftest.py's config submits as
#: A long training run: four hours of polls once a minute.
TRAINING_POLLS = 240


def test_a_long_job_is_monitored_to_the_end_and_its_model_published(
    flare: FakeFlareServer, config: PipelineConfig, alerts: list[str]
) -> None:
    flare.jobs.script_next(JobScript.by_polls(submitted=2, dispatched=2, running=TRAINING_POLLS))
    result = run_training(config, alerts.append)

    assert result.status == "FINISHED:COMPLETED"
    assert result.statuses == ["SUBMITTED", "DISPATCHED", "RUNNING", "FINISHED:COMPLETED"]
    assert result.published == config.registry / f"{result.job_id}.npy"
    assert result.published.stat().st_size > 0
    assert alerts == []
    flare.calls.assert_called("submit_job", times=1, user=PIPELINE_USER)
    flare.calls.assert_called("download_job", times=1, user=PIPELINE_USER)
    polls = flare.calls.of("get_job_meta", user=PIPELINE_USER)
    assert len(polls) >= TRAINING_POLLS
    if flare.intercept:  # on the virtual clock: four hours passed, in no real time
        assert polls[-1].virtual_time - polls[0].virtual_time >= TRAINING_POLLS * 60


@pytest.mark.parametrize("outcome", ["EXECUTION_EXCEPTION", "ABNORMAL", "FAILED_TO_RUN"])
def test_a_failed_job_raises_an_alert_and_publishes_nothing(
    flare: FakeFlareServer, config: PipelineConfig, alerts: list[str], outcome: str
) -> None:
    flare.jobs.script_next(JobScript.by_polls(running=5, outcome=outcome))
    result = run_training(config, alerts.append)

    assert result.status == f"FINISHED:{outcome}"
    assert result.published is None
    assert alerts == [f"ALERT: training job {result.job_id} ended FINISHED:{outcome}"]
    assert "download_job" not in flare.calls.commands()
    assert not config.registry.exists()


def test_a_job_past_its_deadline_is_aborted(
    flare: FakeFlareServer, config: PipelineConfig, alerts: list[str], minute: float
) -> None:
    flare.jobs.script_next(JobScript.hangs())
    result = run_training(dataclasses.replace(config, deadline=30 * minute), alerts.append)

    assert result.status == "FINISHED:ABORTED"
    flare.calls.assert_called("abort_job", times=1, user=PIPELINE_USER)
    assert alerts == [f"ALERT: training job {result.job_id} missed its deadline and was aborted (FINISHED:ABORTED)"]


def test_dropped_polls_are_retried(flare: FakeFlareServer, config: PipelineConfig, alerts: list[str]) -> None:
    flare.jobs.script_next(JobScript.by_polls(running=20))
    with flare.fault("drop", command="get_job_meta", times=2) as fault:
        result = run_training(config, alerts.append)

    assert fault.hits == 2
    assert result.status == "FINISHED:COMPLETED" and result.published is not None
    assert alerts == [f"warning: monitoring job {result.job_id} interrupted (ConnectionLost); retrying"] * 2
    faulted = [call for call in flare.calls.of("get_job_meta") if call.status.startswith("fault:")]
    assert len(faulted) == 2


def test_the_pipeline_gives_up_when_flare_keeps_failing(
    flare: FakeFlareServer, config: PipelineConfig, alerts: list[str]
) -> None:
    flare.jobs.script_next(JobScript.by_polls(running=20))
    with flare.fault("garbage", command="get_job_meta", forever=True), pytest.raises(PipelineError):
        run_training(dataclasses.replace(config, retries=2), alerts.append)

    assert len(alerts) == 3
    assert alerts[-1].startswith("ALERT: gave up monitoring job ") and "after 3 failures" in alerts[-1]


def test_a_member_may_not_submit(flare: FakeFlareServer, config: PipelineConfig, alerts: list[str]) -> None:
    member = dataclasses.replace(config, user="member@nvidia.com", kit=str(flare.startup_kit("member@nvidia.com")))
    with pytest.raises(PipelineError, match="not authorized"):
        run_training(member, alerts.append)

    assert alerts and alerts[0].startswith("ALERT: the pipeline failed: AuthorizationError")
    assert flare.calls.last("submit_job").user == "member@nvidia.com"
    assert flare.jobs.ids() == []


@pytest.mark.flare_tls
def test_over_real_tls_too(flare: FakeFlareServer, config: PipelineConfig, alerts: list[str]) -> None:
    """One test always over TLS: certificates, handshakes and sockets, whatever the run's transport."""
    flare.jobs.script_next(JobScript.by_polls(running=5))
    result = run_training(config, alerts.append)

    assert result.status == "FINISHED:COMPLETED" and result.published is not None
    assert {call.transport for call in flare.calls.of(user=PIPELINE_USER)} == {"tls"}
