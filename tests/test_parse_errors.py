"""Malformed and hostile XML at the parser: where the error is, and skipping a bad page."""

from __future__ import annotations

import io

import pytest

from dumpproc.errors import MalformedXML
from dumpproc.parse import Dump
from dumpproc.parse import tracking

HEADER = (b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">\n'
          b"  <siteinfo>\n    <dbname>testwiki</dbname>\n    <namespaces>\n"
          b'      <namespace key="0" case="first-letter" />\n    </namespaces>\n  </siteinfo>\n')
FOOTER = b"</mediawiki>\n"


def revision(rev_id: int, text: bytes = b"Some text.", *, timestamp: bytes = b"2020-01-01T00:00:00Z",
             comment: bytes = b"edit", with_id: bool = True) -> bytes:
    return (b"    <revision>\n"
            + (b"      <id>%d</id>\n" % rev_id if with_id else b"")
            + (b"      <timestamp>" + timestamp + b"</timestamp>\n" if timestamp else b"")
            + b"      <contributor>\n        <username>Ann</username>\n        <id>7</id>\n      </contributor>\n"
            + b"      <comment>" + comment + b"</comment>\n"
            + b"      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            + b'      <text bytes="%d" xml:space="preserve">' % len(text) + text + b"</text>\n"
            + b"    </revision>\n")


def page(page_id: int, revisions: list[bytes], *, title: bytes | None = None, ns: bytes | None = b"0") -> bytes:
    return (b"  <page>\n"
            + (b"    <title>" + (title if title is not None else b"Page %d" % page_id) + b"</title>\n"
               if title is not False else b"")
            + (b"    <ns>" + ns + b"</ns>\n" if ns is not None else b"")
            + b"    <id>%d</id>\n" % page_id
            + b"".join(revisions)
            + b"  </page>\n")


def good_page(page_id: int, count: int = 3) -> bytes:
    return page(page_id, [revision(page_id * 100 + n, b"Text %d of page %d." % (n, page_id)) for n in range(count)])


#: name -> (the bad page 2, the bytes the error is at, or None when it is a missing element)
BAD_PAGES = {
    "unclosed tag": (page(2, [revision(200), revision(201, comment=b"<b>bold")]), b"bold</comment>"),
    "bad character reference": (page(2, [revision(200), revision(201, b"a &#0; b")]), b"&#0;"),
    "invalid UTF-8": (page(2, [revision(200), revision(201, b"caf\xff\xfe")]), b"\xff\xfe"),
    "page without title": (page(2, [revision(200)], title=False), None),
    "revision without id": (page(2, [revision(200), revision(201, with_id=False)]), None),
    "revision without timestamp": (page(2, [revision(200), revision(201, timestamp=b"")]), None),
    # errors libxml2 goes on after, which lxml would raise only at the end of the document
    "undeclared namespace prefix": (page(2, [revision(200), revision(201, comment=b"<x:b>bold</x:b>")]), b"<x:b>"),
    "name that is not a qualified name": (page(2, [revision(200), revision(201, comment=b"<a::b/>")]), b"<a::b/>"),
}


def dump_with(bad: bytes, pages_after: int = 2) -> bytes:
    return HEADER + good_page(1) + bad + b"".join(good_page(3 + n) for n in range(pages_after)) + FOOTER


def read_all(data: bytes, on_error: str = "fail-unit"):
    dump = Dump(io.BytesIO(data), "bad.xml", on_error=on_error)
    pages = []
    for p in dump.pages():
        revisions = [r.id for r in p]
        pages.append((p.id, revisions, p.skipped))
    return dump, pages


@pytest.mark.parametrize("name", BAD_PAGES)
def test_malformed_page_fails_naming_file_offset_and_page(name):
    bad, marker = BAD_PAGES[name]
    data = dump_with(bad)
    seen = []
    with pytest.raises(MalformedXML) as caught:
        dump = Dump(io.BytesIO(data), "bad.xml")
        for p in dump.pages():
            seen.extend(r.id for r in p)
    error = caught.value
    assert error.path == "bad.xml" and "bad.xml" in str(error)
    assert seen[:3] == [100, 101, 102]  # the good page before it was read whole
    bad_start = data.index(bad)
    assert error.uncompressed_offset is not None
    if marker is not None:  # lxml's own error: the offset is within a few bytes of the bad spot
        spot = data.index(marker, bad_start)
        assert spot - 16 <= error.uncompressed_offset <= spot + len(marker) + 16, (error.uncompressed_offset, spot)
        assert error.line == data[:spot].count(b"\n") + 1
    else:
        assert bad_start <= error.uncompressed_offset <= len(data)
    if "without title" not in name:
        assert error.page_id == 2 and "page 2" in str(error)
    if name == "revision without id":  # the faulty revision's own id is not known: after the last one whole
        assert error.revision_id is None and "(after revision 200)" in str(error)
    elif "without title" not in name:  # the revision being read, not the last whole
        assert error.revision_id == 201 and "revision 201" in str(error) and "after revision" not in str(error)


