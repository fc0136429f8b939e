"""Read the standard output of an external decompressor as a stream.

The program's stderr is captured (into a temporary file, so a chatty program
can never block on a full pipe) and its exit status checked when its output
ends or the stream is closed early; a failure is raised as the project's
``CorruptInput`` with what the program said. The pipe is enlarged to 1 MiB so
that reading it costs few system calls: with ``lbzip2 -dc`` this reads the
Anarchism history within 2-3 % of lbzip2 writing to /dev/null.

A program reads its input from a file on its stdin (``feed_file``), or from a
stream that a thread copies onto its stdin (``feed``: standard input or a FIFO,
whose first bytes were already read to recognise the codec and are handed out
again by the stream).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import threading
from typing import BinaryIO

from ..errors import CorruptInput

_F_SETPIPE_SZ = 1031  # Linux fcntl: set a pipe's capacity
PIPE_BYTES = 1 << 20


def which(*names: str) -> str | None:
    """The first of ``names`` found on PATH."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


class ProgramStream(io.RawIOBase):
    """The stdout of ``argv`` as a raw binary stream; errors name ``path`` and the program.

    With ``feed`` the program's stdin is a pipe that a thread fills from ``feed``,
    which then belongs to this stream (the thread closes it when it is done).
    ``codec`` names the format in errors ("bz2 stream is damaged: lbzip2 exited ...").
    """

    def __init__(self, argv: list[str], path: str, feed_file: bool = False, feed: BinaryIO | None = None,
                 codec: str | None = None, hide: dict[str, str] | None = None):
        super().__init__()
        self.argv = argv
        self.path = path
        self.codec = codec
        #: texts of the input the program may quote (a 7z member's name), and what to say instead:
        #: an error never copies the input's own text (``errors``)
        self.hide = hide or {}
        # With feed_file the program reads the file on its standard input: the open file is shared,
        # so its offset is how far the program has read (compressed_offset).
        self._input = open(path, "rb") if feed_file else None
        self._stderr = tempfile.TemporaryFile()
        read_end, write_end = os.pipe()
        try:
            import fcntl

            fcntl.fcntl(read_end, _F_SETPIPE_SZ, PIPE_BYTES)
        except (ImportError, OSError):  # not Linux, or capped by /proc/sys/fs/pipe-max-size
            pass
        try:
            if feed is not None:
                stdin = subprocess.PIPE
            else:
                stdin = self._input if self._input is not None else subprocess.DEVNULL
            self._process = subprocess.Popen(
                argv, stdin=stdin, stdout=write_end, stderr=self._stderr, close_fds=True,
                # its own process group: a Ctrl-C at the terminal reaches dumpproc, which stops at a
                # safe point and closes this stream, instead of killing the decompressor mid-unit
                process_group=0,
            )
        except OSError as exc:
            os.close(read_end)
            if feed is not None:
                feed.close()
            raise CorruptInput(f"cannot run {argv[0]}: {exc.strerror}", path=path) from exc
        finally:
            os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb", buffering=0)
        self._finished = False
        self._fed = 0
        self._feed_error: OSError | None = None
        if feed is not None:
            threading.Thread(target=self._feed, args=(feed, self._process.stdin), name="dumpproc-feed",
                             daemon=True).start()

    def _feed(self, source: BinaryIO, sink) -> None:
        """Copy ``source`` onto the program's stdin until it ends or the program stops reading."""
        try:
            while chunk := source.read(PIPE_BYTES):
                sink.write(chunk)
                self._fed += len(chunk)
        except BrokenPipeError:
            pass  # the program exited (it says why) or was stopped by close()
        except (OSError, ValueError) as exc:  # the stream itself failed: the program sees a truncated input
            self._feed_error = exc if isinstance(exc, OSError) else OSError(str(exc))
        finally:
            for end in (sink, source):
                try:
                    end.close()
                except OSError:
                    pass

    def readable(self) -> bool:
        return True

    def compressed_offset(self) -> int | None:
        """How far the program has read its input, where it reads it from our descriptor or our feed."""
        if self._process.stdin is not None:
            return self._fed
        if self._input is None or self._input.closed:
            return None
        return os.lseek(self._input.fileno(), 0, os.SEEK_CUR)

    def readinto(self, buffer) -> int:
        count = self._pipe.readinto(buffer)
        if not count and not self._finished:
            self._check()
        return count or 0

    def _check(self) -> None:
        self._finished = True
        status = self._process.wait()
        if self._feed_error is not None:
            raise CorruptInput(f"reading the input failed: {self._feed_error}", path=self.path, offset=self._fed)
        if status != 0:
            self._stderr.seek(0)
            said = self._stderr.read().decode("utf-8", "replace").strip().replace("\n", " | ")
            for text, instead in self.hide.items():
                said = said.replace(text, instead)
            prefix = f"{self.codec} stream is damaged: " if self.codec else ""
            raise CorruptInput(
                f"{prefix}{os.path.basename(self.argv[0])} exited with status {status}: {said or 'no message'}",
                path=self.path,
            )

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._finished and self._process.poll() is None:
                self._process.kill()  # closed before the end: nothing more is wanted
                self._process.wait()
                self._finished = True
            self._pipe.close()
        finally:
            self._stderr.close()
            if self._input is not None:
                self._input.close()
            super().close()


def program_stream(argv: list[str], path: str, feed_file: bool = False, feed: BinaryIO | None = None,
                   codec: str | None = None, hide: dict[str, str] | None = None) -> io.BufferedReader:
    """A buffered stream of the program's output, reading ``path`` (``feed_file``) or ``feed`` on its stdin."""
    return io.BufferedReader(ProgramStream(argv, path, feed_file, feed, codec, hide), PIPE_BYTES)
