"""Bad input through the whole command: the rows before it kept, the error placed, the other units on."""

from __future__ import annotations

import bz2
import json

import pyarrow.parquet as pq
import pytest

from conftest import run_cli, shared_dump
from test_parse_errors import BAD_PAGES, FOOTER, HEADER, good_page

TABLES = ("revisions", "diffs", "pages", "users")


def bad_dump(tmp_path, name: str, compress: bool = False):
    bad, _ = BAD_PAGES[name]
    data = HEADER + good_page(1) + bad + good_page(3) + good_page(4) + FOOTER
    path = tmp_path / ("badwiki-20260101-pages-meta-history.xml" + (".bz2" if compress else ""))
    path.write_bytes(bz2.compress(data) if compress else data)
    return path


@pytest.fixture
def good_dump(generate):
    return generate("goodwiki-20260101-pages-meta-history.xml", pages=5, revisions=(2, 6), seed=3, dbname="goodwiki")


def manifest(out):
    return json.loads((out / "_manifest.json").read_text())


def rows(out, table, wiki):
    folder = out / table / f"wiki_db={wiki}"
    return pq.read_table(folder) if folder.exists() else None


@pytest.mark.parametrize("name", list(BAD_PAGES))
def test_the_pages_before_are_committed_and_the_unit_fails(tmp_path, good_dump, name):
    bad = bad_dump(tmp_path, name, compress=name == "invalid UTF-8")
    out = tmp_path / "out"
    done = run_cli("process", bad, good_dump, "-o", out, "-j", "2")
    assert done.returncode == 1, done.stderr
    assert f"unit {bad.name.split('.')[0]} failed (its first page was kept" in done.stderr
    assert str(bad) in done.stderr and "XML byte" in done.stderr
    units = {u["id"]: u for u in manifest(out)["units"]}
    failed = units["badwiki-20260101-pages-meta-history"]
    header_fault = "without title" in name  # page 2 has no rows to keep
    assert failed["status"] == "failed" and failed["pages"] == (1 if header_fault else 2)
    assert failed["revisions"] == (3 if header_fault else 4)
    # the page the fault cut short keeps the revision read whole before it (SPEC, Bad input)
    cut = [] if header_fault else [{"unit": failed["id"], "page_id": 2, "revisions": 1, "last_revision_id": 200,
                                    "revision_id_at_fault": None if name == "revision without id" else 201}]
    assert manifest(out)["partial_pages"] == cut
    assert failed["partial_pages"] == [{k: v for k, v in c.items() if k != "unit"} for c in cut]
    if not header_fault:
        assert "and the 1 revision of page 2 read before the fault" in done.stderr
    assert failed["error_type"] == "MalformedXML" and failed["error_at"]["xml_offset"] > 0
    if "without title" not in name:
        assert failed["error_at"]["page_id"] == 2 and "page 2" in failed["error"]
    if name == "invalid UTF-8":
        assert "compressed byte" in failed["error"]
    else:  # plain XML has no compressed offset: its XML byte is the file's
        assert "compressed byte" not in failed["error"]
    assert units["goodwiki-20260101-pages-meta-history"]["status"] == "committed"
    # page 1 in every table, page 2 with its revision read whole (none when its header is at fault), no _SUCCESS
    kept = [100, 101, 102] + ([] if header_fault else [200])
    assert sorted(rows(out, "revisions", "testwiki")["revision_id"].to_pylist()) == kept
    assert sorted(rows(out, "diffs", "testwiki")["revision_id"].to_pylist()) == kept
    pages = rows(out, "pages", "testwiki").sort_by("page_id").to_pydict()
    assert pages["page_id"] == ([1] if header_fault else [1, 2])
    assert pages["revision_count"] == ([3] if header_fault else [3, 1])
    assert rows(out, "users", "testwiki")["revision_count"].to_pylist() == [len(kept)]
    assert rows(out, "revisions", "goodwiki").num_rows == units["goodwiki-20260101-pages-meta-history"]["revisions"]
    assert not (out / "_SUCCESS").exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