@pytest.mark.parametrize("name", BAD_PAGES)
def test_skip_page_skips_just_the_bad_page(name):
    bad, _ = BAD_PAGES[name]
    dump, pages = read_all(dump_with(bad), "skip-page")
    complete = [(pid, revs) for pid, revs, skipped in pages if not skipped]
    assert complete == [(1, [100, 101, 102]), (3, [300, 301, 302]), (4, [400, 401, 402])]
    assert len(dump.skipped_pages) == 1
    assert "bad.xml" in dump.skipped_pages[0]["error"]
    if "without title" not in name:
        assert dump.skipped_pages[0]["page_id"] == 2


def test_skip_page_with_several_bad_pages_and_one_at_the_end():
    bad_a, _ = BAD_PAGES["bad character reference"]
    bad_b, _ = BAD_PAGES["revision without id"]
    data = HEADER + good_page(1) + bad_a + good_page(3) + bad_b.replace(b"<id>2</id>", b"<id>5</id>") + FOOTER
    dump, pages = read_all(data, "skip-page")
    assert [(pid, revs) for pid, revs, skipped in pages if not skipped] == [(1, [100, 101, 102]), (3, [300, 301, 302])]
    assert [s["page_id"] for s in dump.skipped_pages] == [2, 5]


def test_skip_page_when_the_file_is_cut_inside_a_page():
    data = HEADER + good_page(1) + good_page(2)[:-40]
    dump, pages = read_all(data, "skip-page")
    assert [(pid, revs) for pid, revs, skipped in pages if not skipped] == [(1, [100, 101, 102])]
    assert len(dump.skipped_pages) == 1


def test_skip_page_far_into_a_large_file(monkeypatch):
    """Pages past the kept window, a bad page longer than lxml's reads, offsets still exact."""
    monkeypatch.setattr(tracking, "WINDOW", 256 << 10)
    filler = b"Lorem ipsum dolor sit amet.\n" * 2000  # 56 KB a revision
    pages = [page(n, [revision(n * 100 + k, filler + b"%d" % k) for k in range(3)]) for n in range(1, 40)]
    bad = page(40, [revision(4000, filler), revision(4001, filler + b"&#1;" + filler), revision(4002, filler)])
    data = HEADER + b"".join(pages) + bad + good_page(41) + FOOTER
    with pytest.raises(MalformedXML) as caught:
        read_all(data)
    spot = data.index(b"&#1;")
    assert abs(caught.value.uncompressed_offset - spot) <= 16
    dump, read = read_all(data, "skip-page")
    assert [pid for pid, _, skipped in read if not skipped] == list(range(1, 40)) + [41]
    assert dump.skipped_pages[0]["page_id"] == 40


def test_skipping_is_refused_outside_a_page():
    data = HEADER.replace(b"</siteinfo>", b"<sitename>&#0;</sitename></siteinfo>") + good_page(1) + FOOTER
    with pytest.raises(MalformedXML):
        read_all(data, "skip-page")


def test_on_error_is_checked():
    with pytest.raises(ValueError, match="on_error"):
        Dump(io.BytesIO(HEADER + FOOTER), on_error="ignore")


# -- hostile XML ------------------------------------------------------------------------

def _entity_dump(prolog: bytes, reference: bytes) -> bytes:
    return prolog + HEADER + page(1, [revision(100, b"a " + reference + b" b")]) + FOOTER


