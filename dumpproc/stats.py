"""Per-page statistics computed while a page's revisions stream past: counters and identity reverts.

``PageCounters`` gives each revision its position in the page, the bytes
changed and the seconds since the page's previous revision, in dump order;
where a page's dump is not in time order, ``seconds_since_previous_in_time``
gives the seconds as mediawiki_history has them (since the revision saved just
before) once the page has ended.

``RevertDetector`` finds identity reverts as ``SPEC.md`` (and mwreverts'
``Detector``) define them: within one page, in dump order, a revision R is a
revert when, among the ``radius + 1`` revisions just before it (all of them
when the radius is 0, unlimited), the latest one with R's sha1 is not R's
immediate predecessor; the revisions between that one and R are reverted by R.
A revision without a sha1 matches nothing but still counts toward the radius.
Its memory is bounded by the radius, or with an unlimited radius by the
page's distinct sha1 values, kept as 20-byte digests (a sha1 not in base 36 as
given), never texts. The sha1 compared is the revision's over all its slots.

``RevertMarks`` records, for each revision of a page, the first revert that
reverted it; marking skips revisions already marked, so a page costs time
linear in its revisions however the reverts overlap.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from .records import Revision, is_base36_sha1


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def timestamp_us(timestamp: str) -> int:
    """Microseconds since the epoch of a timestamp in the form the parser gives (``2005-07-07T15:31:37Z``,
    ``…37.250000Z``; ``parse.values.timestamp``), exactly, before 1970 too."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:  # UTC, as MediaWiki's are, where the Z is missing
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MICROSECOND  # integer arithmetic: a float loses microseconds far from 1970


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
        size = revision.text_bytes  # None: not known, and then neither is a difference with it
        bytes_diff = None if self.previous_bytes is None or size is None else size - self.previous_bytes
        since = None if self.previous_us is None else (moment - self.previous_us) // 1_000_000
        self.previous_bytes = size
        self.previous_us = moment
        return RevisionCounters(moment, self.count, bytes_diff, since)


def sha1_key(sha1: str | None, base36: bool | None = None) -> bytes | str | None:
    """What identity reverts compare: a base-36 sha1's digest, else (hexadecimal in some old exports)
    the sha1 as given, so that it still matches itself, and never a digest, whose type differs.
    ``base36``: whether ``is_base36_sha1(sha1)``, when the caller knows."""
    if not sha1:
        return None
    if is_base36_sha1(sha1) if base36 is None else base36:
        return int(sha1, 36).to_bytes(20, "big")
    return sha1


class RevertDetector:
    """Identity reverts of one page; ``radius`` 0 means unlimited."""

    __slots__ = ("radius", "count", "_window", "_positions", "_latest")

    def __init__(self, radius: int = 0):
        if radius < 0:
            raise ValueError("--revert-radius must be 0 (unlimited) or positive")
        self.radius = radius
        self.count = 0
        self._window: deque = deque()  # (sha1_key or None) of the last radius + 1 revisions
        self._positions: dict[bytes | str, deque] = {}  # key -> its positions inside the window
        self._latest: dict[bytes | str, int] = {}  # unlimited radius: key -> latest position

    def add(self, sha1: str | None) -> tuple[int, int] | None:
        """The next revision's sha1; returns (first, last) positions it reverts, or None."""
        return self.add_key(sha1_key(sha1))

    def add_key(self, digest: bytes | str | None) -> tuple[int, int] | None:
        """``add``, given the sha1's ``sha1_key``."""
        position = self.count
        self.count += 1
        reverted = None
        if self.radius == 0:
            if digest is not None:
                match = self._latest.get(digest)
                if match is not None and match < position - 1:
                    reverted = (match + 1, position - 1)
                self._latest[digest] = position
            return reverted
        if digest is not None:
            seen = self._positions.get(digest)
            if seen:
                match = seen[-1]
                if match < position - 1:
                    reverted = (match + 1, position - 1)
        self._window.append(digest)
        if digest is not None:
            self._positions.setdefault(digest, deque()).append(position)
        if len(self._window) > self.radius + 1:
            old = self._window.popleft()
            if old is not None:
                seen = self._positions[old]
                seen.popleft()
                if not seen:
                    del self._positions[old]
        return reverted


class RevertMarks:
    """Which revisions of a page were reverted, and by which revert first."""

    __slots__ = ("reverter", "_next")

    def __init__(self) -> None:
        self.reverter: list[int] = []  # position of the first revert that reverted it, or -1
        self._next: list[int] = []  # union-find: the next position not yet marked

    def add(self) -> None:
        self._next.append(len(self.reverter))
        self.reverter.append(-1)

    def _find(self, position: int) -> int:
        nxt = self._next
        root = position
        while root < len(nxt) and nxt[root] != root:
            root = nxt[root]
        while position < len(nxt) and nxt[position] != root:  # compress the path
            nxt[position], position = root, nxt[position]
        return root

    def mark(self, first: int, last: int, by: int) -> None:
        """Positions first..last (inclusive) are reverted by the revert at ``by``, unless already."""
        position = self._find(first)
        while position <= last:
            self.reverter[position] = by
            self._next[position] = position + 1
            position = self._find(position + 1)


def seconds_since_previous_in_time(ids: list[int], times: list[int]) -> list[int | None] | None:
    """``page_seconds_since_previous_revision`` of a page whose dump is not in time order, else None.

    As mediawiki_history has it (refinery sorts a page's revisions by timestamp, then revision id,
    before it counts): the seconds since the revision saved just before this one, whatever their
    order in the dump, so never negative; null for the page's earliest. Where the dump's order is
    that order already (nearly always), ``PageCounters`` gave those values as the revisions came,
    and None says so. ``times`` are microseconds (``timestamp_us``), ``ids`` the revision ids.
    """
    if all(a < b for a, b in zip(zip(times, ids), zip(times[1:], ids[1:]))):
        return None
    order = sorted(range(len(ids)), key=lambda i: (times[i], ids[i]))
    since: list[int | None] = [None] * len(ids)
    for before, after in zip(order, order[1:]):
        since[after] = (times[after] - times[before]) // 1_000_000
    return since
