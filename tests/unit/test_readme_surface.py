"""README's list of Session methods is checked against Session itself, so neither can drift from the other."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import flare_api
from flare_api import Session

README = Path(__file__).resolve().parents[2] / "README.md"


def _client_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Using the client")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _mentioned_names() -> set[str]:
    """Every lower-case identifier README's client section writes in backticks (``name`` or ``name(...)``)."""
    return set(re.findall(r"`([a-z_][a-z0-9_]*)[`(]", _client_section()))


def _public_methods() -> set[str]:
    return {
        name for name, member in inspect.getmembers(Session) if not name.startswith("_") and inspect.isfunction(member)
    }


def test_every_public_session_method_is_listed_in_readme() -> None:
    missing = _public_methods() - _mentioned_names()
    assert not missing, f"Session methods README's 'Using the client' does not list: {sorted(missing)}"


def test_every_name_readme_lists_exists() -> None:
    factory_options = set(inspect.signature(flare_api.new_secure_session).parameters)
    unknown = {
        name
        for name in _mentioned_names()
        if not hasattr(Session, name) and not hasattr(flare_api, name) and name not in factory_options
    }
    assert not unknown, f"README's 'Using the client' names what flare_api does not have: {sorted(unknown)}"
