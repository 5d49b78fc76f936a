"""The FLARE versions the fake can be, as data: one enum, what each version's wire needs, and row changes.

Nothing at login tells a 2.4 client from a 2.5/2.6 one (reference flare-2.4-2.6 section 3.4), so a fake
server is told its version. Commands declare ``since``/``until``/``changes`` against these values
(:class:`~fakeserver.pipeline.registry.CommandSpec`); one registry and one pipeline serve every version.
"""

from __future__ import annotations

import enum
from typing import Optional

from flare_api.wire.transfer import TransferFraming


class FlareVersion(enum.Enum):
    """A FLARE release series whose admin server the fake emulates (the socket era, 2.3 to 2.6)."""

    V2_3 = "2.3"
    V2_4 = "2.4"
    V2_5 = "2.5"
    V2_6 = "2.6"

    @classmethod
    def parse(cls, value: object) -> FlareVersion:
        """``"2.5"``, ``"2.5.2"``, ``2.5`` or a ``FlareVersion``; anything else raises ``ValueError`` naming it."""
        if isinstance(value, FlareVersion):
            return value
        text = str(value).strip()
        series = ".".join(text.split(".")[:2])
        for version in cls:
            if version.value == series:
                return version
        choices = ", ".join(v.value for v in cls)
        raise ValueError(f"unsupported FLARE version {value!r}: choose one of {choices}")

    @property
    def key(self) -> tuple[int, int]:
        major, minor = self.value.split(".")
        return int(major), int(minor)

    def __lt__(self, other: FlareVersion) -> bool:
        return self.key < other.key

    def __le__(self, other: FlareVersion) -> bool:
        return self.key <= other.key

    def __gt__(self, other: FlareVersion) -> bool:
        return self.key > other.key

    def __ge__(self, other: FlareVersion) -> bool:
        return self.key >= other.key

    @property
    def pull_framing(self) -> Optional[TransferFraming]:
        """How ``download_job_file`` replies are framed: none in 2.3 (base64 inline), chunks in 2.4, 2.5+ binary."""
        if self is FlareVersion.V2_3:
            return None
        if self is FlareVersion.V2_4:
            return TransferFraming.CHUNK_STREAM
        return TransferFraming.BINARY_EXCHANGE

    @property
    def accepts_binary_requests(self) -> bool:
        """2.5+ servers read every request through ``binary_proto.receive_all`` (first byte ``0x01`` = binary)."""
        return self >= FlareVersion.V2_5

    @property
    def newest_patch(self) -> str:
        """The release whose behaviour the fake follows for this series (the tables under tests/data)."""
        return NEWEST_PATCH[self]


#: The patch release of each series the fake's tables and texts were taken from.
NEWEST_PATCH = {
    FlareVersion.V2_3: "2.3.12",
    FlareVersion.V2_4: "2.4.2",
    FlareVersion.V2_5: "2.5.2",
    FlareVersion.V2_6: "2.6.3",
}

DEFAULT_VERSION = FlareVersion.V2_3
