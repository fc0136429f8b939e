"""One unit's share of a large file, as a stream of XML that parses on its own.

A file that can be cut is a run of *pieces* that decode on their own: bzip2
blocks (found by scanning the compressed bits, ``bz2blocks``), zstandard frames
(walked from their headers, without decoding), or fixed-size byte ranges of a
plain UTF-8 file. A unit owns a run of pieces; it owns the pages whose
``<page>`` tag begins in the text those pieces decode to, and reads on into
later pieces to finish its last page. Its stream is: the file's header
(``<mediawiki ...>`` and ``<siteinfo>``, read once when the units are planned),
then the text from its first owned ``<page>`` up to the first ``<page>`` that
begins past its range, then ``</mediawiki>``. ``<page>`` cannot occur inside
text (it would be escaped), so the tag marks page starts exactly. bzip2 blocks
are decoded several at a time on threads (bz2 releases the GIL).

A single-frame zstandard file, and a UTF-16 file, have one piece: they are
read whole.
"""

from __future__ import annotations

import bz2
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from ..errors import CorruptInput
from .bz2blocks import block_spans, realign

_PAGE = b"<page>"
_END = b"</mediawiki>"
#: The pieces of a plain XML file: fixed byte ranges.
PLAIN_PIECE = 1 << 20
#: Compressed bytes fed to the zstandard decoder at a time (its output for them is held at once).
ZSTD_FEED = 1 << 18
_ZSTD_MAGIC = 0xFD2FB528


# -- the pieces of a file, as (start byte, end byte) ---------------------------------------
def split_format(path: str) -> str | None:
    """How a file can be cut: "bz2", "zstd", "xml" (UTF-8), or None."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:3] == b"BZh":
        return "bz2"
    if len(head) == 4 and int.from_bytes(head, "little") == _ZSTD_MAGIC:
        return "zstd"
    if head[:3] == b"\xef\xbb\xbf" or head.lstrip(b" \t\r\n")[:1] == b"<":
        return "xml"
    return None


def piece_spans(path: str, fmt: str) -> list[tuple[int, int]]:
    """The file's pieces as byte ranges (a bzip2 block's range covers the bytes its bits touch)."""
    if fmt == "bz2":
        return [(start // 8, (end + 7) // 8) for start, end in block_spans(path)]
    if fmt == "zstd":
        return zstd_frames(path)
    size = os.path.getsize(path)
    return [(start, min(size, start + PLAIN_PIECE)) for start in range(0, size, PLAIN_PIECE)]


def zstd_frames(path: str) -> list[tuple[int, int]]:
    """The byte ranges of a zstandard file's frames, walked from frame and block headers.

    Skippable frames are folded into the frame before them. Where the walk meets what is not a
    whole frame (a frame cut short, bytes that are no frame), the rest of the file is one last
    range: the unit that decodes it fails there, and planning never does.
    """
    frames: list[tuple[int, int]] = []
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        at = 0
        while at < size:
            found = _zstd_frame_end(fh, at)
            if found is None or found[0] > size:
                frames.append((at, size))
                break
            end, skippable = found
            if frames and skippable:
                frames[-1] = (frames[-1][0], end)
            else:
                frames.append((at, end))
            at = end
    return frames


def _zstd_frame_end(fh, at: int) -> tuple[int, bool] | None:
    """Where the frame at byte ``at`` ends and whether it is a skippable one, or None where no frame
    header or block header can be read there."""
    fh.seek(at)
    head = fh.read(5)
    if len(head) < 5:
        return None
    magic = int.from_bytes(head[:4], "little")
    if magic & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame: magic, size, data
        fh.seek(at + 4)
        length = fh.read(4)
        return None if len(length) < 4 else (at + 8 + int.from_bytes(length, "little"), True)
    if magic != _ZSTD_MAGIC:
        return None
    descriptor = head[4]
    fcs_flag, single, checksum, dict_flag = descriptor >> 6, (descriptor >> 5) & 1, (descriptor >> 2) & 1, \
        descriptor & 3
    header = 1 + (0 if single else 1) + (0, 1, 2, 4)[dict_flag] + ((1 if single else 0), 2, 4, 8)[fcs_flag]
    block = at + 4 + header
    while True:
        fh.seek(block)
        raw = fh.read(3)
        if len(raw) < 3:
            return None
        value = int.from_bytes(raw, "little")
        last, kind, length = value & 1, (value >> 1) & 3, value >> 3
        if kind == 3:  # reserved: not a block
            return None
        block += 3 + (1 if kind == 1 else length)
        if last:
            return block + (4 if checksum else 0), False


def plan_ranges(spans: list[tuple[int, int]], split_size: int) -> list[tuple[int, int]]:
    """(first piece, end piece) index ranges of about ``split_size`` bytes each."""
    if not spans:
        return []
    ranges, first = [], 0
    for i, (start, _) in enumerate(spans):
        if i > first and start - spans[first][0] >= split_size:
            ranges.append((first, i))
            first = i
    ranges.append((first, len(spans)))
    return ranges


# -- decoding pieces -------------------------------------------------------------------------
def _bz2_pieces(path: str, first: int, threads: int) -> Iterator[tuple[int, bytes]]:
    spans = block_spans(path)[first:]

    def decode(span):
        try:
            return bz2.decompress(realign(path, [span]))
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptInput(f"bzip2 block at bit {span[0]} cannot be decoded: {exc}", path=path,
                               offset=span[0] // 8) from exc

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        window = max(2, 2 * threads)
        pending = [pool.submit(decode, span) for span in spans[:window]]
        following = window
        index = first
        while pending:
            data = pending.pop(0).result()
            if following < len(spans):
                pending.append(pool.submit(decode, spans[following]))
                following += 1
            yield index, data
            index += 1


def _zstd_pieces(path: str, first: int, threads: int) -> Iterator[tuple[int, bytes]]:
    import zstandard

    frames = zstd_frames(path)
    decompressor = zstandard.ZstdDecompressor(max_window_size=2**31)
    with open(path, "rb") as fh:
        for index in range(first, len(frames)):
            start, end = frames[index]
            fh.seek(start)
            # one frame at a time, so that its end is seen: zstandard's stream reader hands out
            # what a frame cut short holds and then reports a clean end
            frame = decompressor.decompressobj()
            at = start
            try:
                while at < end and not frame.eof:
                    data = fh.read(min(ZSTD_FEED, end - at))
                    if not data:
                        break  # the file shrank under us: cut short all the same
                    at += len(data)
                    if chunk := frame.decompress(data):
                        yield index, chunk
            except zstandard.ZstdError as exc:
                raise CorruptInput(f"zstandard frame cannot be decoded: {exc}", path=path, offset=start) from exc
            if not frame.eof:
                raise CorruptInput("zstandard frame cut short: the file ends inside it", path=path, offset=end)
            # what follows the frame's end inside its range are skippable frames, walked by zstd_frames


def _plain_pieces(path: str, first: int, threads: int) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as fh:
        fh.seek(first * PLAIN_PIECE)
        index = first
        while data := fh.read(PLAIN_PIECE):
            yield index, data
            index += 1


PIECES = {"bz2": _bz2_pieces, "zstd": _zstd_pieces, "xml": _plain_pieces}


def file_header(path: str, fmt: str) -> bytes:
    """The file's text before its first ``<page>``: the root element and the siteinfo."""
    text = b""
    for _, data in PIECES[fmt](path, 0, 1):
        text += data
        at = text.find(_PAGE)
        if at != -1:
            return text[:at]
        if len(text) > 64 << 20:
            break
    raise CorruptInput("no <page> near the start: not a page dump", path=path)


