"""The kernels in one of two forms: a module compiled ahead of time, or numba's just-in-time dispatchers.

A kernel module marks the functions Python calls with ``@entry("uint8[:], int64, ...")`` (their
argument types) and the helpers only kernels call with ``@kernel`` (and ``@intrinsic``). Importing
them imports no numba. The first call of an entry (or ``resolve()``, which ``diff.warm_up`` calls
before workers fork) decides the form, once per process:

- the extension module of this version of the sources, built for this CPU, in the kernels' cache
  folder (``kernels.kernel_cache_dir()``), is loaded when it is there. numba is never imported: its
  import and the load of its cache were about a second of a small run, paid again by every worker;
- when it is not there, it is built first, once per installation, in a child process
  (``python -m dumpproc.compiled``: numba compiles the kernels, ``numba.pycc`` writes the module,
  moved into place whole, under a lock so that concurrent first runs build it once), then loaded;
- when it cannot be built (no C compiler, say: the reason is kept beside its path, and the build is
  not tried again for this version) or ``DUMPPROC_KERNELS=jit`` is set, every kernel becomes numba's
  dispatcher, cached on disk as before.

The module's file is named for this CPU's model and features: it is compiled for the host, and a
home folder shared by machines of other CPUs must not load it. Both forms release the GIL.

numba's dispatcher checks its arguments' types; the compiled module does not (a wrong dtype is read
as another), so an entry checks them before each call: dtype, dimensions, C order, and for an array
the kernel writes (``!``), that it is writable. A mismatch is a ``TypeError``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import importlib.util
import logging
import os
import re
import subprocess
import sys
import threading
from typing import Callable

import numpy as np

from . import kernels

log = logging.getLogger(__name__)

#: The extension module's name, before the CPU's tag.
MODULE = "dumpproc_kernels"

#: What the user is told while the module is built.
BUILDING = "compiling kernels, first run only (about a minute)"

_ARGUMENT = re.compile(r"[^,\[\]\s]+(?:\[[:,\s]*\])?!?")
_SPEC = re.compile(r"^(?P<dtype>[a-z0-9_]+)(?P<dims>\[:(?:,:)*\])?(?P<written>!)?$")

#: Every entry of the imported kernel modules, by symbol.
ENTRIES: dict[str, "Entry"] = {}
#: Every helper (``kernel`` and ``intrinsic``) of the imported kernel modules, and how numba takes it.
_HELPERS: list[tuple[Callable, str]] = []

_lock = threading.RLock()
#: "aot", "jit", or None until ``resolve`` decides.
form: str | None = None


class Entry:
    """A kernel Python calls: the compiled module's function behind a check of its arguments, or
    numba's dispatcher, whichever ``resolve`` chose on the first call."""

    nogil = True  # both forms release the GIL

    def __init__(self, function: Callable, spec: str):
        self.py_func = function
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__doc__ = function.__doc__
        self.__module__ = function.__module__
        self.__wrapped__ = function
        self.spec = spec
        self.symbol = f"{function.__module__.rsplit('.', 1)[-1]}__{function.__name__.lstrip('_')}"
        self.arguments = [_parse(part) for part in _ARGUMENT.findall(spec)]
        self.dispatcher = None  # numba's, in the JIT form
        self._call = self._first_call

    def _first_call(self, *args):
        resolve()
        return self._call(*args)

    def __call__(self, *args):
        return self._call(*args)

    def __repr__(self) -> str:
        return f"<kernel {self.__module__}.{self.__name__}({self.spec})>"


def entry(spec: str) -> Callable[[Callable], Entry]:
    """Mark a kernel Python calls, with its argument types: ``int64``, ``uint64``, ``boolean``, or
    an array ``uint8[:]``, ``int64[:,:]`` (C order), with ``!`` when the kernel writes it."""

    def mark(function: Callable) -> Entry:
        made = Entry(function, spec)
        known = ENTRIES.get(made.symbol)
        if known is not None and known.__qualname__ != made.__qualname__:
            raise ValueError(f"two kernels named {made.symbol}")
        ENTRIES[made.symbol] = made
        if form is not None:  # a module imported after the choice: no rebinding to come
            _bind(made)
            if form == "jit":
                return made.dispatcher  # which kernels of the module can call
        return made

    return mark


def kernel(function: Callable) -> Callable:
    """Mark a helper only kernels call (the plain function until the JIT form makes it numba's)."""
    _HELPERS.append((function, "njit"))
    return _numba(function, "njit") if form == "jit" else function