@pytest.mark.parametrize("name", list(BAD_PAGES))
def test_skip_page_skips_the_page_and_counts_it(tmp_path, good_dump, name):
    bad = bad_dump(tmp_path, name)
    out = tmp_path / "out"
    done = run_cli("process", bad, good_dump, "-o", out, "-j", "2", "--on-error", "skip-page")
    assert done.returncode == 0, done.stderr
    assert "skipped 1 malformed page;" in done.stderr
    run = manifest(out)
    assert run["skipped_pages"] == 1 and run["options"]["on_error"] == "skip-page"
    unit = next(u for u in run["units"] if u["id"].startswith("badwiki"))
    assert unit["status"] == "committed" and unit["pages"] == 3
    skipped, = unit["skipped_pages"]
    assert str(bad) in skipped["error"]
    for table, key in (("revisions", "revision_id"), ("diffs", "revision_id"), ("pages", "page_id")):
        got = sorted(set(rows(out, table, "testwiki")[key].to_pylist()))
        assert got == ([1, 3, 4] if table == "pages" else [100, 101, 102, 300, 301, 302, 400, 401, 402]), table
    assert (out / "_SUCCESS").exists()


def test_a_skipped_page_in_a_split_file_gives_the_rows_of_the_whole_file(tmp_path):
    """A bad page in the middle of a bzip2 file split into many units: split and whole agree."""
    import gen_dump

    plain = tmp_path / "plain.xml"
    gen_dump.generate(str(plain), gen_dump.Options(pages=60, revisions=(3, 12), text_size=4000, seed=11,
                                                   dbname="splitbad"))
    data = plain.read_bytes()
    at = data.index(b"<text", len(data) // 2)
    at = data.index(b">", at) + 1
    data = data[:at] + b"&#0;" + data[at:]  # a bad character reference inside a page halfway through
    path = tmp_path / "splitbad-20260101-pages-meta-history.xml.bz2"
    path.write_bytes(bz2.compress(data, 1))
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run_cli("process", path, "-o", whole, "-j", "1", "--on-error", "skip-page").returncode == 0
    done = run_cli("process", path, "-o", split, "-j", "2", "--on-error", "skip-page", "--split-size", "30K")
    assert done.returncode == 0, done.stderr
    assert len(manifest(split)["units"]) > 3 and manifest(split)["skipped_pages"] == manifest(whole)["skipped_pages"] == 1
    for table, key in (("revisions", "revision_id"), ("diffs", "revision_id"), ("pages", "page_id"),
                       ("users", "user_text")):
        assert pq.read_table(split / table).sort_by(key).equals(pq.read_table(whole / table).sort_by(key)), table


def test_a_page_without_ns_takes_its_titles_namespace_and_the_manifest_counts_it(tmp_path, good_dump):
    """SPEC, Bad input: in a 0.10 dump, as before 0.6, the namespace comes from the title and the siteinfo."""
    from test_parse_errors import page, revision

    header = HEADER.replace(b'      <namespace key="0" case="first-letter" />\n',
                            b'      <namespace key="0" case="first-letter" />\n'
                            b'      <namespace key="1" case="first-letter">Talk</namespace>\n')
    path = tmp_path / "nswiki-20260101-pages-meta-history.xml"
    path.write_bytes(header + good_page(1) + page(2, [revision(200)], title=b"Talk:Page 2", ns=None)
                     + page(3, [revision(300)], ns=None) + FOOTER)
    out = tmp_path / "out"
    done = run_cli("process", path, good_dump, "-o", out, "-j", "2")
    assert done.returncode == 0, done.stderr
    run = manifest(out)
    units = {u["id"]: u for u in run["units"]}
    assert units["nswiki-20260101-pages-meta-history"]["pages_without_ns"] == 2
    assert units["goodwiki-20260101-pages-meta-history"]["pages_without_ns"] == 0
    assert run["pages_without_ns"] == 2
    pages = rows(out, "pages", "testwiki").sort_by("page_id").to_pydict()
    assert list(zip(pages["page_id"], pages["page_namespace"], pages["page_title"])) == [
        (1, 0, "Page 1"), (2, 1, "Talk:Page 2"), (3, 0, "Page 3")]
    revisions = rows(out, "revisions", "testwiki").sort_by("revision_id").to_pydict()
    assert revisions["page_namespace"] == [0, 0, 0, 1, 0]


def test_the_real_page_without_ns_is_read_and_counted(tmp_path):
    """zhwiki-broken-2.xml (schema 0.10): its third page, 数学, has no <ns>."""
    real = shared_dump("CyberZHG__wiki-dump-reader/zhwiki-broken-2.xml")
    out = tmp_path / "out"
    done = run_cli("process", real, "-o", out, "-j", "1")
    assert done.returncode == 0, done.stderr
    run = manifest(out)
    unit, = run["units"]
    assert (unit["status"], unit["pages"], unit["pages_without_ns"], run["pages_without_ns"]) == ("committed", 3, 1, 1)
    pages = rows(out, "pages", "zhwiki").to_pydict()
    assert dict(zip(pages["page_title"], pages["page_namespace"]))["数学"] == 0


def test_a_namespace_name_that_is_not_a_uri_commits_the_unit(tmp_path):
    """portstrom's test.xml, xmlns:xsi hard-wrapped: libxml2 warns, the document is well-formed."""
    real = shared_dump("portstrom__parse_mediawiki_dump/test.xml")
    out = tmp_path / "out"
    done = run_cli("process", real, "-o", out, "-j", "1")
    assert done.returncode == 0, done.stderr
    unit, = manifest(out)["units"]
    assert (unit["status"], unit["pages"], unit["revisions"], unit["error"]) == ("committed", 1, 1, None)
    assert rows(out, "revisions", "enwiki")["revision_id"].to_pylist() == [854851586]
    assert (out / "_SUCCESS").exists()


def test_a_dtd_fails_the_unit_before_anything_is_written(tmp_path, good_dump):
    path = tmp_path / "dtdwiki-20260101-pages-meta-history.xml"
    path.write_bytes(b'<!DOCTYPE mediawiki [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                     + HEADER + good_page(1) + FOOTER)
    out = tmp_path / "out"
    done = run_cli("process", path, good_dump, "-o", out, "--on-error", "skip-page")
    assert done.returncode == 1 and "DTD" in done.stderr
    assert not (out / "revisions" / "wiki_db=dtdwiki").exists()
    assert b"root:" not in b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())


def test_a_rerun_that_fails_earlier_leaves_no_parts_of_the_earlier_run(tmp_path):
    """Parts a failed unit kept are removed when it runs again, whatever happens to it then."""
    path = bad_dump(tmp_path, "bad character reference")
    out = tmp_path / "out"
    assert run_cli("process", path, "-o", out).returncode == 1
    assert rows(out, "revisions", "testwiki").num_rows == 4  # page 1, and page 2's revision before the fault
    path.write_bytes(b"\x00not a dump")  # now it fails before anything is written
    done = run_cli("process", path, "-o", out, "--resume")
    assert done.returncode == 1, done.stderr
    assert not list(out.glob("*/wiki_db=testwiki/*/*.parquet"))


# -- split files cut short or damaged: the unit that meets it fails, never the run's success ------
@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """One clean generated dump, 2.7 MB of XML in 300 pages, in the forms a split file takes: plain
    XML (1 MiB pieces), bzip2 streams as Wikimedia's multistream files have them (the header, 100 pages
    a stream, the closing tag) and zstandard frames of 300 kB of XML each (the closing tag in one of its
    own)."""
    import io

    import gen_dump
    import zstandard

    out = io.BytesIO()
    gen_dump.generate(out, gen_dump.Options(pages=300, revisions=(1, 5), text_size=2000, seed=14, dbname="cutwiki"))
    xml = out.getvalue()
    starts = [i for i in range(len(xml)) if xml.startswith(b"  <page>", i)][::100]
    cuts = [0, *starts, xml.rindex(b"</mediawiki>"), len(xml)]
    streams = [bz2.compress(xml[a:b], 9) for a, b in zip(cuts, cuts[1:])]
    compressor = zstandard.ZstdCompressor(level=3)
    footer = xml.rindex(b"</mediawiki>")
    frames = [compressor.compress(xml[i:min(i + 300_000, footer)]) for i in range(0, footer, 300_000)]
    frames.append(compressor.compress(xml[footer:]))
    return {"xml": xml, "streams": streams, "frames": frames,
            "folder": tmp_path_factory.mktemp("clean")}


def split_run(tmp_path, name: str, data: bytes, split_size: str = "1"):
    """``data`` as the file ``name``, processed with every piece a unit; returns (path, run, manifest)."""
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    done = run_cli("process", path, "-o", out, "-j", "2", "--split-size", split_size, "--snapshot", "2026-01")
    return path, done, manifest(out) if (out / "_manifest.json").exists() else None


def assert_fails_its_unit(path, done, run):
    """The run ends in 1 without _SUCCESS, and a unit's error names the file and a byte offset."""
    assert done.returncode == 1, done.stderr
    assert not (path.parent / "out" / "_SUCCESS").exists()
    failed = [u for u in run["units"] if u["status"] == "failed"]
    assert failed and len(failed) < len(run["units"]), [u["error"] for u in failed]  # the others go on
    for unit in failed:
        assert str(path) in unit["error"] and ("compressed byte" in unit["error"] or "XML byte" in unit["error"])
    return failed


@pytest.mark.parametrize("frame, keep", [(-1, 0.5), (-1, -3), (-2, 0.5)])
def test_a_whole_zstd_frame_then_one_cut_short_fails(tmp_path, clean, frame, keep):
    frames = clean["frames"][:len(clean["frames"]) + 1 + frame]
    last = frames[-1]
    data = b"".join(frames[:-1]) + last[: int(len(last) * keep) if keep > 0 else keep]
    path, done, run = split_run(tmp_path, "cutwiki-20260101-pages-meta-history.xml.zst", data)
    # the cut frame's unit, and the one before it when its last page reads on into that frame
    for failed in assert_fails_its_unit(path, done, run):
        assert failed["error_type"] == "CorruptInput" and "zstandard frame cut short" in failed["error"]


def multistream(streams, keep: int | None = None) -> bytes:
    data = b"".join(streams)
    return data if keep is None else data[:keep]


def test_plain_xml_cut_before_a_page_fails_the_unit_that_holds_its_end(tmp_path, clean):
    xml = clean["xml"]
    cut = xml.rindex(b"  <page>", 0, len(xml) - 200_000)  # the last unit holds the pages before the cut
    path, done, run = split_run(tmp_path, "cutwiki-20260101-pages-meta-history.xml", xml[:cut])
    failed, = assert_fails_its_unit(path, done, run)
    assert failed["error_type"] == "MalformedXML" and "cut short" in failed["error"]
    assert failed["error_at"]["xml_offset"] == cut and failed["id"] == run["units"][-1]["id"]
    assert failed["pages"] > 0  # its pages before the cut are kept


@pytest.mark.parametrize("where", ["at a stream's end", "inside a stream", "inside its last end marker"])
def test_multistream_bz2_cut_short_fails(tmp_path, clean, where):
    streams = clean["streams"]
    keep = {"at a stream's end": len(b"".join(streams[:-1])),  # the closing tag's stream is gone
            "inside a stream": len(b"".join(streams[:-2])) + len(streams[-2]) // 2,
            "inside its last end marker": -1}[where]
    path, done, run = split_run(tmp_path, "cutwiki-20260101-pages-meta-history.xml.bz2", multistream(streams, keep))
    assert_fails_its_unit(path, done, run)


@pytest.mark.parametrize("keep", [12237, 13000, 15470])
def test_real_multistream_cut_short_fails(tmp_path, keep):
    """The real file's streams end at 718, 4735, 8475, 12237, 15407 (the closing tag), 15462 (an empty stream)."""
    real = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    path, done, run = split_run(tmp_path, "elwikivoyage-20260101-pages-articles-multistream.xml.bz2",
                                real.read_bytes()[:keep])
    assert_fails_its_unit(path, done, run)


def test_the_real_multistream_whole_is_fine_split(tmp_path):
    real = shared_dump("wikimedia__operations-dumps-mwbzutils/pages-articles-p2566p2583.multistream.xml.bz2")
    path, done, run = split_run(tmp_path, "elwikivoyage-20260101-pages-articles-multistream.xml.bz2",
                                real.read_bytes())
    assert done.returncode == 0, done.stderr
    assert len(run["units"]) >= 5 and sum(u["pages"] for u in run["units"]) == 17


def with_digit(stream: bytes, digit: bytes) -> bytes:
    assert stream[:4] == b"BZh9"
    return b"BZh" + digit + stream[4:]


@pytest.mark.parametrize("damage", ["digit 0", "digit 1, too small for its blocks", "a trailing stream cut short"])
def test_damaged_multistream_bz2_fails_the_unit_that_meets_it(tmp_path, clean, damage):
    streams = list(clean["streams"])
    if damage == "a trailing stream cut short":
        streams.append(streams[1][: len(streams[1]) // 2])
    else:
        streams[2] = with_digit(streams[2], b"0" if damage == "digit 0" else b"1")
    path, done, run = split_run(tmp_path, "cutwiki-20260101-pages-meta-history.xml.bz2", b"".join(streams))
    for failed in assert_fails_its_unit(path, done, run):
        assert failed["error_type"] == "CorruptInput", failed["error"]


def test_a_damaged_first_digit_leaves_the_file_whole_and_fails_it(tmp_path, clean):
    """Planning cannot read the header through the first stream: the file is one unit, which fails."""
    streams = list(clean["streams"])
    streams[0] = with_digit(streams[0], b"0")
    path, done, run = split_run(tmp_path, "cutwiki-20260101-pages-meta-history.xml.bz2", b"".join(streams))
    assert done.returncode == 1 and not (tmp_path / "out" / "_SUCCESS").exists()
    unit, = run["units"]
    assert unit["status"] == "failed" and str(path) in unit["error"]


def test_a_flipped_byte_in_a_split_bz2_fails_the_unit_that_holds_it(tmp_path, clean):
    data = bytearray(bz2.compress(clean["xml"], 1))
    data[len(data) // 2] ^= 0x04
    path, done, run = split_run(tmp_path, "cutwiki-20260101-pages-meta-history.xml.bz2", bytes(data), "100K")
    for failed in assert_fails_its_unit(path, done, run):
        assert failed["error_type"] == "CorruptInput" and "cannot be decoded" in failed["error"]
    assert sum(u["status"] == "committed" for u in run["units"]) >= 3


@pytest.mark.parametrize("codec", ["xml", "bz2"])
def test_a_fault_in_a_split_unit_is_placed_in_the_file_not_in_the_units_text(tmp_path, codec):
    """A split unit parses the file's header and then its own pages: the error says where that is in the file.

    Plain XML: the file's XML byte; a bzip2 file, whose blocks cannot be placed among the XML
    bytes without decoding all before them: the compressed byte of the block holding the fault,
    with the XML byte and line counted from the unit's first page, whose block is named too.
    """
    import gen_dump

    plain = tmp_path / "plain.xml"
    gen_dump.generate(str(plain), gen_dump.Options(pages=60, revisions=(3, 12), text_size=4000, seed=11,
                                                   dbname="splitbad"))
    data = plain.read_bytes()
    spot = data.index(b">", data.index(b"<text", len(data) * 2 // 3)) + 1
    data = data[:spot] + b"&#0;" + data[spot:]
    blob = bz2.compress(data, 1) if codec == "bz2" else data
    name = "splitbad-20260101-pages-meta-history.xml" + (".bz2" if codec == "bz2" else "")
    path, done, run = split_run(tmp_path, name, blob, "100K")
    failed, = assert_fails_its_unit(path, done, run)
    at = failed["error_at"]
    first_page = at["counted_from"].get("xml_offset")
    if codec == "xml":
        assert abs(at["xml_offset"] - spot) <= 16 and "offset" not in at  # the file's own XML byte
        assert failed["start"] <= first_page < spot and data[first_page:first_page + 6] == b"<page>"
        assert f"XML byte {at['xml_offset']}, line {at['line']} from the unit's first <page> (XML byte " \
               f"{first_page})" in failed["error"]
    else:
        assert at["counted_from"] == {"offset": failed["start"]}  # the unit's first block
        assert failed["start"] < at["offset"] < failed["end"] <= len(blob)  # the block holding the fault
        # the unit's first page is the one the relative XML byte leads back to from the spot
        first_page = data.rindex(b"<page>", 0, spot - at["xml_offset"] + 16)
        assert abs(first_page + at["xml_offset"] - spot) <= 16
        assert f"compressed byte {at['offset']}, XML byte {at['xml_offset']} and line {at['line']} from the unit's " \
               f"first <page> (compressed byte {failed['start']})" in failed["error"]
    assert at["line"] == data[first_page:spot].count(b"\n") + 1
    assert at["page_id"] and at["revision_id"] and f"page {at['page_id']}" in failed["error"]


# name -> (the dump's bytes from (tmp_path), what the error says, whether it happens in page 2 after page 1 was read)
def _bad_values():
    from test_values import page, revision

    def pages(*bad_revisions, **header):
        return HEADER + good_page(1) + page(revision(b"200"), *bad_revisions, **header) + good_page(3) + FOOTER

    siteinfo = HEADER.replace(b'<namespace key="0" case="first-letter" />',
                              b'<namespace key="0" case="first-letter" />\n      <namespace key="abc">X</namespace>')
    return {
        "timestamp garbage": (pages(revision(timestamp=b"garbage")), "revision 201: <timestamp> is not", True),
        "hour 24": (pages(revision(timestamp=b"2020-01-01T24:00:00Z")), "revision 201: <timestamp> is not", True),
        "page id 2^64": (pages(page_id=b"18446744073709551616"), "<page/id> is out of range", True),
        "namespace past int32": (pages(ns=b"2147483648"), "page 2: <page/ns> is out of range", True),
        "siteinfo key abc": (siteinfo + good_page(1) + FOOTER, "<namespace key> is not an integer", False),
        "siteinfo not closed": (HEADER.replace(b"  </siteinfo>\n", b"") + good_page(1) + FOOTER,
                                "<siteinfo> is not closed", False),
        "page not closed": (HEADER + good_page(1) + good_page(2).replace(b"  </page>\n", b"") + good_page(3) + FOOTER,
                            "the <page> before it is not closed", True),
    }


@pytest.mark.parametrize("name", list(_bad_values()))
def test_a_bad_value_fails_its_unit_and_the_clean_one_after_it_commits(tmp_path, good_dump, name):
    data, says, after_page_one = _bad_values()[name]
    bad = tmp_path / "badwiki-20260101-pages-meta-history.xml"
    bad.write_bytes(data)
    out = tmp_path / "out"
    done = run_cli("process", bad, good_dump, "-o", out, "-j", "1")  # one worker: the clean unit comes after
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    line, = [line for line in done.stderr.splitlines() if "failed" in line]
    assert str(bad) in line and "XML byte" in line and "line " in line and says in line, line
    units = {u["id"]: u for u in manifest(out)["units"]}
    failed = units["badwiki-20260101-pages-meta-history"]
    assert failed["status"] == "failed" and failed["error_type"] == "MalformedXML" and says in failed["error"]
    # a fault inside page 2 keeps the revisions of it read whole (a fault in its header, none)
    kept = {"timestamp garbage": (1, 200, 201), "hour 24": (1, 200, 201), "page not closed": (3, 202, None)}
    cut = [{"unit": failed["id"], "page_id": 2, "revisions": kept[name][0], "last_revision_id": kept[name][1],
            "revision_id_at_fault": kept[name][2]}] if name in kept else []
    assert manifest(out)["partial_pages"] == cut  # the page left open keeps its revisions read whole
    assert failed["pages"] == (1 if after_page_one else 0) + len(cut)
    assert units["goodwiki-20260101-pages-meta-history"]["status"] == "committed"
    assert rows(out, "revisions", "goodwiki").num_rows == units["goodwiki-20260101-pages-meta-history"]["revisions"]
    assert not (out / "_SUCCESS").exists()


# -- error texts never quote the input: under --ips hash|drop no IP address of it reaches stderr or the manifest ------
def _ip_bearing_bad_pages() -> dict[str, bytes]:
    from test_values import page, revision

    def with_page_two(*revisions: bytes, **header) -> bytes:
        return HEADER + good_page(1) + page(revision(b"200"), *revisions, **header) + good_page(3) + FOOTER

    ip_editor = b"<ip>198.51.100.23</ip>"
    return {
        # libxml2 quotes up to 50 characters after an unfinished CDATA section or comment
        "cdata before ip": HEADER + good_page(1) + page(revision(b"200"), revision(
            contributor=b"<![CDATA[" + ip_editor)).replace(b"  </page>\n", b""),
        "unfinished comment": HEADER + good_page(1) + page(revision(contributor=b"<!-- 203.0.113.77 <ip>2001:db8::77</ip>")),
        # libxml2 quotes the names of entities, of elements and of mismatched tags
        "entity named as an address": with_page_two(revision(contributor=b"<ip>&fe80::1234;</ip>")),
        "element named as an address": with_page_two(revision(contributor=b"<fe80::abcd>x</fe80::abcd>")),
        "tag mismatch beside an address": with_page_two(revision(contributor=b"<ip>192.0.2.55</ipx>")),
        "bytes that are not UTF-8 after an address": with_page_two(revision(contributor=b"<ip>192.0.2.66\xff\xfe</ip>")),
        # dumpproc's own checks name the element, not the value
        "address as a timestamp": with_page_two(revision(timestamp=b"192.0.2.88")),
        "address as a contributor id": with_page_two(revision(contributor=b"<username>A</username><id>2001:db8::99</id>")),
        "address as a page id": with_page_two(page_id=b"192.0.2.101"),
    }


def _addresses(data: bytes) -> set[str]:
    import ipaddress
    import re

    found = set()
    for candidate in re.findall(rb"[0-9a-fA-F:.]{3,}", data):
        try:
            address = ipaddress.ip_address(candidate.decode().strip(":.") if b":" not in candidate
                                           else candidate.decode())
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) or candidate.count(b".") == 3:
            found.add(candidate.decode())
    return found


@pytest.mark.parametrize("ips, on_error", [("hash", "fail-unit"), ("drop", "skip-page")])
def test_no_error_text_carries_an_address_of_the_input(tmp_path, ips, on_error):
    bad = _ip_bearing_bad_pages()
    paths = []
    addresses = set()
    for n, (name, data) in enumerate(bad.items()):
        path = tmp_path / f"ipwiki{n}-20260101-pages-meta-history.xml"
        path.write_bytes(data)
        paths.append(path)
        addresses |= _addresses(data)
    assert len(addresses) >= 8, addresses  # the test reads what it means to
    out = tmp_path / "out"
    done = run_cli("process", *paths, "-o", out, "-j", "2", "--ips", ips, "--on-error", on_error,
                   env={"DUMPPROC_IP_KEY": "a test key"})
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    text = done.stderr + done.stdout + (out / "_manifest.json").read_text()
    assert [a for a in addresses if a in text] == []
    run = manifest(out)
    errors = [u["error"] for u in run["units"] if u.get("error")] + [
        s["error"] for u in run["units"] for s in u.get("skipped_pages", [])]
    assert len(errors) >= len(bad) - 1  # every bad input said something (skip-page may skip a whole one)
    assert all("\n" not in e and len(e) < 1000 for e in errors)