LAUGHS = (b'<!DOCTYPE mediawiki [<!ENTITY lol0 "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10)) + b"]>\n")


def test_entity_expansion_bomb_does_not_expand():
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(MalformedXML, match="DTD"):
        read_all(_entity_dump(LAUGHS, b"&lol9;"))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB: 10^9 "lol"s would be 3 GB


def test_undeclared_entity_is_an_error():
    data = _entity_dump(b"", b"&secret;")
    with pytest.raises(MalformedXML, match="not defined") as caught:
        read_all(data)
    assert abs(caught.value.uncompressed_offset - data.index(b"&secret;")) <= 16


def test_external_entities_and_dtds_are_never_fetched(tmp_path):
    """A listening socket sees no connection; a FIFO entity would block the parse if it were opened."""
    import os
    import socket
    import subprocess
    import sys

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {
        "file entity": _entity_dump(b'<!DOCTYPE mediawiki [<!ENTITY x SYSTEM "file://%s">]>\n' % bytes(fifo), b"&x;"),
        "network entity": _entity_dump(b'<!DOCTYPE mediawiki [<!ENTITY x SYSTEM "http://127.0.0.1:%d/e">]>\n' % port,
                                       b"&x;"),
        "network DTD": _entity_dump(b'<!DOCTYPE mediawiki SYSTEM "http://127.0.0.1:%d/d.dtd">\n' % port, b""),
        "parameter entity": _entity_dump(
            b'<!DOCTYPE mediawiki [<!ENTITY %% p SYSTEM "http://127.0.0.1:%d/p">%%p;]>\n' % port, b""),
    }
    for name, data in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.xml"
        path.write_bytes(data)
        script = ("import sys; from dumpproc.parse import Dump\n"
                  "try:\n    [list(p) for p in Dump(open(sys.argv[1], 'rb'), sys.argv[1]).pages()]\n"
                  "except Exception as e: print(type(e).__name__, e)\n")
        done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
        assert "MalformedXML" in done.stdout and "DTD" in done.stdout, (name, done.stdout, done.stderr)
        with pytest.raises(BlockingIOError):
            listener.accept()
    listener.close()


def test_skipping_needs_to_know_where_the_page_is():
    """In a file without line breaks a missing element cannot be placed, so the error stands."""
    bad, _ = BAD_PAGES["revision without id"]
    data = dump_with(bad).replace(b"\n", b"")
    with pytest.raises(MalformedXML, match="cannot be skipped"):
        read_all(data, "skip-page")
    bad, _ = BAD_PAGES["bad character reference"]  # lxml's column places this one
    dump, pages = read_all(dump_with(bad).replace(b"\n", b""), "skip-page")
    assert [pid for pid, _, skipped in pages if not skipped] == [1, 3, 4]


def test_page_runs_without_the_root_are_read_whole():
    """A piece of a multistream dump: pages only, with or without the closing tag; a bad page still skips."""
    pages = good_page(1) + good_page(2) + good_page(3)
    for data in (pages, pages + FOOTER, b"\n" + pages + b"</mediawiki>"):
        _, read = read_all(data)
        assert [(pid, revs) for pid, revs, _ in read] == [(n, [n * 100, n * 100 + 1, n * 100 + 2]) for n in (1, 2, 3)]
    bad, _ = BAD_PAGES["bad character reference"]
    dump, read = read_all(good_page(1) + bad + good_page(3), "skip-page")
    assert [pid for pid, _, skipped in read if not skipped] == [1, 3]


class _FailingStream(io.RawIOBase):
    """The XML up to ``cut``, then a decompressor's error, as DumpStream raises it."""

    def __init__(self, data: bytes, cut: int):
        super().__init__()
        self._data, self._cut, self._at = data, cut, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._at >= self._cut:
            from dumpproc.errors import CorruptInput

            raise CorruptInput("xz stream is damaged: Corrupt input data", path="cut.xml.xz", offset=77)
        count = min(len(buffer), self._cut - self._at, 100)
        buffer[:count] = self._data[self._at:self._at + count]
        self._at += count
        return count


@pytest.mark.parametrize("inside, names", [
    (b"Text 1 of", ("revision 201", None)),  # in its text: its id was read whole
    (b"<id>20", (None, "(after revision 200)")),  # its id was being read: the last one whole
])
def test_a_codec_error_inside_a_revision_names_the_revision_being_read(inside, names):
    from dumpproc.errors import CorruptInput

    data = dump_with(good_page(2))
    bad_start = data.index(b"<page>", data.index(b"<id>2</id>") - 200)
    cut = data.index(inside, data.index(b"<revision>", data.index(b"<id>200</id>"))) + len(inside)
    assert cut > bad_start
    seen = []
    with pytest.raises(CorruptInput) as caught:
        for p in Dump(_FailingStream(data, cut), "cut.xml.xz").pages():
            seen.extend(r.id for r in p)
    error, (named, after) = caught.value, names
    assert seen == [100, 101, 102, 200] and error.page_id == 2
    if named:
        assert error.revision_id == 201 and named in str(error) and "after revision" not in str(error)
    else:
        assert error.revision_id is None and after in str(error)


# -- a missing field is placed at its element ------------------------------------------------

@pytest.mark.parametrize("name", ["revision without id", "revision without timestamp"])
def test_a_revision_lacking_a_field_is_placed_at_its_revision_tag(name):
    bad, _ = BAD_PAGES[name]
    data = dump_with(bad)
    at = data.index(b"<revision>", data.index(b"<id>200</id>"))  # revision 201's, the faulty one
    with pytest.raises(MalformedXML) as caught:
        read_all(data)
    assert caught.value.uncompressed_offset == at
    assert caught.value.line == data[:at].count(b"\n") + 1


def test_a_first_revision_without_id_is_placed_there_not_at_the_end_of_the_file():
    """The shape of refinery's mediawiki-dump-test.xml: no schema version, the first page's first
    revision without <id>, a page without <ns> or <id> after it. The fault is at byte 220, the
    revision's tag, not where lxml had read to (the end of the file)."""
    revision_without_id = (b"        <revision>\n            <timestamp>2001-01-15T13:15:00Z</timestamp>\n"
                           b"            <contributor><username>Foobar</username></contributor>\n"
                           b"            <text>A bunch of [[text]] here.</text>\n        </revision>\n")
    data = (b'<mediawiki xml:lang="en">\n    <page>\n        <id>1</id>\n        <ns>1</ns>\n'
            b"        <title>Page title</title>\n        <restrictions>edit=sysop:move=sysop</restrictions>\n"
            b'        <redirect title="Redirect title" />\n' + revision_without_id + b"    </page>\n"
            + b"    <page>\n        <title>Talk:Page title</title>\n" + revision_without_id * 20 + b"    </page>\n"
            + b"</mediawiki>")
    assert len(data) > 2700
    with pytest.raises(MalformedXML, match="no <id>") as caught:
        read_all(data)
    assert caught.value.uncompressed_offset == data.index(b"<revision>") == 220
    assert (caught.value.line, caught.value.page_id, caught.value.revision_id) == (8, 1, None)


# -- warnings are not faults ------------------------------------------------------------------

#: portstrom's test.xml declares xmlns:xsi hard-wrapped over two lines: a namespace name with a line
#: break in it is not a valid URI, which libxml2 logs (WAR_NS_URI) and lxml raises at the document's end
WRAPPED_ROOT = (b'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" xmlns:xsi="http://www.w3.org/2001\n'
                b'/XMLSchema-instance" xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.10/ http://www.\n'
                b'mediawiki.org/xml/export-0.10.xsd" version="0.10" xml:lang="en">\n')


def test_a_namespace_name_that_is_not_a_uri_is_a_warning_not_a_fault():
    data = WRAPPED_ROOT + HEADER[HEADER.index(b"\n") + 1:] + good_page(1) + good_page(2) + FOOTER
    dump, pages = read_all(data)
    assert pages == [(1, [100, 101, 102], False), (2, [200, 201, 202], False)]
    assert dump.site_info.schema_version == "0.10" and dump.site_info.dbname == "testwiki"


def test_a_fault_after_such_a_warning_is_the_fault_named():
    data = WRAPPED_ROOT + HEADER[HEADER.index(b"\n") + 1:] + good_page(1) + good_page(2) + FOOTER
    cut = data.index(b"<id>201</id>") + 3
    with pytest.raises(MalformedXML) as caught:
        read_all(data[:cut])
    assert "WAR_NS_URI" not in str(caught.value) and caught.value.page_id == 2
    bad = data.replace(b"Text 1 of page 2.", b"Text &#0; of page 2.")
    with pytest.raises(MalformedXML, match="not well-formed: a character") as caught:
        read_all(bad)
    assert "WAR_NS_URI" not in str(caught.value)
    assert abs(caught.value.uncompressed_offset - bad.index(b"&#0;")) <= 16 and caught.value.revision_id == 201


def test_the_real_file_with_a_wrapped_namespace_is_read_whole():
    from conftest import shared_dump

    path = shared_dump("portstrom__parse_mediawiki_dump/test.xml")
    dump, pages = read_all(path.read_bytes())
    assert pages == [(10, [854851586], False)]
    assert dump.site_info.dbname == "enwiki"
