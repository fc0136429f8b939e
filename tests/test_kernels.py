"""Where the compiled kernels are cached, and the one line a first run prints while they compile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SAMPLE
from dumpproc import compiled, kernels
from test_parsers_agree import output


def test_the_cache_folder_is_per_user_and_can_be_set(monkeypatch, tmp_path):
    monkeypatch.delenv("DUMPPROC_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert kernels.cache_root() == str(tmp_path / "home" / ".cache" / "dumpproc")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernels.cache_root() == str(tmp_path / "xdg" / "dumpproc")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: relative paths are invalid
    assert kernels.cache_root() == str(tmp_path / "home" / ".cache" / "dumpproc")
    monkeypatch.setenv("DUMPPROC_CACHE_DIR", str(tmp_path / "mine"))
    assert kernels.cache_root() == str(tmp_path / "mine")
    assert kernels.kernel_cache_dir() == str(tmp_path / "mine" / "kernels" / kernels.sources_digest())
    assert oct(os.stat(tmp_path / "mine" / "kernels").st_mode & 0o777) == "0o700"


def test_the_cache_folder_changes_with_any_kernel_source(tmp_path):
    """numba keys a cached kernel on its own file only, so a kernel calling into a changed file
    (diff.pairs into diff.lines) would load stale: the folder is one per version of the sources."""
    import shutil

    package = tmp_path / "dumpproc"
    shutil.copytree(ROOT / "dumpproc", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = kernels.sources_digest(str(package))
    assert before == kernels.sources_digest(str(ROOT / "dumpproc")) == kernels.sources_digest(str(package))
    (package / "cli.py").write_text("# not a kernel\n")
    (package / "diff" / "__init__.py").write_text("# Python only, no kernel\n")
    assert kernels.sources_digest(str(package)) == before
    for name in ["diff/pairs.py", "diff/lines.py", "diff/tokens.py", "fastxml/scan.py", "sources/bz2blocks.py"]:
        path = package / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert kernels.sources_digest(str(package)) != before, name
        path.write_bytes(original)
    assert kernels.sources_digest(str(package)) == before


def test_an_unwritable_cache_folder_falls_back_to_a_private_temporary_one(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("DUMPPROC_CACHE_DIR", str(blocker / "below-a-file"))
    folder = kernels.kernel_cache_dir()
    assert folder.endswith(os.path.join(f"dumpproc-{os.getuid()}", "kernels", kernels.sources_digest()))
    assert os.path.isdir(folder)


def _run(env: dict, out: Path, *python: str) -> subprocess.CompletedProcess:
    """A run of the sample (``-j 2``); with ``python`` code, that code runs after it in the same process."""
    args = ["process", str(SAMPLE), "-o", str(out), "-j", "2"]
    command = [sys.executable, "-c", f"import sys; from dumpproc import cli; cli.main({args!r}); " + "; ".join(python)] \
        if python else [sys.executable, "-m", "dumpproc", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="no C compiler: numba's JIT serves")
def test_a_first_run_compiles_the_kernels_once_and_later_runs_load_them_without_numba(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "DUMPPROC_KERNELS")}
    env["DUMPPROC_CACHE_DIR"] = str(tmp_path / "cache")
    first = _run(env, tmp_path / "out1")
    assert first.stderr.count("dumpproc: compiling kernels, first run only") == 1, first.stderr
    folder = tmp_path / "cache" / "kernels" / kernels.sources_digest()
    module = Path(compiled.module_path(str(folder)))
    assert module.is_file(), sorted(p.name for p in folder.iterdir())
    assert oct(module.stat().st_mode & 0o777) == "0o700"
    assert list(folder.rglob("*.nbi")), "numba's cache of the kernels' helpers is not in the folder"
    second = _run(env, tmp_path / "out2", "print('numba' in sys.modules, 'llvmlite' in sys.modules)")
    assert "compiling" not in second.stderr, second.stderr
    assert second.stdout.strip().splitlines()[-1] == "False False", second.stdout
    package = ROOT / "dumpproc"
    assert not [p for p in package.rglob("*") if p.suffix in (".nbi", ".nbc", ".so")]
    # numba's own form when asked for, in a cache folder the user chose for numba: the same rows
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    env["DUMPPROC_KERNELS"] = "jit"
    third = _run(env, tmp_path / "out3", "print('numba' in sys.modules)")
    assert third.stdout.strip().splitlines()[-1] == "True"
    assert list((tmp_path / "numba").rglob("*.nbi"))
    assert output(tmp_path / "out1")[0] == output(tmp_path / "out2")[0] == output(tmp_path / "out3")[0]


def test_a_module_that_cannot_be_built_is_said_once_and_numba_serves(monkeypatch, tmp_path, caplog):
    path = tmp_path / "kernels.so"
    monkeypatch.setattr(compiled.sys, "executable", "/bin/false")  # the child that builds fails at once
    with caplog.at_level("WARNING", logger="dumpproc.compiled"):
        compiled._build_in_child(str(path))
    assert not path.exists()
    assert (tmp_path / "kernels.so.failed").exists()
    assert "could not compile the kernels ahead of time" in caplog.text
    caplog.clear()
    compiled._build_in_child(str(path))  # remembered: not tried again
    assert not caplog.text


def test_the_cpu_names_the_module():
    """A module compiled for this host's instructions is not loaded on a host with others."""
    tag = compiled.cpu_tag()
    assert tag == compiled.cpu_tag()
    assert os.path.basename(compiled.module_path("/x")).startswith(f"{compiled.MODULE}_{tag}.")


