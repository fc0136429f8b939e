"""The ``diffs`` table's rows as NumPy pieces, from ``diff.diff_page``'s arrays.

``diff_rows`` turns one batch's diffs (a page's, or several pages') into ``DiffPieces``: the
revision and base ids, the ops' four line positions and their texts gathered into one buffer by
one compiled copy, so that no Python object is made per op. ``sink.PartWriter.append_pieces``
joins pieces of many pages and ``DiffPieces.batch`` makes them one Arrow batch at a time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa

from .pieces import numbers
from .schema import DIFFS, OP


class DiffPieces(NamedTuple):
    """The ``diffs`` rows of one batch of a page as NumPy columns, made Arrow with others
    (``PartWriter.append_pieces``): ``list_offsets`` index the ops, ``text_offsets`` the texts."""

    page_id: int | np.ndarray  # the page's, or each row's (rows of several pages)
    revision_ids: np.ndarray
    base_ids: np.ndarray
    list_offsets: np.ndarray
    ops: np.ndarray  # a_start, a_end, b_start, b_end: a row each
    joined: np.ndarray
    text_offsets: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.revision_ids)

    @property
    def nbytes(self) -> int:
        return len(self.joined) + 8 * self.ops.size

    @staticmethod
    def batch(pieces: list["DiffPieces"]) -> pa.RecordBatch:
        """One Arrow batch of the ``diffs`` schema from pieces, in order."""
        if len(pieces) == 1:
            (one,) = pieces
            ids, bases, ops, joined = one.revision_ids, one.base_ids, one.ops, one.joined
            page_ids = _page_ids(one)
            list_offsets, text_offsets = one.list_offsets, one.text_offsets
        else:
            ids = np.concatenate([p.revision_ids for p in pieces])
            bases = np.concatenate([p.base_ids for p in pieces])
            page_ids = np.concatenate([_page_ids(p) for p in pieces])
            ops = np.concatenate([p.ops for p in pieces], axis=1)
            joined = np.concatenate([p.joined for p in pieces])
            op_base = np.cumsum([0] + [p.list_offsets[-1] for p in pieces[:-1]])
            text_base = np.cumsum([0] + [len(p.joined) for p in pieces[:-1]])
            list_offsets = np.concatenate([p.list_offsets[:-1] + at for p, at in zip(pieces, op_base)]
                                          + [np.array([op_base[-1] + pieces[-1].list_offsets[-1]])])
            text_offsets = np.concatenate([p.text_offsets[:-1] + at for p, at in zip(pieces, text_base)]
                                          + [np.array([text_base[-1] + pieces[-1].text_offsets[-1]])])
        if text_offsets[-1] >= 2**31 or list_offsets[-1] >= 2**31:
            raise ValueError(f"diffs of {text_offsets[-1]:,} bytes of text in one batch: more than a Parquet string")
        texts = pa.StringArray.from_buffers(len(text_offsets) - 1, pa.py_buffer(text_offsets.astype(np.int32)),
                                            pa.py_buffer(joined))
        children = [numbers(row, OP.field(i).type) for i, row in enumerate(ops.astype(np.int32))] + [texts]
        structs = pa.StructArray.from_arrays(children, fields=[OP.field(i) for i in range(OP.num_fields)])
        lists = pa.ListArray.from_arrays(numbers(list_offsets.astype(np.int32), pa.int32()), structs,
                                         type=DIFFS.field("ops").type)
        columns = [numbers(page_ids, DIFFS.field(0).type), numbers(ids, DIFFS.field(1).type),
                   numbers(bases, DIFFS.field(2).type, bases >= 0), lists]
        return pa.RecordBatch.from_arrays(columns, schema=DIFFS)


#: op texts of a revision this long, one run of its buffer, are written from the buffer (``diff_rows``):
#: as long as ``sink`` writes a piece at once (``PAGE_HOLD_FACTOR * ROW_GROUP_BYTES``), so that the
#: buffer is not kept for the rest of its page
VIEW_BYTES = 32 << 20


def _page_ids(piece: DiffPieces) -> np.ndarray:
    if isinstance(piece.page_id, np.ndarray):
        return piece.page_id
    return np.full(len(piece.revision_ids), piece.page_id, np.int64)


def diff_rows(page_diffs, out, page_id: int | np.ndarray, ids: np.ndarray, base_ids: np.ndarray, shown: np.ndarray
               ) -> list[DiffPieces]:
    """The ``diffs`` rows of a batch's visible revisions from ``diff_page``'s arrays, the op texts
    gathered by one compiled copy: no Python object per op or per text (which for a huge text
    also spares the copies of a Python conversion). A revision whose op texts are one run of the
    buffer of ``VIEW_BYTES`` or more (a huge text against the empty one, say) is a piece of its
    own that holds the buffer's bytes, not a copy (the writer makes it a row group at once)."""
    kept = np.flatnonzero(shown)
    op_offsets = page_diffs.op_offsets
    if (np.diff(op_offsets)[~shown] != 0).any():
        raise AssertionError("a revision that was not diffed has ops")
    if isinstance(page_id, np.ndarray):
        page_id = page_id[kept]
    lo, hi = op_offsets[kept], op_offsets[kept + 1]
    starts, ends = page_diffs.text_start, page_diffs.text_end
    viewed = []
    if len(starts) and int((ends - starts).sum()) >= VIEW_BYTES:
        for row in np.flatnonzero(hi > lo).tolist():
            a, b = int(lo[row]), int(hi[row])
            if ends[b - 1] - starts[a] >= VIEW_BYTES and (starts[a + 1:b] == ends[a:b - 1]).all():
                viewed.append(row)
    pieces, row = [], 0
    for cut in viewed + [len(kept)]:
        if cut > row:  # the rows before a viewed one, their texts gathered
            pieces.append(_rows_piece(page_diffs, out, page_id, ids, base_ids, kept, row, cut, None))
        if cut < len(kept):
            pieces.append(_rows_piece(page_diffs, out, page_id, ids, base_ids, kept, cut, cut + 1, out))
        row = cut + 1
    return pieces or [_rows_piece(page_diffs, out, page_id, ids, base_ids, kept, 0, 0, None)]


def _rows_piece(page_diffs, out, page_id, ids, base_ids, kept, first: int, last: int, view) -> DiffPieces:
    """``DiffPieces`` of kept rows first..last-1; ``view``: their texts are a run of it, not copied."""
    rows = kept[first:last]
    op_offsets = page_diffs.op_offsets
    a = int(op_offsets[rows[0]]) if len(rows) else 0
    b = int(op_offsets[rows[-1] + 1]) if len(rows) else 0
    starts, ends = page_diffs.text_start[a:b], page_diffs.text_end[a:b]
    if view is not None:
        joined = view[starts[0]:ends[-1]]
        text_offsets = np.append(0, np.cumsum(ends - starts))
    else:
        joined, text_offsets = page_diffs.joined_texts(out, a, b)
    list_offsets = np.append(op_offsets[rows], b) - a
    piece_page = page_id[first:last] if isinstance(page_id, np.ndarray) else page_id
    return DiffPieces(piece_page, ids[rows], base_ids[rows], list_offsets, page_diffs.ops[1:5, a:b], joined,
                      text_offsets)
