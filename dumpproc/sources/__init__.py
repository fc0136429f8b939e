"""Find and open inputs: dump files, folders and Wikimedia dump trees, in every codec.

- ``codecs``: the registry of decompressors, chosen by a file's first bytes;
- ``external``: external decompressor programs as streams;
- ``sevenzip``, ``xzstreams``, ``zstdframes``: what a codec's library leaves unsaid (a 7z member's bad
  CRC, bytes after the last xz stream, a zstandard frame cut short), said;
- ``stream``: ``open_dump``, one stream of XML bytes that counts its offsets;
- ``piped``: standard input (``-``) and FIFOs, read once, front to back, without seeking;
- ``layout``: folders, ``ROOT/<wiki>/<date>/`` trees, ``dumpstatus.json`` and checksums.
"""

from .codecs import CODECS, Codec, codec
from .stream import DumpStream, detect_codec, open_dump

__all__ = ["CODECS", "Codec", "codec", "DumpStream", "detect_codec", "open_dump"]
