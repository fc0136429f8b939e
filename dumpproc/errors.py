"""The project's one error hierarchy.

Every error about input carries where it happened: the file, the compressed and
uncompressed byte offsets where known, and the page and revision ids where
known, so that the message alone lets a user find the spot. The command line
turns these into one line and an exit code (see ``cli``); library callers catch
``DumpError``.
"""

from __future__ import annotations


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
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset
        self.uncompressed_offset = uncompressed_offset
        self.page_id = page_id
        self.revision_id = revision_id
        self.line = line

    def where(self) -> str:
        """Where the error happened, as ``file, offsets, ids``."""
        parts = []
        if self.path is not None:
            parts.append(str(self.path))
        if self.offset is not None:
            parts.append(f"compressed byte {self.offset}")
        if self.uncompressed_offset is not None:
            parts.append(f"XML byte {self.uncompressed_offset}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.page_id is not None:
            parts.append(f"page {self.page_id}")
        if self.revision_id is not None:
            parts.append(f"revision {self.revision_id}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


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
