"""Opening inputs: the codec comes from the first bytes, errors name the file and offsets."""

from __future__ import annotations

import bz2
import shutil

import pytest

from dumpproc.errors import CorruptInput, InputNotFound, UnsupportedFormat
from dumpproc.parse import Dump
from dumpproc.sources import detect_codec, open_dump

COMPRESSIONS = {"none": "xml", "bz2": "bz2", "bz2-multistream": "bz2", "gz": "gzip", "xz": "xz", "zst": "zstd"}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    import gen_dump

    path = tmp_path_factory.mktemp("plain") / "dump.xml"
    gen_dump.generate(str(path), gen_dump.Options(pages=120, revisions=(1, 6), text_size=500, seed=5))
    return path


@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
@pytest.mark.parametrize("threads", [1, 2])
def test_every_codec_gives_the_same_xml(compression, threads, plain, tmp_path):
    import gen_dump

    path = tmp_path / "dump.bin"  # no telling suffix: detection reads the bytes
    gen_dump.generate(str(path), gen_dump.Options(pages=120, revisions=(1, 6), text_size=500, seed=5,
                                                  compression=compression))
    assert detect_codec(str(path)).name == COMPRESSIONS[compression]
    with open_dump(str(path), threads) as stream:
        data = stream.read()
        assert stream.bytes_read == len(data)
    assert data == plain.read_bytes()


def test_multistream_bz2_is_read_to_the_end(plain, tmp_path):
    raw = plain.read_bytes()
    cut = len(raw) // 3
    path = tmp_path / "multi.xml.bz2"
    path.write_bytes(bz2.compress(raw[:cut]) + bz2.compress(raw[cut:2 * cut]) + bz2.compress(raw[2 * cut:]))
    with open_dump(str(path), 2) as stream:
        assert stream.read() == raw


def test_utf16_with_byte_order_mark(plain, tmp_path):
    path = tmp_path / "utf16.xml"
    text = plain.read_text("utf-8").replace("<mediawiki", '<?xml version="1.0" encoding="UTF-16"?><mediawiki', 1)
    path.write_bytes(text.encode("utf-16"))
    def titles(source):
        with open_dump(str(source)) as stream:
            return [page.title for page in Dump(stream).pages()]

    expected = titles(plain)
    assert len(expected) == 120 and any(not t.isascii() for t in expected)
    assert titles(path) == expected


def test_missing_file_is_input_not_found(tmp_path):
    with pytest.raises(InputNotFound) as caught:
        open_dump(str(tmp_path / "nope.xml.bz2"))
    assert "nope.xml.bz2" in str(caught.value)


def test_directory_is_input_not_found(tmp_path):
    with pytest.raises(InputNotFound, match="directory"):
        open_dump(str(tmp_path))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xml.bz2"
    path.write_bytes(b"")
    with pytest.raises(UnsupportedFormat, match="empty") as caught:
        open_dump(str(path))
    assert caught.value.path == str(path) and caught.value.offset == 0


def test_not_a_dump(tmp_path):
    path = tmp_path / "notes.xml"
    path.write_bytes(b"This file is not a valid XML file\n")
    with pytest.raises(UnsupportedFormat, match="not a dump") as caught:
        open_dump(str(path))
    assert str(path) in str(caught.value)


def test_truncated_bz2_names_file_and_offsets(plain, tmp_path):
    whole = bz2.compress(plain.read_bytes())
    path = tmp_path / "truncated.xml.bz2"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptInput) as caught:
        with open_dump(str(path), 2) as stream:
            while stream.read(1 << 16):
                pass
    error = caught.value
    assert error.path == str(path) and error.uncompressed_offset is not None
    assert "truncated.xml.bz2" in str(error) and "bz2" in str(error)


def test_real_multistream_dump():
    from conftest import shared_dump

    path = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    with open_dump(str(path), 2) as stream:
        dump = Dump(stream)
        assert sum(1 for page in dump.pages() for _ in page) == 17  # as MANIFEST.tsv counts


def test_copying_keeps_detection_by_bytes_not_name(plain, tmp_path):
    misnamed = tmp_path / "really-plain.xml.bz2"
    shutil.copy(plain, misnamed)
    assert detect_codec(str(misnamed)).name == "xml"
