"""The project's one error hierarchy.

Every error about input carries where it happened: the file, the compressed and
uncompressed byte offsets where known, and the page and revision ids where
known, so that the message alone lets a user find the spot. The command line
turns these into one line and an exit code (see ``cli``); library callers catch
``DumpError``.

``str()`` of an error is always one line of at most ``MESSAGE_LIMIT`` characters
of message (and ``PATH_LIMIT`` of path): newlines and other control characters
are escaped, longer texts end in an ellipsis. That line goes to stderr, the
manifest, logs and the report, so what an error says must never copy the
input's own text (a title, a user name, an IP address): messages describe the
fault and give its place, they do not quote it.
"""

from __future__ import annotations

import re

#: The most characters of message, and of path, that an error's line carries.
MESSAGE_LIMIT = 500
PATH_LIMIT = 300
ELLIPSIS = "\u2026"
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything that would
# break the line or move the terminal's cursor
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def one_line(text: str, limit: int = MESSAGE_LIMIT, keep_end: bool = False) -> str:
    """``text`` with control characters escaped, cut to ``limit`` characters with an ellipsis
    (at the start when ``keep_end``: a path's file name is its end)."""
    text = _CONTROL.sub(_escape, str(text))
    if len(text) <= limit:
        return text
    return ELLIPSIS + text[-(limit - 1):] if keep_end else text[:limit - 1] + ELLIPSIS


class DumpError(Exception):
    """Base class of every error dumpproc raises about its inputs or outputs."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        offset: int | None = None,
        uncompressed_offset: int | None = None,
        page_id: int | None = None,
        revision_id: int | None = None,
        line: int | None = None,
        origin: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset
        self.uncompressed_offset = uncompressed_offset
        self.page_id = page_id
        self.revision_id = revision_id
        self.line = line
        #: where the line (and, for a compressed file, the XML byte) is counted from, when not from
        #: the file's start: a split unit's first ``<page>``, at ``{"offset": compressed byte}`` or
        #: ``{"uncompressed_offset": XML byte}`` (plain XML, whose XML byte is then the file's own)
        self.origin = origin

    def where(self) -> str:
        """Where the error happened, as ``file, offsets, ids``."""
        parts = []
        if self.path is not None:
            parts.append(one_line(self.path, PATH_LIMIT, keep_end=True))
        if self.offset is not None:
            parts.append(f"compressed byte {self.offset}")
        origin = self.origin or {}
        since = ""
        if "offset" in origin:
            since = f" from the unit's first <page> (compressed byte {origin['offset']})"
        elif "uncompressed_offset" in origin:
            since = f" from the unit's first <page> (XML byte {origin['uncompressed_offset']})"
        if "offset" in origin and self.uncompressed_offset is not None and self.line is not None:
            parts.append(f"XML byte {self.uncompressed_offset} and line {self.line}{since}")
        else:
            if self.uncompressed_offset is not None:
                parts.append(f"XML byte {self.uncompressed_offset}" + (since if "offset" in origin else ""))
            if self.line is not None:
                parts.append(f"line {self.line}{since}")
        if self.page_id is not None:
            parts.append(f"page {self.page_id}")
        if self.revision_id is not None:
            parts.append(f"revision {self.revision_id}")
        return ", ".join(parts)

    def __str__(self) -> str:
        """One line: where, then the message, escaped and bounded (see the module's docstring)."""
        where = self.where()
        message = one_line(self.message)
        return f"{where}: {message}" if where else message


class InputNotFound(DumpError):
    """An input path that does not exist or cannot be opened at all (usage error)."""


class InputNotSeekable(InputNotFound):
    """A stream (standard input, a FIFO) in a format that can only be read from a file, such as 7z (usage error)."""


class UnsupportedFormat(DumpError):
    """The file's first bytes match no registered codec, or it is empty."""


class MissingDependency(DumpError):
    """An optional library or program that the asked-for work needs is not installed."""


def install_hint(extra: str) -> str:
    """How to install one of dumpproc's extras, from PyPI and from a checkout of the repository."""
    return f"pip install 'dumpproc[{extra}]' (in a checkout: pip install -e '.[{extra}]')"


class MissingCodecLibrary(MissingDependency):
    """A codec's optional library or program is not installed."""


class CorruptInput(DumpError):
    """A compressed stream that is truncated or damaged."""


class MalformedXML(DumpError):
    """XML that is not well-formed, or a dump element missing what it must have."""


class OutputError(DumpError):
    """The output folder cannot be written (full, read-only, ...)."""


class IncompleteDump(DumpError):
    """A dump whose ``dumpstatus.json`` does not say its job is done (usage error)."""


class ChecksumMismatch(DumpError):
    """A file that does not match the md5 or sha1 the dump lists for it."""