def intrinsic(function: Callable) -> Callable:
    """Mark numba code generation for a call inside kernels (``numba.extending.intrinsic``)."""
    _HELPERS.append((function, "intrinsic"))
    return _numba(function, "intrinsic") if form == "jit" else function


def _numba(function: Callable, how: str):
    if how == "intrinsic":
        from numba.extending import intrinsic as numba_intrinsic

        return numba_intrinsic(function)
    from numba import njit

    return njit(cache=True, nogil=True)(function)


def _parse(part: str) -> tuple[str, int, bool]:
    match = _SPEC.match(part.replace(" ", ""))
    if not match:
        raise ValueError(f"not a kernel argument type: {part!r}")
    dims = match["dims"]
    return match["dtype"], (dims.count(":") if dims else 0), bool(match["written"])


def cpu_tag() -> str:
    """A short digest of this CPU's model and features (Linux's ``/proc/cpuinfo``), else ``generic``."""
    try:
        with open("/proc/cpuinfo", "rb") as file:
            info = file.read(1 << 16)
    except OSError:
        return "generic"
    lines = {line.strip() for line in info.splitlines() if line.split(b":")[0].strip() in (b"flags", b"model name")}
    return hashlib.sha1(b"\n".join(sorted(lines))).hexdigest()[:10] if lines else "generic"


def module_path(folder: str | None = None) -> str:
    """Where this version of the kernels, built for this CPU, is (or would be)."""
    name = f"{MODULE}_{cpu_tag()}"
    return os.path.join(folder or kernels.kernel_cache_dir(), name + importlib.machinery.EXTENSION_SUFFIXES[0])


def jit_only() -> bool:
    return os.environ.get("DUMPPROC_KERNELS", "").strip().lower() == "jit"


def resolve() -> str:
    """Choose the kernels' form for this process (once): "aot" or "jit"."""
    global form
    if form is not None:
        return form
    with _lock:
        if form is None:
            module = None if jit_only() else _module()
            if module is not None:
                form = "aot"
                _use_module(module)
            else:
                form = "jit"
                _use_jit()
    return form


def _module():
    path = module_path()
    if not os.path.exists(path) and not os.path.exists(path + ".failed"):
        _build_in_child(path)
    if not os.path.exists(path):
        return None
    try:
        return _load(path)
    except (ImportError, OSError) as exc:  # damaged, or not for this interpreter: the JIT serves
        log.warning("cannot load the compiled kernels %s (%s); numba compiles them instead", path, exc)
        return None


