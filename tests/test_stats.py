"""Per-page counters and identity reverts, checked against mwreverts and a naive reading of the spec."""

from __future__ import annotations

import random

import mwreverts
import pytest
from hypothesis import given, settings, strategies as st

from dumpproc.parse.revision import revision_from_string
from dumpproc.stats import (PageCounters, RevertDetector, RevertMarks, seconds_since_previous_in_time, sha1_key,
                            timestamp_us)

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _rev(rev_id, stamp, size):
    return revision_from_string(
        f"<revision><id>{rev_id}</id><timestamp>{stamp}</timestamp>"
        f"<contributor><username>A</username><id>1</id></contributor><text>{'x' * size}</text></revision>")


def test_timestamp_us():
    assert timestamp_us("1970-01-01T00:00:01Z") == 1_000_000
    assert timestamp_us("2001-01-15T13:15:00Z") == 979564500 * 1_000_000
    assert timestamp_us("2001-01-15T13:15:00") == 979564500 * 1_000_000


def test_timestamp_us_is_exact_far_from_1970():
    """Fractions of a second (which the parser keeps) before 1970 and near year 9999: no float rounding."""
    assert timestamp_us("1969-12-31T23:59:59.500000Z") == -500_000
    assert timestamp_us("9999-12-31T23:59:59.999999Z") == 253402300799_999_999
    assert timestamp_us("0001-01-01T00:00:00Z") == -62135596800_000_000


def test_page_counters():
    counters = PageCounters()
    first = counters.add(_rev(1, "2020-01-01T00:00:00Z", 10))
    second = counters.add(_rev(2, "2020-01-01T00:01:30Z", 4))
    third = counters.add(_rev(3, "2020-01-02T00:01:30Z", 4))
    assert first.page_revision_count == 1 and first.text_bytes_diff is None and first.seconds_since_previous is None
    assert (second.page_revision_count, second.text_bytes_diff, second.seconds_since_previous) == (2, -6, 90)
    assert (third.page_revision_count, third.text_bytes_diff, third.seconds_since_previous) == (3, 0, 86400)



def _since_naive(ids, times):
    """mediawiki_history's rule read plainly: seconds since the latest (timestamp, id) before this one."""
    out = []
    for i in range(len(ids)):
        before = [(times[j], ids[j]) for j in range(len(ids)) if (times[j], ids[j]) < (times[i], ids[i])]
        out.append((times[i] - max(before)[0]) // 1_000_000 if before else None)
    return out


def test_seconds_since_previous_when_the_dump_goes_back_in_time():
    """An imported or merged history: revision 3 was saved before 1 and 2. As mediawiki_history
    sorts a page by time (then id) first, the seconds are to the revision saved just before."""
    s = 1_000_000
    ids, times = [1, 2, 3, 4], [100 * s, 250 * s, 40 * s, 260 * s]
    assert seconds_since_previous_in_time(ids, times) == [60, 150, None, 10]
    # the same second: the lower id first, as refinery's sorting id
    assert seconds_since_previous_in_time([7, 5], [10 * s, 10 * s]) == [0, None]
    assert seconds_since_previous_in_time([5, 7], [10 * s, 10 * s]) is None  # in order: the streamed values stand
    assert seconds_since_previous_in_time([1, 2, 3], [0, 1_500_000, 3 * s]) is None
    assert seconds_since_previous_in_time([9], [0]) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 3_000_000)), min_size=1, max_size=12,
                unique_by=lambda x: x[0]))
