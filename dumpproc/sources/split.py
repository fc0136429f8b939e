"""One unit's share of a large bzip2 file, as a stream of XML that parses on its own.

A unit owns the blocks from one block start to the next unit's; it owns the
pages whose ``<page>`` tag begins in the text those blocks decode to, and reads
on into later blocks to finish its last page. Its stream is: the file's header
(``<mediawiki ...>`` and ``<siteinfo>``, read from the first block), then the
text from its first owned ``<page>`` up to the first ``<page>`` that begins past
its range, then ``</mediawiki>``. ``<page>`` cannot occur inside text (it would be
escaped), so the tag marks page starts exactly. Blocks are decoded on their own
(``bz2blocks.realign``), several at a time on threads: bz2 releases the GIL.
"""

from __future__ import annotations

import bz2
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from ..errors import CorruptInput
from .bz2blocks import block_spans, realign

_PAGE = b"<page>"
_END = b"</mediawiki>"


def plan_ranges(path: str, split_size: int) -> list[tuple[int, int]]:
    """(first block, end block) index ranges of about ``split_size`` compressed bytes each."""
    spans = block_spans(path)
    if not spans:
        return []
    ranges, first = [], 0
    for i, (start, _) in enumerate(spans):
        if i > first and (start - spans[first][0]) // 8 >= split_size:
            ranges.append((first, i))
            first = i
    ranges.append((first, len(spans)))
    return ranges


def _decoded_blocks(path: str, spans: list[tuple[int, int]], threads: int) -> Iterator[bytes]:
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
        while pending:
            data = pending.pop(0).result()
            if following < len(spans):
                pending.append(pool.submit(decode, spans[following]))
                following += 1
            yield data


def file_header(path: str, spans: list[tuple[int, int]]) -> bytes:
    """The file's text before its first ``<page>``: the root element and the siteinfo."""
    text = b""
    for data in _decoded_blocks(path, spans[:8], 1):
        text += data
        at = text.find(_PAGE)
        if at != -1:
            return text[:at]
    raise CorruptInput("no <page> in the first blocks: not a page dump", path=path)


def _unit_text(path: str, first: int, end: int, threads: int) -> Iterator[bytes]:
    """The unit's XML: the file's header, the pages it owns, the closing tag.

    Positions are in T, the text its blocks decode to from block ``first`` on; ``owned`` is the
    length of the text of its own blocks (first..end-1), known once the last of them is decoded.
    """
    spans = block_spans(path)
    yield file_header(path, spans)
    keep = len(_END) - 1  # enough to find a tag split across two blocks
    owned = None
    decoded_own = 0
    buffer, position = b"", 0  # buffer is T[position:position + len(buffer)]
    started = False
    for index, data in enumerate(_decoded_blocks(path, spans[first:], threads), start=first):
        if index < end:
            decoded_own += len(data)
            if index == end - 1:
                owned = decoded_own
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

    def __init__(self, path: str, first: int, end: int, threads: int, codec):
        super().__init__()
        self.path = path
        self.codec = codec
        self.bytes_read = 0
        self._chunks = _unit_text(path, first, end, threads)
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
