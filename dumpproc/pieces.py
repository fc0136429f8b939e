"""A table's rows as NumPy columns, made Arrow many pages at a time (``sink.PartWriter.append_pieces``).

A page of a columnar reader gives its ``revisions`` rows as ``RevisionPieces``: one item per
column, in the schema's order, each one of

- a NumPy array (a value per row, none null), or ``Masked`` (values and which are valid);
- ``Strings``: UTF-8 bytes one after another, offsets (one more than rows), validity;
- ``Same``: one value for every row of the piece (the page's id, title, slots).

``RevisionPieces.batch`` joins pieces column by column and builds each Arrow array once, so a
wiki of short pages does not pay Arrow's price per page, and no Python object is made per value.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa


class Masked(NamedTuple):
    values: np.ndarray
    valid: np.ndarray  # bool, a value per row

    def __len__(self) -> int:
        return len(self.values)


class Strings(NamedTuple):
    joined: np.ndarray  # uint8
    offsets: np.ndarray  # int64, one more than rows, into ``joined`` (the first need not be 0)
    valid: np.ndarray | None  # bool, None: all valid

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        return int(self.offsets[-1] - self.offsets[0]) + 8 * len(self.offsets)

    @staticmethod
    def of(values: list) -> "Strings":
        """A list of str (or None) as ``Strings``: for the values Python makes (computed sha1s)."""
        encoded = [b"" if v is None else v.encode("utf-8") for v in values]
        offsets = np.zeros(len(values) + 1, np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        valid = np.array([v is not None for v in values], np.bool_)
        return Strings(np.frombuffer(b"".join(encoded), np.uint8), offsets, valid)


class Same(NamedTuple):
    value: object
    rows: int

    def __len__(self) -> int:
        return self.rows


def expand(item, type_: pa.DataType):
    """A ``Same`` item as the values of its rows (an array or ``Strings``), other items as they are."""
    if not isinstance(item, Same):
        return item
    value, rows = item.value, item.rows
    if pa.types.is_string(type_):
        if value is None:
            return Strings(np.zeros(0, np.uint8), np.zeros(rows + 1, np.int64), np.zeros(rows, np.bool_))
        data = value.encode("utf-8")
        return Strings(np.frombuffer(data * rows, np.uint8), np.arange(rows + 1, dtype=np.int64) * len(data), None)
    if pa.types.is_list(type_):
        return item
    dtype = np.int64 if pa.types.is_timestamp(type_) else type_.to_pandas_dtype()
    if value is None:
        return Masked(np.zeros(rows, dtype), np.zeros(rows, np.bool_))
    return np.full(rows, value, dtype)


def _bitmap(valid: np.ndarray | None):
    if valid is None or valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def _storage(type_: pa.DataType) -> np.dtype | None:
    """The NumPy dtype whose bytes are the Arrow buffer of a fixed-width ``type_``, else None."""
    if pa.types.is_timestamp(type_) or pa.types.is_duration(type_):
        return np.dtype(np.int64)
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_boolean(type_):
        return np.dtype(type_.to_pandas_dtype())
    return None


def numbers(values: np.ndarray, type_: pa.DataType, valid: np.ndarray | None = None) -> pa.Array:
    """A NumPy column (and which values are valid) as an Arrow array of ``type_``, from its buffers.

    ``pa.array`` of an ndarray checks for NumPy's masked arrays, which imports ``numpy.ma``: a
    twentieth of a second of a small run, for nothing. A dtype that is not ``type_``'s storage goes
    through ``pa.array``, which converts it.
    """
    if values.dtype != _storage(type_):
        return pa.array(values, type_, mask=None if valid is None else ~valid)
    if pa.types.is_boolean(type_):
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values))
    nulls = 0 if valid is None else len(valid) - int(np.count_nonzero(valid))
    return pa.Array.from_buffers(type_, len(values), [_bitmap(valid) if nulls else None, data], null_count=nulls)


def _strings(item: Strings, type_: pa.DataType) -> pa.Array:
    if item.offsets[-1] >= 2**31:
        raise ValueError(f"{item.offsets[-1]:,} bytes of strings in one batch: more than a Parquet string")
    valid = item.valid
    nulls = 0 if valid is None else len(valid) - int(np.count_nonzero(valid))
    return pa.StringArray.from_buffers(len(item), pa.py_buffer(item.offsets.astype(np.int32)),
                                       pa.py_buffer(item.joined), _bitmap(valid), nulls)


def to_arrow(item, type_: pa.DataType) -> pa.Array:
    """One column item as an Arrow array of ``type_``."""
    if isinstance(item, Same):
        value, rows = item.value, item.rows
        if pa.types.is_list(type_):
            values = pa.array(list(value) * rows, type_.value_type)
            offsets = np.arange(rows + 1, dtype=np.int32) * len(value)
            return pa.ListArray.from_arrays(numbers(offsets, pa.int32()), values, type=type_)
        return to_arrow(expand(item, type_), type_)
    if isinstance(item, Strings):
        return _strings(item, type_)
    if isinstance(item, Masked):
        return numbers(item.values, type_, item.valid)
    if isinstance(item, np.ndarray):
        return numbers(item, type_)
    return pa.array(item, type_)  # a Python list


class RevisionPieces(NamedTuple):
    """Rows of ``schema`` as column items (this module's kinds), in the schema's order."""

    schema: pa.Schema
    items: list

    @property
    def rows(self) -> int:
        return len(self.items[0])

    @property
    def nbytes(self) -> int:
        total = 0
        for item in self.items:
            if isinstance(item, Strings):
                total += item.nbytes
            elif isinstance(item, Masked):
                total += item.values.nbytes + item.valid.nbytes
            elif isinstance(item, np.ndarray):
                total += item.nbytes
        return total

    def record_batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([to_arrow(item, f.type) for item, f in zip(self.items, self.schema)],
                                          schema=self.schema)

    @staticmethod
    def batch(pieces: list["RevisionPieces"]) -> pa.RecordBatch:
        """One Arrow batch of the pieces' rows, in order: each column joined by ``join``."""
        schema = pieces[0].schema
        if len(pieces) == 1:
            return pieces[0].record_batch()
        return pa.RecordBatch.from_arrays([to_arrow(join([p.items[i] for p in pieces], field.type), field.type)
                                           for i, field in enumerate(schema)], schema=schema)


def join(items: list, type_: pa.DataType):
    """The items of one column (of ``type_``), one after another, as one item: a few NumPy calls
    whatever their number. Items of other kinds (a page's constant beside arrays, arrays beside
    ``Masked``) are made one kind first."""
    if len(items) == 1:
        return items[0]
    kind = type(items[0])
    if not all(type(item) is kind for item in items):
        items = [expand(item, type_) for item in items]
        if any(isinstance(item, Masked) for item in items):
            items = [item if isinstance(item, Masked) else Masked(item, np.ones(len(item), np.bool_))
                     for item in items]
        if len({type(item) for item in items}) > 1:
            raise TypeError(f"cannot join column items {[type(i).__name__ for i in items]}")
        return join(items, type_)
    if kind is np.ndarray:
        return np.concatenate(items)
    if kind is Masked:
        return Masked(np.concatenate([i.values for i in items]), np.concatenate([i.valid for i in items]))
    if kind is Strings:
        counts = np.array([len(i.offsets) - 1 for i in items], np.int64)
        firsts = np.array([i.offsets[0] for i in items], np.int64)
        lasts = np.array([i.offsets[-1] for i in items], np.int64)
        bases = np.zeros(len(items), np.int64)
        np.cumsum((lasts - firsts)[:-1], out=bases[1:])
        offsets = np.empty(int(counts.sum()) + 1, np.int64)
        offsets[:-1] = np.concatenate([i.offsets[:-1] for i in items]) + np.repeat(bases - firsts, counts)
        offsets[-1] = bases[-1] + lasts[-1] - firsts[-1]
        valid = None
        if any(i.valid is not None for i in items):
            valid = np.concatenate([np.ones(len(i), np.bool_) if i.valid is None else i.valid for i in items])
        return Strings(np.concatenate([i.joined[i.offsets[0]:i.offsets[-1]] for i in items]), offsets, valid)
    if kind is Same:
        first = items[0].value
        if all(item.value == first for item in items):
            return Same(first, sum(item.rows for item in items))
        if pa.types.is_list(type_):  # a batch's slots are every row's ("main",)
            raise TypeError("cannot join list items of different values")
        counts = [item.rows for item in items]
        if pa.types.is_string(type_):
            encoded = [None if item.value is None else item.value.encode("utf-8") for item in items]
            lengths = np.repeat([0 if e is None else len(e) for e in encoded], counts)
            offsets = np.zeros(len(lengths) + 1, np.int64)
            np.cumsum(lengths, out=offsets[1:])
            valid = np.repeat([e is not None for e in encoded], counts)
            data = b"".join(e * c for e, c in zip(encoded, counts) if e)
            return Strings(np.frombuffer(data, np.uint8), offsets, None if valid.all() else valid)
        values = [item.value for item in items]
        dtype = np.int64 if pa.types.is_timestamp(type_) else type_.to_pandas_dtype()
        if any(v is None for v in values):
            return Masked(np.repeat(np.array([0 if v is None else v for v in values], dtype), counts),
                          np.repeat([v is not None for v in values], counts))
        return np.repeat(np.array(values, dtype), counts)
    raise TypeError(f"cannot join column items of {kind.__name__}")
