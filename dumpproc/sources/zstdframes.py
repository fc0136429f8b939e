"""Zstandard frames followed header by header as the compressed bytes pass, to know where a stream ends.

python-zstandard's stream reader, reading across frames, ends without a word
when its input ends inside a frame: a file cut short, or a whole frame followed
by a cut one, reads as a shorter XML where ``zstd -dc`` fails. ``WatchedSource``
hands the compressed bytes on to the reader unchanged and feeds them to a
``FrameWalker``, which follows the format's frame and block headers (RFC 8878:
frame header, then blocks of 3-byte headers up to the last one, then an
optional 4-byte checksum; skippable frames by their size) without decoding
anything, so that at the end of the input it can say whether the last frame
was whole. It costs one small step per block, not per byte.

The walker never judges the data itself: where the bytes stop being a frame it
gives up (``lost``), and the decompressor, which reads the same bytes, says
what is wrong with them.
"""

from __future__ import annotations

from typing import BinaryIO

from .wrapping import OverSource

_MAGIC = 0xFD2FB528
_SKIPPABLE = 0x184D2A50  # the low 4 bits are free
# the states: what the next header bytes are
_FRAME, _SKIP_SIZE, _DESCRIPTOR, _BLOCK, _CHECKSUM = range(5)


class FrameWalker:
    """Where a zstandard stream is, frame by frame and block by block, as its bytes are fed in order."""

    __slots__ = ("lost", "frames", "_state", "_need", "_head", "_skip", "_checksum")

    def __init__(self) -> None:
        #: the bytes stopped being zstandard frames (the decompressor says why)
        self.lost = False
        #: frames (skippable ones included) seen whole
        self.frames = 0
        self._state, self._need = _FRAME, 4
        self._head = bytearray()  # header bytes gathered so far (a header may straddle two reads)
        self._skip = 0  # payload bytes to pass over before the next header
        self._checksum = False  # the frame being walked ends in a 4-byte checksum

    @property
    def between_frames(self) -> bool:
        """The bytes fed so far end where a frame ends (or none were fed)."""
        return not self.lost and self._state == _FRAME and not self._head and not self._skip

    def feed(self, data) -> None:
        """The next compressed bytes of the stream."""
        view = memoryview(data)
        at, size = 0, len(view)
        while at < size and not self.lost:
            if self._skip:
                step = min(self._skip, size - at)
                self._skip -= step
                at += step
                continue
            take = min(self._need - len(self._head), size - at)
            self._head += view[at:at + take]
            at += take
            if len(self._head) == self._need:
                head = bytes(self._head)
                self._head.clear()
                self._header(head)

    def _header(self, head: bytes) -> None:
        state = self._state
        if state == _FRAME:
            magic = int.from_bytes(head, "little")
            if magic & 0xFFFFFFF0 == _SKIPPABLE:
                self._state, self._need = _SKIP_SIZE, 4
            elif magic == _MAGIC:
                self._state, self._need = _DESCRIPTOR, 1
            else:
                self.lost = True
        elif state == _SKIP_SIZE:
            self._skip = int.from_bytes(head, "little")
            self._end_frame()
        elif state == _DESCRIPTOR:
            descriptor = head[0]
            content_size, single, dictionary = descriptor >> 6, (descriptor >> 5) & 1, descriptor & 3
            self._checksum = bool(descriptor & 4)
            # the window descriptor, dictionary id and content size: not needed, passed over
            self._skip = (0 if single else 1) + (0, 1, 2, 4)[dictionary] + ((1 if single else 0), 2, 4, 8)[content_size]
            self._state, self._need = _BLOCK, 3
        elif state == _BLOCK:
            value = int.from_bytes(head, "little")
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:  # reserved: not a block
                self.lost = True
                return
            self._skip = 1 if kind == 1 else size  # an RLE block holds one byte, repeated
            if last:
                if self._checksum:
                    self._state, self._need = _CHECKSUM, 4
                else:
                    self._end_frame()
        else:  # _CHECKSUM
            self._end_frame()

    def _end_frame(self) -> None:
        self.frames += 1
        self._state, self._need = _FRAME, 4


class WatchedSource(OverSource):
    """``source``'s bytes unchanged, walked frame by frame, and counted (how far the decompressor has read)."""

    def __init__(self, source: BinaryIO):
        super().__init__()
        self._source = source
        self.walker = FrameWalker()
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        if count:
            self.walker.feed(data)
            self.consumed += count
        return count

    def cut_short(self) -> str | None:
        """Why the stream read so far does not end where a frame ends, or None when it does."""
        walker = self.walker
        if walker.between_frames or walker.lost:  # lost: the decompressor reads the same bytes and says why
            return None
        return (f"it ends inside frame {walker.frames + 1}"
                + (f", after {walker.frames} whole frame{'s' if walker.frames != 1 else ''}" if walker.frames else ""))