def test_seconds_since_previous_is_mediawiki_historys_whatever_the_order(revisions):
    ids, times = [r[0] for r in revisions], [r[1] for r in revisions]
    since = seconds_since_previous_in_time(ids, times)
    if since is None:  # in time order: what PageCounters streamed is the rule's value
        counters = PageCounters()
        stamp = "1970-01-01T00:00:{:02d}.{:06d}Z"
        since = [counters.add(_rev(i, stamp.format(t // 1_000_000, t % 1_000_000), 1)).seconds_since_previous
                 for i, t in zip(ids, times)]
    assert since == _since_naive(ids, times)
    assert all(value is None or value >= 0 for value in since)


def test_sha1_key():
    assert sha1_key("phoiac9h4m842xq45sp7s6u21eteeq1") == bytes.fromhex("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    assert sha1_key(None) is None and sha1_key("") is None
    # not base 36 (hexadecimal in old exports, or anything else): kept as given, never taken for a digest
    hexadecimal = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert sha1_key(hexadecimal) == hexadecimal and sha1_key("not base 36!") == "not base 36!"
    assert sha1_key("0" * 30 + "1") == sha1_key("1") == bytes(19) + b"\x01"  # base 36: its value, padded or not


def test_page_counters_unknown_sizes_give_no_difference():
    """A revision of unknown size (bytes="-1", a stub without bytes) has no difference, and neither
    has the next one: it is not counted from 0 (SPEC: null when either is unknown)."""
    counters = PageCounters()
    sizes = [10, None, 7, 7, None]
    diffs = [counters.add(_rev(i + 1, f"2020-01-0{i + 1}T00:00:00Z", 0)._replace(text_bytes=size)).text_bytes_diff
             for i, size in enumerate(sizes)]
    assert diffs == [None, None, None, 0, None]


@pytest.mark.parametrize("radius", [0, 2])
def test_hexadecimal_sha1s_match_for_reverts(radius):
    """A sha1 that is not base 36 still matches itself (as given, case and all), and only itself."""
    a, b = "da39a3ee5e6b4b0d3255bfef95601890afd80709", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
    assert ours([a, b, a], radius) == ([False, False, True], [-1, 2, -1])
    assert ours([a, b, a.upper()], radius)[0] == [False, False, False]
    # the same SHA-1 as ``a`` written in base 36 is another value, as mwreverts fed the dump's values has it
    base36 = "phoiac9h4m842xq45sp7s6u21eteeq1"
    assert ours([a, b, base36], radius)[0] == [False, False, False]


def ours(sha1s, radius):
    """(is revert, first reverter position or -1) per position."""
    detector, marks, reverts = RevertDetector(radius), RevertMarks(), []
    for position, sha1 in enumerate(sha1s):
        marks.add()
        reverted = detector.add(sha1)
        reverts.append(reverted is not None)
        if reverted:
            marks.mark(*reverted, position)
    return reverts, marks.reverter


def reference(sha1s, radius):
    """mwreverts' Detector(radius), or for radius 0 the spec read literally, O(n^2)."""
    reverts, reverter = [], [-1] * len(sha1s)
    if radius:
        detector = mwreverts.Detector(radius=radius)
        for position, sha1 in enumerate(sha1s):
            found = detector.process(sha1 if sha1 is not None else ("missing", position), position)
            reverts.append(found is not None)
            for reverted in (found.reverteds if found else []):
                if reverter[reverted] == -1:
                    reverter[reverted] = position
        return reverts, reverter
    for position, sha1 in enumerate(sha1s):
        match = max((j for j in range(position) if sha1 is not None and sha1s[j] == sha1), default=None)
        is_revert = match is not None and match < position - 1
        reverts.append(is_revert)
        if is_revert:
            for reverted in range(match + 1, position):
                if reverter[reverted] == -1:
                    reverter[reverted] = position
    return reverts, reverter


SHA1S = st.lists(st.one_of(st.none(), st.sampled_from([c * 31 for c in "abcdef"])), max_size=60)


@settings(max_examples=500, deadline=None)
@given(SHA1S, st.sampled_from([0, 1, 2, 3, 15]))
def test_reverts_agree_with_the_reference(sha1s, radius):
    assert ours(sha1s, radius) == reference(sha1s, radius)


def test_long_random_histories_agree_with_mwreverts():
    rng = random.Random(7)
    for radius in (1, 5, 15, 40):
        sha1s = [rng.choice("abcdefghij") * 31 if rng.random() > 0.05 else None for _ in range(3000)]
        assert ours(sha1s, radius) == reference(sha1s, radius)


def test_unlimited_radius_sees_far_back():
    sha1s = ["a" * 31] + [DIGITS[i % 36] * 30 + "z" for i in range(100)] + ["a" * 31]
    assert ours(sha1s, 0)[0][-1] is True
    assert ours(sha1s, 15)[0][-1] is False


def test_marks_are_linear_when_reverts_nest():
    """1, 2, ..., n, n-1, ..., 1: every return reverts all after it, overlapping; first reverter wins."""
    n = 2000
    sha1s = [f"{i:031d}" for i in range(n)] + [f"{i:031d}" for i in range(n - 2, -1, -1)]
    reverts, reverter = ours(sha1s, 0)
    assert reverts[n:] == [True] * (n - 1)
    assert reverter[n - 1] == n and reverter[0] == -1 and reverter[1] == 2 * n - 2


def test_radius_must_not_be_negative():
    with pytest.raises(ValueError):
        RevertDetector(-1)
