"""``dumpproc inspect``: what a dump file holds, read in one streaming pass.

``-`` (standard input) or a FIFO is inspected the same way; its compressed size
is then what was read from it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from .parse.readers import open_reader
from .stats import timestamp_us
from .units import wiki_db
from .sources import open_dump
from .sources.piped import input_name, is_piped


@dataclass
class Inspection:
    """A dump file's summary."""

    path: str
    codec: str
    compressed_bytes: int | None
    xml_bytes: int = 0
    schema_version: str | None = None
    wiki: str | None = None
    sitename: str | None = None
    namespaces: dict[int, str] = field(default_factory=dict)
    pages: int = 0
    revisions: int = 0
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    largest_revision: dict | None = None
    unknown_elements: dict[str, int] = field(default_factory=dict)
    #: read from a pipe (``-``, a FIFO): ``compressed_bytes`` is then what came down it
    piped: bool = False

    def as_dict(self) -> dict:
        data = asdict(self)
        data["namespaces"] = {str(k): v for k, v in self.namespaces.items()}
        return data

    def as_text(self) -> str:
        where = "read from the pipe" if self.piped else "on disk"
        stored = f"{self.compressed_bytes:,}" if self.compressed_bytes is not None else "unknown"
        lines = [
            f"file            {self.path}",
            f"codec           {self.codec} ({stored} bytes {where}, {self.xml_bytes:,} bytes of XML)",
            f"schema          {self.schema_version or 'unknown'}",
            f"wiki            {self.wiki}" + (f" ({self.sitename})" if self.sitename else ""),
            f"namespaces      {len(self.namespaces)}: "
            + ", ".join(f"{k}={v or '(main)'}" for k, v in sorted(self.namespaces.items())),
            f"pages           {self.pages:,}",
            f"revisions       {self.revisions:,}",
            f"first edit      {self.first_timestamp}",
            f"last edit       {self.last_timestamp}",
        ]
        if self.largest_revision:
            big = self.largest_revision
            lines.append(
                f"largest         revision {big['revision_id']} of page {big['page_id']} "
                f"({big['page_title']!r}): {big['bytes']:,} bytes"
            )
        if self.unknown_elements:
            lines.append(
                "unknown         " + ", ".join(f"{k} x{v}" for k, v in sorted(self.unknown_elements.items()))
            )
        return "\n".join(lines)


def inspect_dump(path: str, threads: int = 1) -> Inspection:
    """Stream through ``path`` (a file, ``-`` or a FIFO) and summarise it."""
    piped = is_piped(path)
    path = input_name(path)
    with open_dump(path, threads) as stream:
        dump = open_reader("lxml", stream, path)
        site = dump.site_info
        result = Inspection(
            path=path,
            codec=stream.codec.name,
            compressed_bytes=None if piped else os.path.getsize(path),
            piped=piped,
            schema_version=site.schema_version,
            wiki=wiki_db(site, path)[0],
            sitename=site.sitename,
            namespaces=dict(site.namespaces),
        )
        first = last = None
        first_us = last_us = 0
        largest = -1
        for page in dump.pages():
            for revision in page:
                # as instants: the text of one with a fraction of a second sorts before the same second without
                stamp, moment = revision.timestamp, timestamp_us(revision.timestamp)
                if first is None or moment < first_us:
                    first, first_us = stamp, moment
                if last is None or moment > last_us:
                    last, last_us = stamp, moment
                size = revision.text_bytes or 0
                if size > largest:
                    largest = size
                    result.largest_revision = {
                        "revision_id": revision.id,
                        "page_id": page.id,
                        "page_title": page.title,
                        "bytes": size,
                    }
        result.pages = dump.page_count
        result.revisions = dump.revision_count
        result.first_timestamp, result.last_timestamp = first, last
        result.unknown_elements = dict(dump.unknown_elements)
        result.xml_bytes = stream.bytes_read
        if piped:
            result.compressed_bytes = stream.position()
    return result
