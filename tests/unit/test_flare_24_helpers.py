"""The small pieces behind the FLARE 2.4-2.6 commands: app command registrations and log config words."""

from __future__ import annotations

import pytest

from fakeserver.commands.log_config import log_config_error
from fakeserver.model.app_commands import MAX_TOPICS, AppCommands


@pytest.mark.parametrize("config", ["concise", "full", "verbose", "reload", "DEBUG", "info", "Warning", "0", "50"])
def test_log_configs_flare_applies(config: str) -> None:
    assert log_config_error(config) is None


@pytest.mark.parametrize("config", ["loud", "51", "-1", "BASIC_FORMAT", "/etc/log.json", "lastResort"])
def test_log_configs_flare_refuses_name_the_word(config: str) -> None:
    assert log_config_error(config) == f"Invalid logging level: {config}"


def test_app_commands_register_replace_unregister_clear() -> None:
    commands = AppCommands()
    first, second = (lambda job_id, data: {"n": 1}), (lambda job_id, data: {"n": 2})
    commands.register("t", first)
    commands.register("t", second)
    assert commands.get("t") is second
    commands.unregister("t")
    commands.unregister("t")  # absent: no error
    assert commands.get("t") is None
    commands.register("u", first)
    commands.clear()
    assert commands.get("u") is None


@pytest.mark.parametrize("topic", ["", "two words", "tab\tbed", 3])
def test_a_topic_is_one_word(topic: object) -> None:
    with pytest.raises(ValueError, match="one word"):
        AppCommands().register(topic, lambda job_id, data: {})  # type: ignore[arg-type]


def test_functions_must_be_callable_and_topics_are_bounded() -> None:
    commands = AppCommands()
    with pytest.raises(TypeError, match="callable"):
        commands.register("t", {"not": "callable"})  # type: ignore[arg-type]
    for index in range(MAX_TOPICS):
        commands.register(f"t{index}", lambda job_id, data: {})
    commands.register("t0", lambda job_id, data: {})  # replacing is always fine
    with pytest.raises(ValueError, match=f"at most {MAX_TOPICS}"):
        commands.register("one-more", lambda job_id, data: {})
