"""The compiled reader of MediaWiki's XML (issue 16): blocks of decompressed bytes to fields.

Registered as the ``fast`` reader (``parse.readers``); ``--parser auto`` (the default) reads a
unit with it and, where it raises ``Fallback``, reads the unit again with lxml
(``pipeline.unit``). What is here:

- ``scan``: the numba kernel that finds pages, revisions and their fields in a block of bytes,
  decodes them as XML reads them, and signals a fallback on anything MediaWiki does not write;
- ``blocks``: feeding it a stream block by block, carrying the bytes after the last boundary;
- ``rows``: its field table turned into the raw records ``parse.normalise`` checks, so that
  the values, slot and size rules are the lxml reader's own;
- ``reader``: ``FastDump``, the reader interface over them.
"""

from __future__ import annotations

from ..errors import DumpError


class Fallback(DumpError):
    """What the fast reader meets is outside what it reads: the unit is the lxml reader's.

    ``reason`` says what it met, ``uncompressed_offset`` the XML byte where (None: not known).
    Under ``--parser auto`` the unit is read again with lxml, which places any error itself; under
    ``--parser fast`` it fails the unit, naming the file and the byte.
    """

    def __init__(self, reason: str, offset: int | None = None, path: str | None = None):
        super().__init__(f"the fast reader does not read this: {reason} (--parser auto or lxml reads it)",
                         path=path, uncompressed_offset=offset)
        self.reason = reason
