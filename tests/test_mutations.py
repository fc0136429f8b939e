"""A unit is a fault boundary: small dumps, mutated in every codec, fail their own unit and nothing else.

Hypothesis flips, cuts and inserts bytes of a small generated dump as stored
(plain XML, bz2, gzip, xz, lzma, zstd, and 7z when 7-Zip is installed) and runs the
pipeline on it beside a clean dump. Whatever the bytes, no exception but the
project's leaves the run, the mutated unit fails or commits, the clean one
commits, every file under a final name in OUT is readable Parquet, and an
input that the reference tools reject (``bzip2 -t``, ``gzip -t``, ``xz -t``,
``zstd -t``, ``7zz t``, then strict lxml parsing of what they decompress)
never yields ``_SUCCESS``. Examples are derandomized: the same run each time.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from dumpproc.pipeline import Options, run

pytestmark = pytest.mark.slow

SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z")


def _small_dump(name: str, **options) -> bytes:
    import gen_dump

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        gen_dump.generate(str(path), gen_dump.Options(**options))
        return path.read_bytes()


XML = _small_dump("mutwiki.xml", pages=3, revisions=(1, 3), text_size=150, seed=7, ip_rate=0.3, dbname="mutwiki")


def _seven_zip(data: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        xml, archive = Path(folder) / "mutwiki.xml", Path(folder) / "mutwiki.7z"
        xml.write_bytes(data)
        subprocess.run([SEVEN_ZIP, "a", str(archive), str(xml)], check=True, capture_output=True)
        return archive.read_bytes()


#: codec -> (the dump as stored, the reference tool's test command, its command that decompresses to stdout)
CODECS = {
    "plain": (lambda: XML, None, None),
    "bz2": (lambda: bz2.compress(XML), ["bzip2", "-t"], ["bzip2", "-dc"]),
    "gzip": (lambda: gzip.compress(XML, mtime=0), ["gzip", "-t"], ["gzip", "-dc"]),
    "xz": (lambda: lzma.compress(XML, format=lzma.FORMAT_XZ), ["xz", "-t"], ["xz", "-dc"]),
    "lzma": (lambda: lzma.compress(XML, format=lzma.FORMAT_ALONE), ["xz", "--format=lzma", "-t"],
             ["xz", "--format=lzma", "-dc"]),
    "zstd": (lambda: zstandard.ZstdCompressor(write_checksum=True).compress(XML), ["zstd", "-q", "-t"],
             ["zstd", "-q", "-dc"]),
    "7z": (lambda: _seven_zip(XML), [SEVEN_ZIP, "t"], [SEVEN_ZIP, "e", "-so"]),
}

# bytes that make XML go wrong in the ways that matter, beside arbitrary ones
_XMLISH = st.sampled_from([b"<", b">", b"&", b"</page>", b"<page>", b"</revision>", b"<revision>", b"<id>", b"</id>",
                           b"<![CDATA[", b"]]>", b"<!--", b"\xff", b"\x00", b"-1", b"99999999999999999999", b"a:b"])
MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
    st.tuples(st.just("cut"), st.integers(min_value=0)),
    st.tuples(st.just("insert"), st.integers(min_value=0), st.one_of(_XMLISH, st.binary(min_size=1, max_size=8))),
)


def mutate(data: bytes, mutations) -> bytes:
    damaged = bytearray(data)
    for kind, where, *what in mutations:
        at = where % (len(damaged) + 1)
        if kind == "flip" and at < len(damaged):
            damaged[at] ^= what[0]
        elif kind == "cut":
            del damaged[at:]
        elif kind == "insert":
            damaged[at:at] = what[0]
    return bytes(damaged)


def rejected_by_the_reference(codec: str, path: Path) -> bool:
    """The reference tool finds the stream damaged, or what it decompresses is not well-formed XML."""
    _, test, decompress = CODECS[codec]
    if test is not None:
        if subprocess.run([*test, str(path)], capture_output=True).returncode != 0:
            return True
        done = subprocess.run([*decompress, str(path)], capture_output=True)
        if done.returncode != 0:
            return True
        xml = done.stdout
    else:
        xml = path.read_bytes()
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True, load_dtd=False)
    try:
        etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return True
    return False


def check_output(out: Path) -> None:
    """Every file under a final name is readable Parquet (or the manifest, _SUCCESS, the lock); no temporary is left."""
    for path in out.rglob("*"):
        if path.is_dir():
            continue
        assert ".tmp-" not in path.name, path
        if path.name in ("_manifest.json", "_SUCCESS", ".dumpproc.lock"):  # and the run's lock
            continue
        assert path.suffix == ".parquet", path
        pq.read_table(path)


def _clean_dump() -> bytes:
    return _small_dump("cleanwiki.xml", pages=2, revisions=(1, 2), text_size=100, seed=8, dbname="cleanwiki")


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clean") / "cleanwiki-20260101-pages-meta-history.xml"
    path.write_bytes(_clean_dump())
    return path


@pytest.mark.parametrize("codec", list(CODECS))
def test_a_mutated_dump_fails_its_own_unit_only(codec, clean):
    make, test, _ = CODECS[codec]
    if test is not None and not shutil.which(test[0] or ""):
        pytest.skip(f"{test[0] or '7-Zip'} is not installed here")
    stored = make()

    # plain XML's mutations reach the parser's every path; a compressed stream's mostly fail in its codec
    @settings(max_examples=150 if codec == "plain" else 40, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(MUTATION, min_size=1, max_size=3))
    def mutated(mutations):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"mutwiki-20260101-pages-meta-history.{codec}"
            path.write_bytes(mutate(stored, mutations))
            out = Path(folder) / "out"
            result = run([str(path), str(clean)], Options(out=str(out), workers=1, snapshot="2026-01"))
            units = {Path(u["path"]).name: u for u in json.loads((out / "_manifest.json").read_text())["units"]}
            assert units[path.name]["status"] in ("committed", "failed")
            assert units[clean.name]["status"] == "committed", units[clean.name]
            check_output(out)
            if (out / "_SUCCESS").exists():
                assert result.ok and not rejected_by_the_reference(codec, path), units[path.name]

    mutated()
