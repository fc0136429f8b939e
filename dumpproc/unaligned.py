"""Eight bytes at a time at any offset, inside kernels: loads and stores that claim no alignment.

A compiled text is a slice at any offset of a larger buffer (a page's texts one after another, a
block of XML), so it seldom starts on a word boundary, and a uint64 view of it would claim an
alignment it does not have. These generate one unaligned load or store each (numba intrinsics).
"""

from __future__ import annotations

from .compiled import intrinsic


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
