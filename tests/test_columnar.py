"""The compiled per-page stages on columns give what their Python references give."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from dumpproc import columnar
from dumpproc.pieces import Masked, RevisionPieces, Same, Strings, join
from dumpproc.records import is_base36_sha1, sha1_base36
from dumpproc.stats import sha1_key

from test_stats import SHA1S, ours, reference


def _spans(values: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A buffer of the values one after another, and their spans (start -1 for None)."""
    data, starts, ends = b"", [], []
    for value in values:
        if value is None:
            starts.append(-1)
            ends.append(-1)
            continue
        encoded = value.encode("utf-8")
        starts.append(len(data))
        data += encoded
        ends.append(len(data))
    return np.frombuffer(data or b"\0", np.uint8), np.array(starts, np.int64), np.array(ends, np.int64)


def _keys(sha1s: list) -> np.ndarray:
    """Revert keys as a page's chunks give them: a base-36 sha1's digest, others numbered."""
    keys = np.zeros((len(sha1s), columnar.KEY_BYTES), np.uint8)
    given: dict = {}
    for row, sha1 in enumerate(sha1s):
        key = sha1_key(sha1)
        if isinstance(key, bytes):
            keys[row, 0] = columnar.DIGEST
            keys[row, 1:] = np.frombuffer(key, np.uint8)
        elif key is not None:
            keys[row, 0] = columnar.OTHER
            keys[row, 1:] = np.frombuffer(given.setdefault(key, len(given)).to_bytes(20, "big"), np.uint8)
    return keys


def _compiled(sha1s, radius):
    is_revert, reverter = columnar.identity_reverts(_keys(sha1s), radius)
    return is_revert.tolist(), reverter.tolist()


@settings(max_examples=300, deadline=None)
@given(SHA1S, st.sampled_from([0, 1, 2, 3, 15]))
def test_compiled_reverts_agree_with_the_detector_and_the_reference(sha1s, radius):
    assert _compiled(sha1s, radius) == ours(sha1s, radius) == reference(sha1s, radius)


def test_compiled_reverts_on_long_histories_and_hexadecimal_sha1s():
    rng = random.Random(11)
    pool = [sha1_base36(str(i)) for i in range(30)] + ["da39a3ee5e6b4b0d3255bfef95601890afd80709", None]
    for radius in (0, 1, 15):
        sha1s = [rng.choice(pool) for _ in range(3_000)]
        assert _compiled(sha1s, radius) == ours(sha1s, radius)


def test_a_negative_radius_is_refused():
    with pytest.raises(ValueError):
        columnar.identity_reverts(np.zeros((2, columnar.KEY_BYTES), np.uint8), -1)


EDGE = ["", "0", "abc", "ABC", "1-2", "g" * 31, "0" * 31, "0" * 32, "z" * 30, "z" * 31,
        "da39a3ee5e6b4b0d3255bfef95601890afd80709", "phoiac9h4m842xq45sp7s6u21eteeq1", "é", None]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(EDGE), st.text("0123456789abcdefghijklmnopqrstuvwxyzA-", max_size=33)),
                max_size=20))
def test_keys_are_the_digests_of_base36_sha1s_and_only_theirs(values):
    for value in values:
        missing, main, revision, keys = _sha1_columns([value], [None], [True])
        if value is None:
            assert missing == 1 and keys[0, 0] == 0
        elif value == "" or not is_base36_sha1(value):
            assert missing == -1  # empty, or kept as given: the Python rules
        else:
            assert missing == 0 and main == revision == [value]
            assert keys[0, 0] == columnar.DIGEST and bytes(keys[0, 1:]) == sha1_key(value, True)


def _sha1_columns(sha1s, text_sha1s, texts):
    out, s0, e0 = _spans(sha1s + text_sha1s + ["x" if t else None for t in texts])
    n = len(sha1s)
    spans = np.empty((9, n), np.int64)
    spans[0], spans[1], spans[2], spans[3] = s0[:n], e0[:n], s0[n:2 * n], e0[n:2 * n]
    spans[4] = s0[2 * n:]
    keys = np.zeros((n, columnar.KEY_BYTES), np.uint8)
    missing = columnar.sha1_columns(out, spans, keys)
    if missing < 0:  # the caller takes the Python rules: the spans chosen are not to be read
        return missing, None, None, keys
    text = lambda s, e: None if s < 0 else bytes(out[s:e]).decode()
    main = [text(s, e) for s, e in zip(spans[5], spans[6])]
    revision = [text(s, e) for s, e in zip(spans[7], spans[8])]
    return missing, main, revision, keys


