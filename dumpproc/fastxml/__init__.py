"""The compiled reader of MediaWiki's XML (issue 16): blocks of decompressed bytes to fields.

Work in progress, not yet a registered reader (``parse.readers``): see
``docs/fast-reader-plan.md``. What is here:

- ``scan``: the numba kernel that finds pages, revisions and their fields in a block of bytes,
  decodes them as XML reads them, and signals a fallback on anything MediaWiki does not write;
- ``blocks``: feeding it a stream block by block, carrying the bytes after the last boundary;
- ``rows``: its field table turned into the raw records ``parse.normalise`` checks, so that
  the values, slot and size rules are the lxml reader's own.
"""

from __future__ import annotations


class Fallback(Exception):
    """What the fast reader meets is outside what it reads: the unit is the lxml reader's.

    ``offset`` is the XML byte where it was met (the lxml reader places any error itself).
    """

    def __init__(self, reason: str, offset: int | None = None):
        super().__init__(f"{reason} at XML byte {offset}" if offset is not None else reason)
        self.reason = reason
        self.offset = offset
