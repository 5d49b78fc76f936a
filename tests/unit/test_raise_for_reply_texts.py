"""The text of each exception ``raise_for_reply`` makes from a reply's items, FLARE's ``APIStatus`` order
(mutation testing, docs/testing.md)."""

from __future__ import annotations

import pytest

from flare_api.errors import ConnectionLost, EmptyReply, InvalidClient, raise_for_reply
from flare_api.wire import Document, Item


def test_each_client_side_status_names_the_command_and_the_details() -> None:
    with pytest.raises(InvalidClient) as invalid:
        raise_for_reply("check_status client x", Document([Item.error("invalid client x")]), enforce_meta=False)
    assert str(invalid.value) == "invalid target in 'check_status client x': invalid client x"
    with pytest.raises(EmptyReply) as empty:
        raise_for_reply("list_jobs", Document([]), enforce_meta=False)
    assert str(empty.value) == "server sent an empty reply to 'list_jobs'"
    with pytest.raises(ConnectionLost) as lost:
        raise_for_reply("list_jobs", Document([Item.string("wrong server")]), enforce_meta=False)
    assert str(lost.value) == "cannot connect to server: ERROR_SERVER_CONNECTION: wrong server"
