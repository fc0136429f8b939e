"""Per-page counters."""

from __future__ import annotations

from dumpproc.records import Revision
from dumpproc.stats import PageCounters, timestamp_us


def _rev(rev_id, stamp, size):
    return Revision.from_string(
        f"<revision><id>{rev_id}</id><timestamp>{stamp}</timestamp>"
        f"<contributor><username>A</username><id>1</id></contributor><text>{'x' * size}</text></revision>")


def test_timestamp_us():
    assert timestamp_us("1970-01-01T00:00:01Z") == 1_000_000
    assert timestamp_us("2001-01-15T13:15:00Z") == 979564500 * 1_000_000
    assert timestamp_us("2001-01-15T13:15:00") == 979564500 * 1_000_000


def test_page_counters():
    counters = PageCounters()
    first = counters.add(_rev(1, "2020-01-01T00:00:00Z", 10))
    second = counters.add(_rev(2, "2020-01-01T00:01:30Z", 4))
    third = counters.add(_rev(3, "2020-01-02T00:01:30Z", 4))
    assert first.page_revision_count == 1 and first.text_bytes_diff is None and first.seconds_since_previous is None
    assert (second.page_revision_count, second.text_bytes_diff, second.seconds_since_previous) == (2, -6, 90)
    assert (third.page_revision_count, third.text_bytes_diff, third.seconds_since_previous) == (3, 0, 86400)
