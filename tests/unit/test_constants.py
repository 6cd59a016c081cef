import pytest

from jobs.runtime.constants import events_channel, tenant_of_channel


def test_channel_round_trip() -> None:
    assert events_channel(42) == "sg:42:events"
    assert tenant_of_channel(events_channel(42)) == 42


@pytest.mark.parametrize("channel", ["sg:abc:events", "sg:1:other", "x:1:events", "sg:1:events:extra", ""])
def test_foreign_channels_name_no_tenant(channel: str) -> None:
    assert tenant_of_channel(channel) is None
