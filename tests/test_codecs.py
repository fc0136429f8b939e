"""Every codec and backend gives the identical revisions table for the same dump."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil

import pyarrow as pa
import pyarrow.compute  # noqa: F401
import pyarrow.parquet as pq
import pytest
import zstandard

from conftest import FIXTURES, SAMPLE, shared_dump
from dumpproc.errors import CorruptInput, MissingCodecLibrary, UnsupportedFormat
from dumpproc.pipeline import Options, run
from dumpproc.sources import detect_codec, open_dump
from dumpproc.sources.codecs import backends

XML = bz2.decompress(SAMPLE.read_bytes())


def _zstd_long(data: bytes) -> bytes:
    params = zstandard.ZstdCompressionParameters(window_log=31, enable_ldm=True, compression_level=3)
    out = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(out, closefd=False) as writer:
        writer.write(data)
    return out.getvalue()


def _multistream(data: bytes) -> bytes:
    step = len(data) // 5 + 1
    return b"".join(bz2.compress(data[i:i + step]) for i in range(0, len(data), step))


def _utf16(data: bytes) -> bytes:
    text = data.decode("utf-8").replace("<mediawiki", '<?xml version="1.0" encoding="UTF-16"?><mediawiki', 1)
    return text.encode("utf-16")


# variant -> (codec name, bytes made from the sample's XML, or a committed fixture)
VARIANTS = {
    "plain": ("xml", lambda: XML),
    "utf16-bom": ("xml", lambda: _utf16(XML)),
    "bz2": ("bz2", lambda: bz2.compress(XML)),
    "bz2-multistream": ("bz2", lambda: _multistream(XML)),
    "lbzip2-made": ("bz2", lambda: (FIXTURES / "codecs" / "sample.lbzip2.xml.bz2").read_bytes()),
    "pbzip2-made": ("bz2", lambda: (FIXTURES / "codecs" / "sample.pbzip2.xml.bz2").read_bytes()),
    "7z": ("7z", lambda: (FIXTURES / "codecs" / "sample.xml.7z").read_bytes()),
    "gzip": ("gzip", lambda: gzip.compress(XML, mtime=0)),
    "zstd-long-window": ("zstd", lambda: _zstd_long(XML)),
    "xz": ("xz", lambda: lzma.compress(XML, format=lzma.FORMAT_XZ)),
    "xz-multistream-padded": ("xz", lambda: lzma.compress(XML[:len(XML) // 3], format=lzma.FORMAT_XZ) + bytes(8)
                              + lzma.compress(XML[len(XML) // 3:], format=lzma.FORMAT_XZ) + bytes(4)),
    "lzma-alone": ("lzma", lambda: lzma.compress(XML, format=lzma.FORMAT_ALONE)),
}
BACKENDS = {"bz2": ["lbzip2", "indexed_bzip2"], "7z": ["libarchive", "7zz"]}
PROGRAMS = {"lbzip2": ("lbzip2",), "7zz": ("7zz", "7z", "7za")}
CASES = [(variant, backend) for variant, (name, _) in VARIANTS.items() for backend in BACKENDS.get(name, [None])]


def _use_backend(monkeypatch, codec_name: str, backend: str | None) -> None:
    if backend is None:
        return
    programs = PROGRAMS.get(backend)
    if programs and not any(shutil.which(p) for p in programs):
        pytest.skip(f"{backend} is not installed here (.ci/run installs it)")
    monkeypatch.setenv(f"DUMPPROC_{codec_name.upper()}_BACKENDS", backend)


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    run([str(SAMPLE)], Options(out=str(out), workers=1))
    return pq.read_table(out / "revisions")


@pytest.mark.parametrize("variant, backend", CASES)
def test_same_revisions_through_every_codec(variant, backend, expected, tmp_path, monkeypatch):
    name, make = VARIANTS[variant]
    _use_backend(monkeypatch, name, backend)
    path = tmp_path / "samplewiki-20260101-pages-meta-history.dump"  # the suffix says nothing
    path.write_bytes(make())
    assert detect_codec(str(path)).name == name
    with open_dump(str(path), 2) as stream:
        if variant != "utf16-bom":
            assert stream.read() == XML
    out = tmp_path / "out"
    result = run([str(path)], Options(out=str(out), workers=1))
    assert result.ok, result.failed
    assert pq.read_table(out / "revisions").equals(expected)


def test_backend_order_comes_from_the_environment(monkeypatch):
    assert backends("bz2", ("lbzip2", "indexed_bzip2")) == ["lbzip2", "indexed_bzip2"]
    monkeypatch.setenv("DUMPPROC_BZ2_BACKENDS", "indexed_bzip2")
    assert backends("bz2", ("lbzip2", "indexed_bzip2")) == ["indexed_bzip2"]


def test_missing_backend_names_what_to_install(monkeypatch, tmp_path):
    path = tmp_path / "x.7z"
    path.write_bytes((FIXTURES / "codecs" / "sample.xml.7z").read_bytes())
    monkeypatch.setenv("DUMPPROC_7Z_BACKENDS", "7zz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no 7-Zip on it
    with pytest.raises(MissingCodecLibrary, match="apt install 7zip"):
        open_dump(str(path))


PYRUS = ["article-pyrus.xml", "article-pyrus.xml.bz2", "article-pyrus.xml.gz", "article-pyrus.xml.7z",
         "article-pyrus.xml.xz", "article-pyrus.xml.lzma", "article-pyrus-utf16.xml", "article-pyrus-utf16.xml.bz2"]


def test_real_pyrus_family_gives_one_table(tmp_path):
    tables = []
    for name in PYRUS:
        path = shared_dump(f"wikimedia__pywikibot/{name}")
        out = tmp_path / name
        assert run([str(path)], Options(out=str(out), workers=1, snapshot="2026-01")).ok
        tables.append(pq.read_table(out / "revisions"))
    assert tables[0].num_rows == 6
    assert all(t.equals(tables[0]) for t in tables[1:])


def test_real_invalid_7z_is_not_a_dump():
    path = shared_dump("wikimedia__pywikibot/article-pyrus.xml_invalid.7z")
    with pytest.raises(UnsupportedFormat, match="not a dump") as caught:
        open_dump(str(path))
    assert "article-pyrus.xml_invalid.7z" in str(caught.value)


@pytest.mark.parametrize("backend", ["libarchive", "7zz"])
def test_corrupted_7z_names_the_file(backend, tmp_path, monkeypatch):
    _use_backend(monkeypatch, "7z", backend)
    data = bytearray((FIXTURES / "codecs" / "sample.xml.7z").read_bytes())
    path = tmp_path / "broken.xml.7z"
    path.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(CorruptInput) as caught:
        with open_dump(str(path)) as stream:
            while stream.read(1 << 16):
                pass
    assert "broken.xml.7z" in str(caught.value)


@pytest.mark.parametrize("backend", ["lbzip2", "indexed_bzip2"])
def test_truncated_bz2_names_the_file_and_offset(backend, tmp_path, monkeypatch):
    _use_backend(monkeypatch, "bz2", backend)
    data = (FIXTURES / "codecs" / "sample.pbzip2.xml.bz2").read_bytes()
    path = tmp_path / "truncated.xml.bz2"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptInput) as caught:
        with open_dump(str(path), 2) as stream:
            while stream.read(1 << 16):
                pass
    error = caught.value
    assert "truncated.xml.bz2" in str(error) and error.uncompressed_offset is not None


@pytest.mark.parametrize("name", ["pages-articles-p2566p2583.multistream.xml.bz2", "pages-articles-p2566p2583.xml.bz2"])
def test_real_multistream_and_single_stream_agree(name, tmp_path):
    path = shared_dump(f"wikimedia__operations-dumps-mwbzutils/{name}")
    out = tmp_path / "out"
    assert run([str(path)], Options(out=str(out), workers=1, snapshot="2026-01")).ok
    assert pq.read_table(out / "revisions").num_rows == 17


def test_real_multistream_without_its_header_stream_reads_as_the_whole(tmp_path):
    """Page runs without the <mediawiki> root and siteinfo (a multistream file minus its first stream)."""
    path = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream-noheader.xml.bz2")
    whole = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    assert run([str(path)], Options(out=str(tmp_path / "out"), workers=1, snapshot="2026-01")).ok
    assert run([str(whole)], Options(out=str(tmp_path / "whole"), workers=1, snapshot="2026-01")).ok
    got = pq.read_table(tmp_path / "out" / "revisions").sort_by("revision_id")
    expected = pq.read_table(tmp_path / "whole" / "revisions").sort_by("revision_id")
    assert got.num_rows == 17
    assert got.drop(["wiki_db"]).equals(expected.drop(["wiki_db"]))  # no siteinfo: the wiki is "unknown"


@pytest.mark.parametrize("name", ["pages-articles-p2566p2583.multistream-nofooter.xml.bz2"])
def test_real_truncated_multistream_fails_its_unit_with_a_clear_error(name, tmp_path):
    path = shared_dump(f"wikimedia__operations-dumps-mwbzutils/{name}")
    result = run([str(path)], Options(out=str(tmp_path / "out"), workers=1, snapshot="2026-01"))
    failed, = result.failed
    assert name in failed["error"]
    # The pages read whole before the cut are committed: the whole file's first pages, exactly.
    whole = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    assert run([str(whole)], Options(out=str(tmp_path / "whole"), workers=1, snapshot="2026-01")).ok
    kept = pq.read_table(tmp_path / "out" / "revisions").sort_by("revision_id")
    expected = pq.read_table(tmp_path / "whole" / "revisions").sort_by("revision_id")
    assert 0 < failed["pages"] <= pq.read_table(tmp_path / "whole" / "pages").num_rows  # nofooter: all 17
    assert kept.num_rows == failed["rows"]["revisions"]
    assert kept.equals(expected.filter(pa.compute.is_in(expected["page_id"], kept["page_id"])))


def test_bundled_libarchive_when_the_system_has_none():
    """Without a system libarchive, the 7z codec loads the one the extractcode-libarchive wheel ships."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("extractcode_libarchive") is None:
        pytest.skip("extractcode-libarchive ships only for Linux x86_64")
    script = (
        "import ctypes.util, os; ctypes.util.find_library = lambda name: None; os.environ.pop('LIBARCHIVE', None);"
        "os.environ['DUMPPROC_7Z_BACKENDS'] = 'libarchive';"
        "from dumpproc.sources import open_dump;"
        f"print(len(open_dump({str(FIXTURES / 'codecs' / 'sample.xml.7z')!r}).read()), os.environ['LIBARCHIVE'])"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    size, library = done.stdout.split()
    assert int(size) == len(XML) and "extractcode_libarchive" in library


# -- damaged streams: each codec's own error is the project's, naming the codec, the file and both offsets ------------
def _first_position(data: bytes, fails, start: int) -> int:
    """The first byte from ``start`` on whose flip makes ``fails(damaged bytes)`` true: deterministic."""
    for at in range(start, len(data)):
        damaged = bytearray(data)
        damaged[at] ^= 0x55
        if fails(bytes(damaged)):
            return at
    raise AssertionError("no flip damages the stream")


def _raises(decompress, error):
    def fails(data: bytes) -> bool:
        try:
            decompress(data)
        except error:
            return True
        except Exception:
            return False
        return False
    return fails


def _zlib_damaged() -> bytes:
    """gzip whose deflate data raises zlib.error (not the CRC's BadGzipFile) in the gzip module."""
    import zlib

    data = gzip.compress(XML, mtime=0)
    # a deflate block's header and code tables come first: a flip there fails at once, in zlib
    at = _first_position(data, _raises(gzip.decompress, zlib.error), start=10)
    damaged = bytearray(data)
    damaged[at] ^= 0x55
    return bytes(damaged)


def _flipped(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0x55
    return bytes(damaged)


def _zstd_frames(*parts: bytes) -> bytes:
    return b"".join(zstandard.ZstdCompressor(write_checksum=True).compress(part) for part in parts)


_HALF = len(XML) // 2
#: name -> (codec, damaged bytes, what the error says)
DAMAGED = {
    "gzip zlib.error": ("gzip", _zlib_damaged, "gzip stream is damaged: Error -3"),
    "gzip cut": ("gzip", lambda: gzip.compress(XML, mtime=0)[:-100], "gzip stream is truncated"),
    "xz flipped": ("xz", lambda: _flipped(lzma.compress(XML, format=lzma.FORMAT_XZ)), "xz stream is damaged"),
    "xz cut": ("xz", lambda: lzma.compress(XML, format=lzma.FORMAT_XZ)[:-100], "xz stream is truncated"),
    "lzma flipped": ("lzma", lambda: _flipped(lzma.compress(XML, format=lzma.FORMAT_ALONE)), "lzma stream is damaged"),
    # the standard library's LZMAFile would ignore these bytes as trailing garbage
    "xz with bytes after it": ("xz", lambda: lzma.compress(XML, format=lzma.FORMAT_XZ) + b"not a stream, not padding",
                               "xz stream is damaged"),
    "lzma with bytes after it": ("lzma", lambda: lzma.compress(XML, format=lzma.FORMAT_ALONE) + b"x" * 20,
                                 "lzma stream is damaged: data after the end of the .lzma stream"),
    "zstd flipped": ("zstd", lambda: _flipped(_zstd_frames(XML)), "zstd stream is damaged"),
    "zstd cut": ("zstd", lambda: _zstd_frames(XML)[:-1000], "zstd stream is truncated: it ends inside frame 1"),
    "zstd whole frame then a cut one": ("zstd", lambda: _zstd_frames(XML[:_HALF], XML[_HALF:])[:-1000],
                                         "zstd stream is truncated: it ends inside frame 2, after 1 whole frame"),
    "bz2 flipped": ("bz2", lambda: _flipped(bz2.compress(XML)), "bz2 stream is damaged"),
}
_REFERENCE = {"gzip": ["gzip", "-t"], "xz": ["xz", "-t"], "lzma": ["xz", "--format=lzma", "-t"], "zstd": ["zstd", "-t"],
              "bz2": ["bzip2", "-t"]}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_a_damaged_stream_is_corrupt_input_naming_codec_file_and_offsets(name, tmp_path):
    import subprocess

    codec, make, says = DAMAGED[name]
    path = tmp_path / "damaged.dump"
    path.write_bytes(make())
    reference = _REFERENCE[codec]
    if shutil.which(reference[0]):  # the reference tool agrees that the stream is bad
        assert subprocess.run([*reference, str(path)], capture_output=True).returncode != 0
    assert detect_codec(str(path)).name == codec
    with pytest.raises(CorruptInput) as caught:
        with open_dump(str(path), 2) as stream:
            while stream.read(1 << 16):
                pass
    error = caught.value
    assert says in error.message, error.message
    assert error.path == str(path) and error.offset is not None and error.uncompressed_offset is not None
    assert str(error).startswith(f"{path}, compressed byte {error.offset}, XML byte {error.uncompressed_offset}: ")


@pytest.mark.parametrize("name", ["gzip zlib.error", "xz flipped", "lzma flipped", "zstd whole frame then a cut one"])
def test_a_damaged_stream_fails_its_unit_and_the_clean_file_after_it_commits(name, tmp_path):
    from conftest import run_cli

    _, make, says = DAMAGED[name]
    damaged = tmp_path / "damagedwiki-20260101-pages-meta-history.xml.dump"
    damaged.write_bytes(make())
    clean = tmp_path / "samplewiki-20260101-pages-meta-history.xml.bz2"
    shutil.copy(SAMPLE, clean)
    out = tmp_path / "out"
    done = run_cli("process", damaged, clean, "-o", out, "-j", "1")  # one worker: the clean unit comes second
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and says in done.stderr
    import json

    units = {u["path"]: u for u in json.loads((out / "_manifest.json").read_text())["units"]}
    failed = units[str(damaged)]
    assert failed["status"] == "failed" and failed["error_type"] == "CorruptInput"
    assert {"offset", "xml_offset"} <= set(failed["error_at"])
    assert units[str(clean)]["status"] == "committed"
    assert not (out / "_SUCCESS").exists()


def _stored_7z(tmp_path) -> tuple[bytes, int]:
    """A 7z that stores the sample's XML as it is (no compression, so a flipped byte only fails the CRC)
    and where the XML starts in it."""
    import subprocess

    program = shutil.which("7zz") or shutil.which("7z")
    if not program:
        pytest.skip("7-Zip is not installed here (.ci/run installs it)")
    xml = tmp_path / "sample.xml"
    xml.write_bytes(XML)
    archive = tmp_path / "stored.7z"
    subprocess.run([program, "a", "-m0=Copy", str(archive), str(xml)], check=True, capture_output=True)
    data = archive.read_bytes()
    return data, data.index(XML[:200])


def _read_whole(path) -> None:
    """Parse every revision of a dump file (its faults raise)."""
    from dumpproc.parse import Dump

    with open_dump(str(path)) as stream:
        for page in Dump(stream, str(path)).pages():
            for _ in page:
                pass


@pytest.mark.parametrize("backend", ["libarchive", "7zz"])
@pytest.mark.parametrize("where", ["in a tag", "in a text"])
def test_a_7z_member_with_a_bad_crc_says_crc(backend, where, tmp_path, monkeypatch):
    """The XML it garbles (a tag) fails first: reading on names the CRC, the cause, in its place."""
    _use_backend(monkeypatch, "7z", backend)
    data, start = _stored_7z(tmp_path)
    at = XML.index(b"<page>", 5000) + 1 if where == "in a tag" else XML.index(b"<text", 5000) + 60
    damaged = bytearray(data)
    damaged[start + at] ^= 0x20  # <page> becomes <Page>, or a letter changes case
    path = tmp_path / "crc.xml.7z"
    path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptInput, match="CRC") as caught:
        _read_whole(path)
    assert "7z stream is damaged" in str(caught.value) and str(path) in str(caught.value)
    if where == "in a tag":
        assert "the XML it gave had gone wrong before" in str(caught.value)


@pytest.mark.parametrize("backend", ["libarchive", "7zz"])
def test_a_damaged_7z_error_never_quotes_the_members_name(backend, tmp_path, monkeypatch):
    """7-Zip names the member it fails on; a name is the archive's own text (here an IP address)."""
    import subprocess

    _use_backend(monkeypatch, "7z", backend)
    data, _ = _stored_7z(tmp_path)
    program = shutil.which("7zz") or shutil.which("7z")
    member = tmp_path / "198.51.100.77.xml"
    member.write_bytes(XML)
    archive = tmp_path / "named.7z"
    subprocess.run([program, "a", "-m0=Copy", str(archive), str(member)], check=True, capture_output=True)
    damaged = bytearray(archive.read_bytes())
    damaged[archive.read_bytes().index(XML[:200]) + XML.index(b"<text", 5000) + 60] ^= 0x20
    path = tmp_path / "crc.xml.7z"
    path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptInput, match="CRC") as caught:
        _read_whole(path)
    assert "198.51.100.77" not in str(caught.value) and str(path) in str(caught.value)
