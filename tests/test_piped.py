"""Piped inputs (standard input, FIFOs): the codec from the first bytes without seeking, read once, front to back.

Every test reads through a real FIFO or pipe that a writer thread (or a forked
process) fills: a pipe hands out what has been written so far, never seeks, and
ends when its writer closes it.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import multiprocessing
import os
import shutil
import subprocess
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

import pytest
import zstandard

from conftest import FIXTURES, SAMPLE
from dumpproc.errors import CorruptInput, InputNotSeekable, UnsupportedFormat
from dumpproc.parse import Dump
from dumpproc.sources import open_dump
from dumpproc.sources.piped import PipedInput, input_name, is_piped, is_stdin, open_piped, read_head

XML = bz2.decompress(SAMPLE.read_bytes())


@contextmanager
def fifo_fed(folder, payload: bytes, name: str = "feed"):
    """A FIFO in ``folder`` that a thread writes ``payload`` into once a reader opens it."""
    path = folder / name
    os.mkfifo(path)

    def write():
        try:
            with open(path, "wb") as fh:  # waits for a reader
                fh.write(payload)
        except BrokenPipeError:  # the reader stopped early, as a 7z refusal does
            pass

    writer = threading.Thread(target=write, name="fifo-writer", daemon=True)
    writer.start()
    try:
        yield str(path)
    finally:
        if writer.is_alive():
            # No reader came, or it left before the end: a reader that opens and closes at once
            # lets the writer's open return and its write fail, so the thread always ends.
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        writer.join()


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


# variant -> (codec, bytes to pipe in, bz2 backend)
VARIANTS = {
    "plain": ("xml", lambda: XML, None),
    "bz2-lbzip2": ("bz2", SAMPLE.read_bytes, "lbzip2"),
    "bz2-in-process": ("bz2", SAMPLE.read_bytes, "indexed_bzip2"),
    "bz2-multistream": ("bz2", lambda: b"".join(bz2.compress(XML[i:i + 300_000])
                                                for i in range(0, len(XML), 300_000)), "indexed_bzip2"),
    "gzip": ("gzip", lambda: gzip.compress(XML, mtime=0), None),
    "xz": ("xz", lambda: lzma.compress(XML, format=lzma.FORMAT_XZ), None),
    "zstd": ("zstd", lambda: _zstd(XML), None),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_codec_through_a_fifo_gives_the_file_s_xml(variant, tmp_path, monkeypatch):
    name, make, backend = VARIANTS[variant]
    if backend == "lbzip2" and not shutil.which("lbzip2"):
        pytest.skip("lbzip2 is not installed here (.ci/run installs it)")
    if backend:
        monkeypatch.setenv("DUMPPROC_BZ2_BACKENDS", backend)
    payload = make()
    with fifo_fed(tmp_path, payload) as fifo:
        with open_dump(fifo, 2) as stream:
            assert stream.codec.name == name and stream.path == fifo
            data = stream.read()
            assert stream.position() == len(payload)  # all of the pipe, its first bytes included
            assert stream.compressed_offset() == (None if name == "xml" else len(payload))
    assert data == XML and stream.bytes_read == len(XML)


def test_the_first_bytes_are_read_again_after_short_reads():
    pieces = iter([b"B", b"Z", b"h9", b"1AY&SY", b"more than asked for"])
    asked = []

    def read(count):
        asked.append(count)
        return next(pieces)[:count]

    assert read_head(read, 10) == b"BZh91AY&SY"
    assert asked == [10, 9, 8, 6]  # it asks only for what is missing
    ended = iter([b"<m", b""])
    assert read_head(lambda count: next(ended), 16) == b"<m"  # the input ended early


def test_names_of_standard_input_and_what_counts_as_piped(tmp_path):
    assert all(is_stdin(name) and is_piped(name) for name in ("-", "/dev/stdin", "/dev/fd/0"))
    assert input_name("/dev/stdin") == "-" and input_name("x.xml") == "x.xml"
    plain = tmp_path / "dump.xml"
    plain.write_bytes(XML)
    os.mkfifo(tmp_path / "fifo")
    assert is_piped(str(tmp_path / "fifo"))
    assert not is_piped(str(plain)) and not is_piped(str(tmp_path)) and not is_piped(str(tmp_path / "nope"))


def test_a_7z_through_a_pipe_is_refused_with_what_to_do_instead(tmp_path):
    with fifo_fed(tmp_path, (FIXTURES / "codecs" / "sample.xml.7z").read_bytes()) as fifo:
        with pytest.raises(InputNotSeekable) as caught:
            open_dump(fifo)
    message = str(caught.value)
    assert fifo in message and "needs seeking" in message and "7zz e -so" in message


def test_an_empty_pipe_is_an_empty_input(tmp_path):
    with fifo_fed(tmp_path, b"") as fifo:
        with pytest.raises(UnsupportedFormat, match="input is empty"):
            open_dump(fifo)


def test_a_truncated_bz2_through_a_pipe_names_the_input(tmp_path, monkeypatch):
    monkeypatch.setenv("DUMPPROC_BZ2_BACKENDS", "indexed_bzip2")  # in-process; lbzip2's failure is tested above
    whole = SAMPLE.read_bytes()
    with fifo_fed(tmp_path, whole[: len(whole) // 2]) as fifo:
        with pytest.raises(CorruptInput) as caught:
            with open_dump(fifo) as stream:
                while stream.read(1 << 16):
                    pass
    assert caught.value.path == fifo and caught.value.uncompressed_offset is not None


def test_an_opened_input_keeps_its_descriptor_for_the_run(tmp_path):
    """Each stream reads its own copy of the descriptor; the one who opened it closes the original."""
    with fifo_fed(tmp_path, SAMPLE.read_bytes()) as fifo:
        piped = open_piped(fifo)
        assert piped.head == SAMPLE.read_bytes()[:16]
        with open_dump(piped) as stream:
            pages = sum(1 for _ in Dump(stream).pages())
        os.fstat(piped.fd)  # still open
        piped.close()
    assert pages == 40
    with pytest.raises(OSError):
        os.fstat(piped.fd)


def _digest_in_worker(piped: PipedInput) -> tuple[str, int]:
    with open_dump(piped) as stream:
        return hashlib.sha1(stream.read()).hexdigest(), os.getpid()


def test_a_forked_worker_reads_the_input_its_parent_opened(tmp_path):
    """As the local engine's pool does: the descriptor is inherited, the first bytes travel with the unit.

    The writer is another process, as a shell pipeline's is: a writer thread's end of the
    FIFO would be inherited by the forked worker too, and the worker would never see the end.
    """
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", 'exec cat "$1" > "$2"', "sh", str(SAMPLE), str(fifo)])
    try:
        piped = open_piped(str(fifo))
        try:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
                digest, pid = pool.submit(_digest_in_worker, piped).result()
        finally:
            piped.close()
    finally:
        if writer.poll() is None:  # not read to the end: let its open return and its write fail
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.wait()
    assert pid != os.getpid() and digest == hashlib.sha1(XML).hexdigest()