def _unit_text(path: str, fmt: str, header: bytes, first: int, end: int, threads: int) -> Iterator[bytes]:
    """The unit's XML: the file's header, the pages it owns, the closing tag.

    Positions are in T, the text its pieces decode to from piece ``first`` on; ``owned`` is the
    length of the text of its own pieces (first..end-1), known once a later piece (or the end) comes.
    """
    yield header
    keep = len(_END) - 1  # enough to find a tag split across two chunks
    owned = None
    decoded_own = 0
    buffer, position = b"", 0  # buffer is T[position:position + len(buffer)]
    started = False
    for index, data in PIECES[fmt](path, first, threads):
        if index >= end and owned is None:
            owned = decoded_own
        if index < end:
            decoded_own += len(data)
        buffer += data
        if not started:
            at = buffer.find(_PAGE)
            if at == -1:
                dropped = max(0, len(buffer) - keep)
                buffer, position = buffer[dropped:], position + dropped
                if owned is not None and position >= owned:
                    break  # inside one long page: any page from here on is a later unit's
                continue
            if owned is not None and position + at >= owned:
                break  # the first page to begin here is the next unit's: this one owns none
            started = True
            buffer, position = buffer[at:], position + at
        stop = buffer.find(_END)
        if owned is not None:  # the first page beginning past the range is the next unit's
            following = buffer.find(_PAGE, max(0, owned - position))
            if following != -1 and (stop == -1 or following < stop):
                stop = following
        if stop != -1:
            yield buffer[:stop]
            yield _END
            return
        if len(buffer) > keep:
            yield buffer[:-keep]
            buffer, position = buffer[-keep:], position + len(buffer) - keep
    if started:
        closing = buffer.find(_END)
        yield buffer if closing == -1 else buffer[:closing]
    yield _END


class UnitStream(io.RawIOBase):
    """``_unit_text`` as a readable stream counting its bytes, like ``DumpStream``."""

    def __init__(self, path: str, fmt: str, header: bytes, first: int, end: int, threads: int, codec):
        super().__init__()
        self.path = path
        self.codec = codec
        self.bytes_read = 0
        self._chunks = _unit_text(path, fmt, header, first, end, threads)
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = memoryview(chunk)
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        self.bytes_read += count
        return count

    def compressed_offset(self) -> int | None:
        return None

    def position(self) -> int | None:
        return None  # a split unit's progress moves when it ends