def _load(path: str):
    name = os.path.basename(path).split(".", 1)[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_in_child(path: str) -> None:
    with _locked(path + ".lock"):
        if os.path.exists(path) or os.path.exists(path + ".failed"):
            return  # another process built it (or failed to) while this one waited
        kernels.note(BUILDING)
        env = dict(os.environ, DUMPPROC_KERNELS="jit")
        done = subprocess.run([sys.executable, "-m", "dumpproc.compiled", path], env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
        if done.returncode < 0:  # stopped by a signal (Ctrl-C reaches the child too): try again next run
            log.warning("compiling the kernels ahead of time was stopped (signal %d); numba compiles them "
                        "instead this run", -done.returncode)
        elif done.returncode != 0 or not os.path.exists(path):
            reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            log.warning("could not compile the kernels ahead of time (%s); numba compiles them when first "
                        "called instead, and each run starts about a second slower", reason)
            with contextlib.suppress(OSError):
                with open(path + ".failed", "w") as file:
                    file.write(done.stderr[-20_000:])


@contextlib.contextmanager
def _locked(path: str):
    import fcntl

    with open(path, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _use_module(module) -> None:
    global built
    built = module
    for made in ENTRIES.values():
        _bind(made)


def _bind(made: Entry) -> None:
    if form == "aot":
        made._call = _checked(getattr(built, made.symbol), made.arguments, made.__name__)
    else:
        made.dispatcher = made._call = _numba(made.py_func, "njit")


#: The compiled module, in the "aot" form.
built = None


def _use_jit() -> None:
    """Make every helper and entry numba's, and point the kernel modules' names at them: numba reads
    a kernel's globals when it compiles it, so a call inside a kernel finds the dispatcher."""
    made = {function: _numba(function, how) for function, how in _HELPERS}
    for item in ENTRIES.values():
        _bind(item)
        made[item] = item.dispatcher
    _rebind(made)
    kernels.announce(*made.values())


def _rebind(made: dict) -> None:
    for name in list(sys.modules):
        if not name.startswith("dumpproc."):
            continue
        module = sys.modules[name]
        if module is None or name not in _kernel_module_names():
            continue
        space = vars(module)
        for key, value in list(space.items()):
            if isinstance(value, Entry) or getattr(value, "__module__", "").startswith("dumpproc."):
                with contextlib.suppress(TypeError):  # unhashable
                    if value in made:
                        space[key] = made[value]


_names: set[str] | None = None


def _kernel_module_names() -> set[str]:
    global _names
    if _names is None:
        _names = set(kernel_modules())
    return _names


def kernel_modules(package: str = os.path.dirname(os.path.abspath(__file__))) -> list[str]:
    """The modules that define kernels (``kernels.KERNEL_SOURCES``' files that use this module)."""
    return [f"dumpproc.{os.path.splitext(path)[0].replace(os.sep, '.')}" for path in kernels.kernel_files(package)
            if path != "compiled.py"]


_INTEGERS = (int, np.integer)
_BOOLEANS = (bool, np.bool_, int, np.integer)


def _checked(function: Callable, args: list[tuple[str, int, bool]], name: str) -> Callable:
    arrays = [(i, np.dtype("bool" if dtype == "boolean" else dtype), ndim, written)
              for i, (dtype, ndim, written) in enumerate(args) if ndim]
    integers = [i for i, (dtype, ndim, _) in enumerate(args) if not ndim and dtype != "boolean"]
    booleans = [i for i, (dtype, ndim, _) in enumerate(args) if not ndim and dtype == "boolean"]
    count = len(args)

    def call(*values):
        if len(values) != count:
            raise TypeError(f"{name}() takes {count} arguments ({len(values)} given)")
        for i, dtype, ndim, written in arrays:
            value = values[i]
            if not (isinstance(value, np.ndarray) and value.dtype == dtype and value.ndim == ndim
                    and value.flags.c_contiguous and (value.flags.writeable or not written)):
                raise TypeError(f"{name}(): argument {i + 1} must be a C-ordered {ndim}-d {dtype} array"
                                f"{' that can be written' if written else ''}, not {_describe(value)}")
        for i in integers:
            if not isinstance(values[i], _INTEGERS):
                raise TypeError(f"{name}(): argument {i + 1} must be an integer, not {type(values[i]).__name__}")
        for i in booleans:
            if not isinstance(values[i], _BOOLEANS):
                raise TypeError(f"{name}(): argument {i + 1} must be a boolean, not {type(values[i]).__name__}")
        return function(*values)

    return call


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        order = "C-ordered" if value.flags.c_contiguous else "strided"
        return f"a {order} {value.ndim}-d {value.dtype} array{'' if value.flags.writeable else ', read-only'}"
    return type(value).__name__


def build(path: str) -> None:
    """Compile every entry of the kernel modules, and the helpers into them, into the extension module
    at ``path`` (written beside it, then moved into place). Needs numba and a C compiler."""
    for name in kernel_modules():
        importlib.import_module(name)
    if resolve() != "jit":
        raise RuntimeError("build in a process whose kernels are numba's (DUMPPROC_KERNELS=jit)")
    import tempfile

    import numba.pycc.compiler as pycc_compiler
    from numba import types
    from numba.pycc import CC

    def argument(dtype: str, ndim: int, written: bool):
        scalar = getattr(types, dtype)
        return types.Array(scalar, ndim, "C", readonly=not written) if ndim else scalar

    folder = os.path.dirname(path)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as scratch:
        cc = CC(os.path.basename(path).split(".", 1)[0])
        cc.output_dir = scratch
        cc.target_cpu = "host"  # the file is named for this CPU: see cpu_tag()
        for symbol, made in sorted(ENTRIES.items()):
            cc.export(symbol, tuple(argument(*arg) for arg in made.arguments))(made.py_func)
        flags = pycc_compiler.Flags

        def releasing_the_gil():  # pycc's wrappers hold the GIL unless their flags say otherwise
            chosen = flags()
            chosen.release_gil = True
            return chosen

        pycc_compiler.Flags = releasing_the_gil
        try:
            cc.compile()
        finally:
            pycc_compiler.Flags = flags
        written = os.path.join(scratch, cc.output_file)
        os.chmod(written, 0o700)
        os.replace(written, path)


if __name__ == "__main__":
    from dumpproc import compiled  # the package's module, whose ENTRIES the kernel modules fill

    compiled.build(sys.argv[1])
