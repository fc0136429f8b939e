"""Where numba caches dumpproc's compiled kernels, and telling the user when they are compiled.

numba's default cache sits beside the source, in ``dumpproc/diff/__pycache__``.
For an installed (non-editable) package that is inside ``site-packages``, where
it outlives the package: a later ``pip install -e .`` removes the package's
files but not numba's, and the folder left behind shadows the package. So the
kernels are cached per user instead, in ``$DUMPPROC_CACHE_DIR/kernels`` when
set, else ``$XDG_CACHE_HOME/dumpproc/kernels``, else
``~/.cache/dumpproc/kernels`` (a private temporary folder if none of these can
be written). ``configure`` runs when the package is imported, before any
module that defines a kernel; a ``NUMBA_CACHE_DIR`` the user set is respected.

numba keys each cached kernel on its own source file only: a kernel that calls
one in another file (``diff.pairs`` calls ``diff.lines`` and ``diff.tokens``)
would be loaded stale, the callee's old code compiled in, after that other file
changed. So the folder is one per version of the kernels' sources,
``kernels/<digest>``, the digest taken over the files of ``KERNEL_SOURCES`` that import numba.

Compiling takes about half a minute, once per installation; ``announce``
says so on the first run instead of leaving the user in silence.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from typing import Callable

#: What the user is told while the kernels compile.
COMPILING = "compiling kernels, first run only (about 30 s)"

#: The package's files and folders (their ``.py`` files) that define or call compiled kernels.
KERNEL_SOURCES = ("compiled.py", "unaligned.py", "columnar.py", "diff", "fastxml", os.path.join("sources", "bz2blocks.py"))

#: What marks a file that holds kernels (or builds them): it imports numba or ``compiled``'s decorators.
_IMPORTS_NUMBA = re.compile(rb"^[ \t]*(?:from|import)[ \t]+(?:numba\b|\.+compiled[ \t]+import\b)", re.MULTILINE)

_notify: Callable[[str], None] | None = None
_announced = False


def cache_root() -> str:
    """dumpproc's per-user cache folder (``DUMPPROC_CACHE_DIR``, ``XDG_CACHE_HOME``, ``~/.cache``)."""
    given = os.environ.get("DUMPPROC_CACHE_DIR")
    if given:
        return os.path.abspath(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dumpproc")


def _writable(folder: str) -> bool:
    try:
        os.makedirs(os.path.dirname(folder), mode=0o700, exist_ok=True)  # kernels/, owner-only as before
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def sources_digest(package: str = os.path.dirname(os.path.abspath(__file__))) -> str:
    """A digest of the kernels' sources under ``package``: the files of ``KERNEL_SOURCES`` that import
    numba (only they can hold a kernel or what a kernel calls), so that it changes when any kernel,
    or anything a kernel calls, changes, and not when plain Python beside them does. About a ms."""
    digest = hashlib.sha1()
    for name in kernel_files(package):
        with open(os.path.join(package, name), "rb") as file:
            digest.update(name.encode() + b"\0" + file.read() + b"\0")
    return digest.hexdigest()[:16]


def kernel_files(package: str = os.path.dirname(os.path.abspath(__file__))) -> list[str]:
    """The files of ``KERNEL_SOURCES`` under ``package`` that hold kernels, relative to it."""
    found = []
    for source in KERNEL_SOURCES:
        path = os.path.join(package, source)
        if path.endswith(".py"):
            files = [path] if os.path.isfile(path) else []
        else:
            files = sorted(os.path.join(path, name) for name in os.listdir(path) if name.endswith(".py")) \
                if os.path.isdir(path) else []
        for name in files:
            with open(name, "rb") as file:
                if _IMPORTS_NUMBA.search(file.read()):
                    found.append(os.path.relpath(name, package))
    return found


def kernel_cache_dir() -> str:
    """The folder numba caches this version of the kernels in (created, owner-only, if missing)."""
    stamp = sources_digest()
    folder = os.path.join(cache_root(), "kernels", stamp)
    if _writable(folder):
        return folder
    fallback = os.path.join(tempfile.gettempdir(), f"dumpproc-{os.getuid()}", "kernels", stamp)
    _writable(fallback)
    return fallback


def configure() -> None:
    """Point numba's cache at the per-user folder, unless the user set ``NUMBA_CACHE_DIR``.

    Cheap, and does not import numba: the environment variable is read when numba is
    imported (and passed on to workers and Spark tasks); if numba is already imported,
    its config is set directly. Either way this must run before a kernel is defined.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    folder = kernel_cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = folder
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = folder


def set_notifier(notify: Callable[[str], None] | None) -> None:
    """Where ``announce`` writes its one line (the progress display's ``note``, say)."""
    global _notify
    _notify = notify


def needs_compiling(*dispatchers) -> bool:
    """Whether any of these numba dispatchers has no fresh compiled copy in the disk cache."""
    from numba.core.registry import CPUDispatcher

    for value in dispatchers:
        if isinstance(value, CPUDispatcher) and not value.signatures:
            try:
                # numba's index of cached overloads: empty when missing, stale or another version
                if not value._cache._cache_file._load_index():
                    return True
            except (AttributeError, OSError, EOFError, ValueError):
                return False  # numba's internals changed: say nothing rather than something wrong
    return False


def announce(*dispatchers) -> None:
    """Tell the user, once per process, that kernels are about to be compiled, if they are."""
    if not _announced and _notify is not None and needs_compiling(*dispatchers):
        note(COMPILING)


def note(text: str) -> None:
    """Say once per process, through the notifier, that kernels are being compiled."""
    global _announced
    if _announced or _notify is None:
        return
    _announced = True
    _notify(text)
