"""A raw stream over another one, which closing it closes too."""

from __future__ import annotations

import io
from typing import BinaryIO


class OverSource(io.RawIOBase):
    """Base of the codec wrappers: ``_source`` is the stream read from; ``close`` closes it, then this."""

    _source: BinaryIO

    def close(self) -> None:
        if not self.closed:
            try:
                self._source.close()
            finally:
                super().close()
