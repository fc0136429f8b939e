"""One unit's share of a large file, as a stream of XML that parses on its own.

A file that can be cut is a run of *pieces* that decode on their own: bzip2
blocks (found by scanning the compressed bits, ``bz2blocks``), zstandard frames
(walked from their headers, without decoding), or fixed-size byte ranges of a
plain UTF-8 file. A unit owns a run of pieces; it owns the pages whose
``<page>`` tag begins in the text those pieces decode to, and reads on into
later pieces to finish its last page. Its stream is: the file's header
(``<mediawiki ...>`` and ``<siteinfo>``, read once when the units are planned),
then the text from its first owned ``<page>`` up to the first ``<page>`` that
begins past its range, then ``</mediawiki>``; the unit whose last page is the
file's reads the file's own end instead, to its last byte, so that a file cut
short fails there. ``<page>`` cannot occur inside text (it would be escaped),
so the tag marks page starts exactly. A unit begins only at a bzip2 block that
parsing confirmed (``bz2pieces``): a block magic can occur by chance inside a block.

A single-frame zstandard file, and a UTF-16 file, have one piece: they are
read whole.
"""

from __future__ import annotations

import io
import os
from typing import Callable, Iterator

from ..errors import CorruptInput, MalformedXML
from .bz2pieces import Confirmer, bz2_pieces
from .bz2pieces import piece_spans as bz2_spans