def test_an_entry_checks_its_arguments_before_the_compiled_call():
    """The compiled module reads a wrong dtype as another: each entry checks what numba would."""
    calls = []
    checked = compiled._checked(lambda *values: calls.append(values) or 7,
                                compiled.Entry(lambda a, n, out, flag: None, "uint8[:], int64, int64[:,:]!, boolean")
                                .arguments, "kernel")
    data = np.frombuffer(b"abc", np.uint8)  # read-only: fine for an argument the kernel only reads
    out = np.zeros((2, 3), np.int64)
    assert checked(data, 3, out, True) == 7 and len(calls) == 1
    assert checked(data, np.int64(3), out, np.bool_(False)) == 7
    bad = [
        (data.astype(np.int64), 3, out, True),  # dtype
        (np.zeros((1, 3), np.uint8), 3, out, True),  # dimensions
        (np.zeros(6, np.uint8)[::2], 3, out, True),  # strided
        (b"abc", 3, out, True),  # not an array
        (data, 3.0, out, True),  # not an integer
        (data, 3, np.zeros((2, 3), np.int64).T, True),  # not C-ordered
        (data, 3, np.frombuffer(bytes(48), np.int64).reshape(2, 3), True),  # written but read-only
        (data, 3, out),  # too few
    ]
    for values in bad:
        with pytest.raises(TypeError):
            checked(*values)
    assert len(calls) == 2


def test_every_entry_has_a_spec_numba_can_compile_and_a_symbol_of_its_own():
    for name in compiled.kernel_modules():
        __import__(name)
    assert {"pairs__diff_pair", "pairs__diff_batch", "columns__revision_columns", "scan__scan",
            "bz2blocks__scan", "bz2blocks__copy_bits", "bz2blocks__read_bits", "bz2blocks__block_end"} <= set(compiled.ENTRIES)
    for symbol, made in compiled.ENTRIES.items():
        assert made.symbol == symbol
        assert len(made.arguments) == made.py_func.__code__.co_argcount, symbol
        if compiled.resolve() == "aot":
            assert callable(getattr(compiled.built, symbol))


def test_python_calls_entries_only():
    """A helper (``@kernel``) runs as plain Python in the compiled form, where NumPy's integer rules
    differ from numba's: Python code may call only entries, which are compiled in both forms."""
    import ast

    package = ROOT / "dumpproc"

    def decorators(node) -> set[str]:
        names = set()
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
        return names

    helpers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and decorators(node) & {"kernel", "intrinsic"}:
                helpers.add(node.name)
    assert {"_myers", "_text", "_bit"} <= helpers
    called = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        plain = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                 and not decorators(node) & {"kernel", "intrinsic", "entry"}]
        shadowed = {node.name for node in plain}  # a plain function of the same name, defined here
        for node in plain:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and getattr(inner.func, "id", None) in helpers - shadowed:
                        called.append(f"{path.relative_to(package)}:{inner.lineno} {inner.func.id}")
    assert not called


def test_a_kernel_module_imported_after_the_choice_works_in_both_forms(tmp_path):
    """numba's form rebinds the names of the modules imported before it was chosen; one imported
    after gets numba's dispatchers at once (a kernel calling an entry of its module must find one)."""
    code = ("from dumpproc import compiled; compiled.resolve(); "
            "from dumpproc.sources import bz2blocks; "
            f"starts = bz2blocks.block_starts({str(SAMPLE)!r}); "
            f"data = __import__('numpy').memmap({str(SAMPLE)!r}, dtype='uint8', mode='r'); "
            "print(compiled.form, bz2blocks.block_end(data, int(starts[0]), 9) > starts[0])")
    for form in ("jit", "aot"):
        env = dict(os.environ, DUMPPROC_KERNELS=form)
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [form, "True"], done.stdout


def test_a_build_stopped_by_a_signal_is_tried_again_and_a_damaged_module_is_not_loaded(monkeypatch, tmp_path, caplog):
    """Ctrl-C reaches the building child too: that is no reason to give up on the module for good.
    A module that cannot be loaded (damaged, cut short) leaves numba's JIT to serve."""
    stopped = tmp_path / "stopped"
    stopped.write_text("#!/bin/sh\nkill -TERM $$\n")
    stopped.chmod(0o700)
    path = tmp_path / "kernels.so"
    monkeypatch.setattr(compiled.sys, "executable", str(stopped))
    with caplog.at_level("WARNING", logger="dumpproc.compiled"):
        compiled._build_in_child(str(path))
    assert "was stopped (signal 15)" in caplog.text
    assert not (tmp_path / "kernels.so.failed").exists() and not path.exists()
    path.write_bytes(b"\x7fELF" + bytes(100))  # not a loadable module
    monkeypatch.setattr(compiled, "module_path", lambda folder=None: str(path))
    caplog.clear()
    with caplog.at_level("WARNING", logger="dumpproc.compiled"):
        assert compiled._module() is None
    assert "cannot load the compiled kernels" in caplog.text