def test_sha1_columns_choose_as_the_record_path_does():
    a, b = sha1_base36("a"), sha1_base36("b")
    missing, main, revision, keys = _sha1_columns([a, None, a, None], [None, b, b, None], [True, True, True, True])
    assert missing == 1
    assert main[:3] == [a, b, b] and revision[:3] == [a, b, a]
    assert bytes(keys[0, 1:]) == sha1_key(a) and bytes(keys[1, 1:]) == sha1_key(b) and bytes(keys[2, 1:]) == sha1_key(a)
    assert keys[3, 0] == 0
    missing, *_ = _sha1_columns([a, None], [None, None], [True, False])  # no sha1 and no text: nothing to compute
    assert missing == 0
    for sha1s, text_sha1s in (([a, "da39a3ee5e6b4b0d3255bfef95601890afd80709"], [None, None]), ([a, ""], [None, None]),
                              ([a, a], [None, "XYZ"]), ([a, a], [None, ""])):
        assert _sha1_columns(sha1s, text_sha1s, [True, True])[0] == -1  # the Python rules, as given


def test_gathered_columns_are_the_spans_values():
    values = [["a", None, "", "ü"], ["x", "yz", None, None]]
    out, starts, ends = _spans(values[0] + values[1])
    joined, offsets, valid = columnar.gather_columns(out, starts.reshape(2, 4).copy(), ends.reshape(2, 4).copy())
    for row, column in enumerate(values):
        array = pa.StringArray.from_buffers(4, pa.py_buffer(offsets[row].astype(np.int32)), pa.py_buffer(joined),
                                            pa.py_buffer(np.packbits(valid[row], bitorder="little")))
        assert array.to_pylist() == column


def test_pieces_join_into_the_arrays_pyarrow_makes_of_the_values():
    schema = pa.schema([pa.field("page", pa.int64()), pa.field("title", pa.string()), pa.field("id", pa.int64()),
                        pa.field("parent", pa.int64()), pa.field("comment", pa.string()),
                        pa.field("slots", pa.list_(pa.string())), pa.field("dt", pa.timestamp("us", tz="UTC"))])

    def piece(page, title, ids, parents, comments):
        n = len(ids)
        out, starts, ends = _spans(comments)
        joined, offsets, valid = columnar.gather_columns(out, starts.reshape(1, -1), ends.reshape(1, -1))
        return RevisionPieces(schema, [Same(page, n), Same(title, n), np.array(ids, np.int64),
                                       Masked(np.array([p or 0 for p in parents], np.int64),
                                              np.array([p is not None for p in parents])),
                                       Strings(joined, offsets[0], valid[0]), Same(("main",), n),
                                       np.array(ids, np.int64) * 1_000_000])

    pieces = [piece(1, "A", [1, 2], [None, 1], ["x", None]), piece(2, None, [3], [2], [""]),
              piece(2, None, [4, 5, 6], [3, None, 5], ["é", "b", None])]
    rows = [(1, "A", 1, None, "x"), (1, "A", 2, 1, None), (2, None, 3, 2, ""), (2, None, 4, 3, "é"),
            (2, None, 5, None, "b"), (2, None, 6, 5, None)]
    expected = pa.table({"page": [r[0] for r in rows], "title": [r[1] for r in rows], "id": [r[2] for r in rows],
                         "parent": [r[3] for r in rows], "comment": [r[4] for r in rows],
                         "slots": [["main"]] * 6,
                         "dt": pa.array([r[2] * 1_000_000 for r in rows], pa.timestamp("us", tz="UTC"))},
                        schema=schema)
    assert pa.Table.from_batches([RevisionPieces.batch(pieces)]).equals(expected)
    # one page's chunks joined first (as a page's batches are), then with the others
    joined = RevisionPieces(schema, [join([a, b], f.type) for a, b, f in zip(pieces[1].items, pieces[2].items, schema)])
    assert pa.Table.from_batches([RevisionPieces.batch([pieces[0], joined])]).equals(expected)
    assert pa.Table.from_batches([pieces[0].record_batch()]).equals(expected.slice(0, 2))


@pytest.mark.parametrize("type_, dtype", [(pa.int64(), np.int64), (pa.int32(), np.int32), (pa.bool_(), np.bool_),
                                          (pa.timestamp("us", tz="UTC"), np.int64), (pa.float64(), np.float64),
                                          (pa.int64(), np.int32), (pa.int32(), np.int64)])  # the last two: converted
@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_numbers_from_buffers_are_pa_array(type_, dtype, data):
    """``pieces.numbers`` builds Arrow from a NumPy column's buffers (no ``numpy.ma`` import): the same
    array as ``pa.array`` with a mask, views and strided columns included."""
    from dumpproc.pieces import numbers

    values = np.array(data.draw(st.lists(st.integers(-1000, 1000), max_size=70)), np.int64).astype(dtype)
    valid = np.array(data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values))), np.bool_)
    step = data.draw(st.sampled_from([1, 2]))
    values, valid = values[::step], valid[::step]  # strided: not contiguous
    for mask in (None, valid):
        made = numbers(values, type_, mask)
        made.validate(full=True)
        assert made.type == type_
        assert made.equals(pa.array(values, type_, mask=None if mask is None else ~mask))