_PAGE = b"<page>"
_END = b"</mediawiki>"
_BLANK = b" \t\r\n"  # XML's whitespace
_NOTHING = b"<mediawiki><siteinfo/></mediawiki>"
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
        return [(start // 8, (end + 7) // 8) for start, end in bz2_spans(path)]
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


def split_points(path: str, fmt: str) -> Callable[[int], bool]:
    """Whether a unit may begin at a piece: for bzip2, only at a block confirmed by parsing
    (``bz2pieces.Confirmer``); frames walked from their headers and plain byte ranges always."""
    return Confirmer(path) if fmt == "bz2" else (lambda piece: True)


def plan_ranges(spans: list[tuple[int, int]], split_size: int,
                confirmed: Callable[[int], bool] = lambda piece: True) -> list[tuple[int, int]]:
    """(first piece, end piece) index ranges of about ``split_size`` bytes each.

    A range ends only before a piece that is ``confirmed``; where one is not, the next is asked,
    so that only the pieces a range would end before are confirmed.
    """
    if not spans:
        return []
    ranges, first = [], 0
    for i, (start, _) in enumerate(spans):
        if i > first and start - spans[first][0] >= split_size and confirmed(i):
            ranges.append((first, i))
            first = i
    ranges.append((first, len(spans)))
    return ranges


# -- decoding pieces -------------------------------------------------------------------------
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


PIECES = {"bz2": bz2_pieces, "zstd": _zstd_pieces, "xml": _plain_pieces}


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


class _Places:
    """Where a unit's text came from, to name a place in it as the file's: ``locate``.

    The text is the file's header (the file's own first bytes), then T from the unit's first
    ``<page>`` (``page_start``), whose pieces begin at the T positions in ``starts``, then a closing
    tag of the unit's own. A compressed piece's text cannot be placed among the file's XML bytes
    without decoding every piece before it, so a place past the header is named by the compressed
    byte of the piece it is in, and by the XML byte and line counted from the unit's first page.
    """

    def __init__(self, path: str, fmt: str, first: int):
        self.path, self.fmt, self.first = path, fmt, first
        self.header = self.header_lines = 0
        self.page_start: int | None = None
        self.starts: list[tuple[int, int]] = []  # (T position, piece index), in order
        self.decoded = 0  # T bytes seen

    def piece(self, index: int, length: int) -> None:
        if not self.starts or self.starts[-1][1] != index:
            self.starts.append((self.decoded, index))
        self.decoded += length

    def locate(self, at: int | None, line: int | None) -> dict:
        """The error fields (offset, uncompressed_offset, line, origin) of the unit text's byte ``at``
        on its ``line``."""
        if at is None or self.page_start is None or at < self.header:  # the header: the file's own place
            return {"offset": 0 if self.fmt != "xml" and at is not None else None, "uncompressed_offset": at,
                    "line": line}
        relative = at - self.header
        position = min(self.page_start + relative, max(self.decoded - 1, self.page_start))
        index = next((i for start, i in reversed(self.starts) if start <= position), self.first)
        line = None if line is None else line - self.header_lines
        if self.fmt == "xml":  # a plain file's XML bytes are its bytes: only the line is the unit's
            base = self.first * PLAIN_PIECE
            return {"offset": None, "uncompressed_offset": base + position, "line": line,
                    "origin": {"uncompressed_offset": base + self.page_start}}
        spans = piece_spans(self.path, self.fmt)
        first_piece = next((i for start, i in reversed(self.starts) if start <= self.page_start), self.first)
        return {"offset": spans[index][0], "uncompressed_offset": relative, "line": line,
                "origin": {"offset": spans[first_piece][0]}}


def _unit_text(path: str, fmt: str, header: bytes, first: int, end: int, threads: int,
               places: _Places | None = None) -> Iterator[bytes]:
    """The unit's XML: the file's header, the pages it owns, the closing tag.

    Positions are in T, the text its pieces decode to from piece ``first`` on; ``owned`` is the
    length of the text of its own pieces (first..end-1), known once a later piece (or the end) comes.
    A unit whose last page is followed by a later unit's ``<page>`` closes its text itself; the one
    whose last page is the file's hands on the file's own end and reads on to its last byte.
    """
    places = places if places is not None else _Places(path, fmt, first)
    if header.strip(_BLANK):  # a file of page runs without the root has none: its units are page runs too
        places.header, places.header_lines = len(header), header.count(b"\n")
        yield header
    keep = len(_END) - 1  # enough to find a tag split across two chunks
    owned = None
    decoded_own = 0
    buffer, position = b"", 0  # buffer is T[position:position + len(buffer)]
    started = False
    pieces = PIECES[fmt](path, first, threads)
    for index, data in pieces:
        if index >= end and owned is None:
            owned = decoded_own
        if index < end:
            decoded_own += len(data)
        places.piece(index, len(data))
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
            places.page_start = position
        closing = buffer.find(_END)
        # the first page beginning past the range is the next unit's
        following = buffer.find(_PAGE, max(0, owned - position)) if owned is not None else -1
        if following != -1 and (closing == -1 or following < closing):
            yield buffer[:following]
            yield _END
            return
        if closing != -1:
            yield buffer[:closing + len(_END)]
            after = closing + len(_END)
            start = first * PLAIN_PIECE if fmt == "xml" else 0  # plain XML: T's place in the file
            _read_to_the_end(path, fmt, buffer[after:], index, start + position + after, pieces)
            return
        if len(buffer) > keep:
            yield buffer[:-keep]
            buffer, position = buffer[-keep:], position + len(buffer) - keep
    if started:  # the pieces ran out inside the document
        yield buffer
        if header.strip(_BLANK):
            raise MalformedXML("the file ends before </mediawiki>: it is cut short", path=path,
                               **_end_offsets(path, fmt))
        return  # page runs without the root need no closing tag, read whole or split
    # owns no page: the header alone, or, for a file without one, an export with nothing in it
    yield _END if header.strip(_BLANK) else _NOTHING


def _read_to_the_end(path: str, fmt: str, rest: bytes, index: int, at: int,
                     pieces: Iterator[tuple[int, bytes]]) -> None:
    """After the file's ``</mediawiki>``: whitespace only, up to the end of the last piece.

    ``rest`` is the text after the tag in piece ``index``; ``at`` is the XML byte it begins at, for
    plain XML (a compressed file's fault is named by its piece's first byte). Reading every piece to
    its end is what lets the decoder check the codec's own end (bzip2's end-of-stream marker and
    combined CRC, zstandard's last frame whole) in the unit that holds it.
    """
    while True:
        if rest.strip(_BLANK):
            at += len(rest) - len(rest.lstrip(_BLANK))
            where = ({"uncompressed_offset": at} if fmt == "xml"
                     else {"offset": piece_spans(path, fmt)[index][0]})
            raise MalformedXML("text after </mediawiki>, the end of the document", path=path, **where)
        at += len(rest)
        found = next(pieces, None)
        if found is None:
            return
        index, rest = found


def _end_offsets(path: str, fmt: str) -> dict:
    """Where a file ends, as an error names it: plain XML by its XML byte, others by the compressed byte."""
    size = os.path.getsize(path)
    return {"uncompressed_offset": size} if fmt == "xml" else {"offset": size}


class UnitStream(io.RawIOBase):
    """``_unit_text`` as a readable stream counting its bytes, like ``DumpStream``."""

    def __init__(self, path: str, fmt: str, header: bytes, first: int, end: int, threads: int, codec):
        super().__init__()
        self.path = path
        self.codec = codec
        self.bytes_read = 0
        self._places = _Places(path, fmt, first)
        self._chunks = _unit_text(path, fmt, header, first, end, threads, self._places)
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

    def locate(self, at: int | None, line: int | None) -> dict:
        """A place in this unit's text as an error names it in the file (``_Places.locate``)."""
        return self._places.locate(at, line)

    def position(self) -> int | None:
        return None  # a split unit's progress moves when it ends
