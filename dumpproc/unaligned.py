"""Eight bytes at a time at any offset, inside kernels: loads and stores that claim no alignment.

A compiled text is a slice at any offset of a larger buffer (a page's texts one after another, a
block of XML), so it seldom starts on a word boundary, and a uint64 view of it would claim an
alignment it does not have. These generate one unaligned load or store each (numba intrinsics).
"""

from __future__ import annotations

import numpy as np

from .compiled import intrinsic, kernel

_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_LF = np.uint64(0x0A) * _ONES
#: byte k of a product with ``1 << 8 * k`` is k (``_lowest_byte``)
_BYTE_INDEX = np.uint64(0x0001020304050607)


def _is_bytes(data, index) -> bool:
    from numba import types

    return (isinstance(data, types.Array) and data.ndim == 1 and data.dtype == types.uint8 and data.layout == "C"
            and isinstance(index, types.Integer))


@intrinsic
def _word_at(typingctx, data, index):  # pragma: no cover - compiled
    """The eight bytes ``data[index:index + 8]`` as one uint64 (little-endian: the first byte lowest)."""
    from llvmlite import ir
    from numba import types

    if not _is_bytes(data, index):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        at = builder.gep(array.data, [args[1]])
        return builder.load(builder.bitcast(at, ir.IntType(64).as_pointer()), align=1)

    return types.uint64(data, index), codegen


@intrinsic
def _put_word(typingctx, data, index, word):  # pragma: no cover - compiled
    """Store the uint64 ``word`` as ``data[index:index + 8]`` (the first byte its lowest)."""
    from llvmlite import ir
    from numba import types

    if not (_is_bytes(data, index) and isinstance(word, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        at = builder.gep(array.data, [args[1]])
        value = context.cast(builder, args[2], signature.args[2], types.uint64)
        builder.store(value, builder.bitcast(at, ir.IntType(64).as_pointer()), align=1)
        return context.get_dummy_value()

    return types.none(data, index, word), codegen


@kernel
def _zero_bytes(x):  # pragma: no cover - compiled
    """The high bit of each byte of ``x`` that is zero, exactly (no borrow between bytes)."""
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


@kernel
def _bytes_marked(marks):  # pragma: no cover - compiled
    """How many bytes of ``_zero_bytes``' answer ``marks`` have their high bit set."""
    return np.int64((((marks >> np.uint64(7)) * _ONES) >> np.uint64(56)))


@kernel
def _lowest_byte(marks):  # pragma: no cover - compiled
    """The index (0-7) of the lowest byte with its high bit set in ``marks`` (not 0)."""
    lowest = marks & (~marks + np.uint64(1))
    return np.int64(((lowest >> np.uint64(7)) * _BYTE_INDEX) >> np.uint64(56))


@kernel
def _newlines(data, start, end):  # pragma: no cover - compiled
    """How many ``\\n`` bytes ``data[start:end]`` holds, eight bytes at a time."""
    count = 0
    i = start
    while i + 8 <= end:
        count += _bytes_marked(_zero_bytes(_word_at(data, i) ^ _LF))
        i += 8
    while i < end:
        if data[i] == 10:
            count += 1
        i += 1
    return count
