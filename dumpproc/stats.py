"""Per-page counters computed while a page's revisions stream past.

``PageCounters`` follows one page in dump order and gives each revision its
position in the page, the bytes changed and the seconds since the page's
previous revision. It keeps a few integers per page, never texts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import NamedTuple

from .records import Revision


def timestamp_us(timestamp: str) -> int:
    """Microseconds since the epoch of a dump timestamp such as ``2005-07-07T15:31:37Z``."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:  # dumps are in UTC even where the Z is missing
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


class RevisionCounters(NamedTuple):
    """The counters of one revision within its page."""

    timestamp_us: int
    page_revision_count: int
    text_bytes_diff: int | None
    seconds_since_previous: int | None


class PageCounters:
    """Follows one page's revisions in dump order."""

    __slots__ = ("count", "previous_bytes", "previous_us")

    def __init__(self) -> None:
        self.count = 0
        self.previous_bytes: int | None = None
        self.previous_us: int | None = None

    def add(self, revision: Revision) -> RevisionCounters:
        """The counters of the page's next revision."""
        self.count += 1
        moment = timestamp_us(revision.timestamp)
        size = revision.text_bytes or 0
        bytes_diff = None if self.previous_bytes is None else size - self.previous_bytes
        since = None if self.previous_us is None else (moment - self.previous_us) // 1_000_000
        self.previous_bytes = size
        self.previous_us = moment
        return RevisionCounters(moment, self.count, bytes_diff, since)
