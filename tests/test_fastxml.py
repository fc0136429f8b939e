"""The compiled reader against the lxml reader: the same pages and revisions, field for field, for
every block size; a fallback (never a misreading) on what MediaWiki does not write."""

from __future__ import annotations

import bz2
import io
import itertools
from datetime import datetime, timedelta, timezone

import pytest

import gen_dump
from conftest import FIXTURES, SAMPLE
from dumpproc.errors import MalformedXML
from dumpproc.fastxml import Fallback
from dumpproc.fastxml.reader import FastDump
from dumpproc.parse import Dump
from dumpproc.records import Revision, RevisionBatch

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

ROOT = '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">'
SITEINFO = ("<siteinfo><sitename>W</sitename><dbname>w</dbname><namespaces>"
            '<namespace key="0" /><namespace key="1">Talk</namespace></namespaces></siteinfo>')

# What MediaWiki's writer does, and what it might: entities and references in titles, comments,
# names and attributes, line ends of three kinds, self-closing and deleted elements, slots.
TRICKY = (ROOT + "\r\n  " + SITEINFO + """
  <page>
    <title>Talk:A &amp; B &lt;&gt; &quot;q&quot; &apos;a&apos; &#233;&#x1F642;</title>
    <ns>1</ns>
    <id>7</id>
    <redirect title="B &amp; &#x9;tab	and&#10;line&#13;x
y" />
    <restrictions>edit=sysop</restrictions>
    <revision>
      <id>70</id>
      <timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>N&#228;me</username><id>3</id></contributor>
      <minor/>
      <comment>a\r\nb\rc&#13;d</comment>
      <origin>70</origin>
      <model>wikitext</model>
      <format>text/x-wiki</format>
      <text xml:space='preserve' sha1="abc" bytes="9">line one\r\nline &lt;two&gt;\rthree ]]&gt; 北京</text>
      <sha1>abc</sha1>
    </revision>
    <revision>
      <id>71</id>
      <parentid>70</parentid>
      <timestamp>2020-01-02T00:00:00+02:00</timestamp>
      <contributor deleted="deleted" />
      <comment deleted="deleted"/>
      <model/>
      <text bytes="12" deleted="deleted" />
      <sha1/>
    </revision>
    <revision >
      <id>72</id>
      <timestamp>2020-01-03T00:00:00Z</timestamp>
      <contributor><ip>2001:db8::1</ip></contributor>
      <content><role>main</role><origin>72</origin><model>wikitext</model><format>text/x-wiki</format>
        <text bytes="4" sha1="m1">main</text></content>
      <content><role>mediainfo</role><model>wikibase-mediainfo</model><format>application/json</format>
        <text bytes="40" sha1="s1">{"a": "&lt;&gt;"}</text></content>
      <content><role>aux</role><text id="5" /></content>
    </revision>
  </page>
  <page>
    <title>Stub</title>
    <ns>0</ns>
    <id>8</id>
  </page>
  <page>
    <title>Talk:No ns</title>
    <id>9</id>
    <revision><id>90</id><timestamp>2020-01-01T00:00:00Z</timestamp><text id="12" /></revision>
  </page>
</mediawiki>
""").encode("utf-8")


def read_lxml(data: bytes):
    dump = Dump(io.BytesIO(data), "x.xml")
    pages = [(page.header, list(page)) for page in dump.pages()]
    return dump.site_info, pages, _counts(dump)


def read_fast(data: bytes, block_size: int = 1 << 16, columns: bool = False):
    """The fast reader's pages and revisions: as records, or (``columns``) read as ``segments()``,
    each ``RevisionBatch`` row made the ``Revision`` it stands for."""
    dump = FastDump(io.BytesIO(data), "x.xml", block_size=block_size)
    pages = [(page.header, list(_expanded(page) if columns else page)) for page in dump.pages()]
    return dump.site_info, pages, _counts(dump)


def _expanded(page):
    for segment in page.segments():
        if not isinstance(segment, RevisionBatch):
            yield segment
            continue
        texts = [segment.text(i) for i in range(len(segment))]
        strings = {name: segment.strings(name) for name in segment.spans}
        for i in range(len(segment)):
            moment = EPOCH + timedelta(microseconds=int(segment.timestamps_us[i]))
            yield Revision(
                page_id=page.id, id=int(segment.ids[i]), parent_id=int(segment.parent_ids[i]) or None,
                timestamp=moment.strftime("%Y-%m-%dT%H:%M:%SZ"), user_id=int(segment.user_ids[i]) or None,
                user_text=strings["user_text"][i], user_is_anonymous=bool(segment.anonymous[i]),
                user_deleted=bool(segment.user_deleted[i]), minor=bool(segment.minor[i]),
                comment=strings["comment"][i], comment_deleted=bool(segment.comment_deleted[i]),
                model=strings["model"][i], format=strings["format"][i],
                text_utf8=None if texts[i] is None else bytes(texts[i]),
                text_bytes=None if segment.text_bytes[i] < 0 else int(segment.text_bytes[i]),
                text_deleted=bool(segment.text_deleted[i]), sha1=strings["sha1"][i],
                text_sha1=strings["text_sha1"][i])


def _counts(dump):
    return (dump.page_count, dump.revision_count, dump.pages_without_revisions, dump.pages_without_ns,
            dict(dump.unknown_elements), dump.skipped_pages)


def assert_same(data: bytes, block_size: int = 1 << 16):
    """The fast reader gives lxml's records, read as records and as columns."""
    expected = read_lxml(data)
    _assert_same(read_fast(data, block_size, columns=True), expected)
    return _assert_same(read_fast(data, block_size), expected)


def _assert_same(got, expected):
    assert got[0] == expected[0]
    assert len(got[1]) == len(expected[1])
    for (header, revisions), (want_header, want_revisions) in zip(got[1], expected[1]):
        assert header == want_header
        assert len(revisions) == len(want_revisions), header
        for revision, wanted in zip(revisions, want_revisions):
            assert revision._asdict() == wanted._asdict()  # field for field: a difference names its field
    assert got[2] == expected[2]
    return expected


def test_what_mediawiki_writes_is_read_as_lxml_reads_it():
    _, pages, counts = assert_same(TRICKY)
    (header, revisions), stub, no_ns = pages
    assert header.title == "Talk:A & B <> \"q\" 'a' é🙂" and header.redirect_title == "B & \ttab and\nline\rx y"
    assert revisions[0].text_utf8 == "line one\nline <two>\nthree ]]> 北京".encode()
    assert revisions[0].comment == "a\nb\nc\rd"
    assert [slot.role for slot in revisions[2].slots] == ["aux", "mediainfo"]
    assert counts[:4] == (3, 4, 1, 1)
    # read as columns: one-slot revisions in MediaWiki's forms are batches, the rest records
    dump = FastDump(io.BytesIO(TRICKY), "x.xml")
    kinds = [["batch" if isinstance(s, RevisionBatch) else "record" for s in page.segments()] for page in dump.pages()]
    assert kinds == [["batch", "record", "record"], [], ["batch"]]  # a +02:00 timestamp; slots


def test_every_block_boundary_gives_the_same_rows():
    """Every block size from one byte up: the scan resumes at its last boundary, whatever the cut."""
    expected = read_lxml(TRICKY)
    for block_size in [*range(1, 200), *range(200, len(TRICKY) + 50, 7)]:
        assert read_fast(TRICKY, block_size) == expected, block_size
        assert read_fast(TRICKY, block_size, columns=True) == expected, block_size


class _Trickle(io.RawIOBase):
    """A stream with ``read`` only (no ``readinto`` of its own), giving fewer bytes than asked."""

    def __init__(self, data: bytes):
        self._data, self._at, self._sizes = data, 0, itertools.cycle([1, 7, 3, 64, 2])

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = min(size if size >= 0 else len(self._data), next(self._sizes))
        chunk = self._data[self._at:self._at + size]
        self._at += len(chunk)
        return chunk


def test_a_stream_that_can_only_read_and_gives_short_reads_gives_the_same_rows(monkeypatch):
    """The block is filled with the stream's own ``readinto`` where it has one (a decompressor writes
    straight into it), else by ``read`` and a copy; a short read is read on from where it stopped."""
    expected = read_lxml(TRICKY)

    def short_readinto(self, view) -> int:
        chunk = self.read(len(view))
        view[:len(chunk)] = chunk
        return len(chunk)

    for readinto in (short_readinto, None):  # its own, giving short reads; then none at all
        monkeypatch.setattr(_Trickle, "readinto", readinto)
        for block_size in (1, 5, 64, 1 << 16):
            dump = FastDump(_Trickle(TRICKY), "x.xml", block_size=block_size)
            assert ((dump.site_info, [(page.header, list(page)) for page in dump.pages()], _counts(dump))
                    == expected), block_size


def test_a_small_field_table_is_refilled(monkeypatch):
    """Fewer table rows than a revision has: the scan stops at a boundary, and the table grows
    when not even one unit fits."""
    from dumpproc.fastxml import blocks

    calls = []
    scan = blocks.kernel.scan

    def counting(*args):
        result = scan(*args)
        calls.append(result[0])
        return result

    monkeypatch.setattr(blocks, "ROWS", 4)
    monkeypatch.setattr(blocks.kernel, "scan", counting)
    assert read_fast(TRICKY) == read_lxml(TRICKY)
    assert calls.count(blocks.kernel.FULL) > 3


@pytest.mark.parametrize("schema", gen_dump.SCHEMAS)
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_dumps(schema, seed):
    buffer = io.BytesIO()
    gen_dump.generate(buffer, gen_dump.Options(pages=12, revisions=(1, 8), text_size=600, seed=seed, schema=schema,
                                               deleted_rate=0.2, ip_mentions=0.3, account_names=True))
    data = buffer.getvalue()
    assert_same(data)
    assert_same(data, block_size=997)


@pytest.mark.parametrize("name", ["samplewiki-20260101-deleted-0.11.xml", "samplewiki-20260101-old-0.4.xml"])
def test_fixtures(name):
    assert_same((FIXTURES / name).read_bytes())


def test_sample_history():
    assert_same(bz2.decompress(SAMPLE.read_bytes()), block_size=50_000)


PAGE = "<page><title>T</title><ns>0</ns><id>1</id><revision><id>2</id><timestamp>2020-01-01T00:00:00Z</timestamp>{}</revision></page>"


@pytest.mark.parametrize("inside", [
    "<!-- a comment -->",
    "<text><![CDATA[x]]></text>",
    "<?pi x?>",
    "<text>&nbsp;</text>",  # an entity XML does not declare
    "<text>&#0;</text>",  # a character XML does not allow
    "<text>&#xD800;</text>",
    "<text>\x01</text>",
    "<text>a]]>b</text>",
    "<text>a&b</text>",
    "<mystery>x</mystery>",  # an element MediaWiki does not write (lxml counts it)
    "<text foo='1'>x</text>",
    "<text bytes='1' bytes='2'>x</text>",
    "<x:text xmlns:x='urn:x'>y</x:text>",
    "<text>x</texts>",
    "<text>x",
    "<comment>a<b/></comment>",
    "text beside elements",
    "<text bytes=1>x</text>",
    "<text bytes='<'>x</text>",
])
def test_what_mediawiki_does_not_write_falls_back(inside):
    data = (ROOT + SITEINFO + PAGE.format(inside) + "</mediawiki>").encode()
    with pytest.raises(Fallback):
        read_fast(data)


def _with_text(body: bytes) -> bytes:
    return (ROOT + SITEINFO).encode() + PAGE.format("<text>{}</text>").encode().replace(b"{}", body) + b"</mediawiki>"


# UTF-8 that is not, or not XML's: overlong forms, surrogates, U+FFFE/U+FFFF, stray or cut-short
# continuation bytes, past U+10FFFF, a control character
@pytest.mark.parametrize("body", [b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
                                  b"\xed\xbf\xbf", b"\xef\xbf\xbe", b"\xef\xbf\xbf", b"\x80", b"a\xbfb", b"\xc3",
                                  b"\xc3a", b"\xe2\x82", b"\xe2\x82a", b"\xf0\x80\x80\x80", b"\xf4\x90\x80\x80",
                                  b"\xf5\x80\x80\x80", b"x\x1fy"])
def test_bad_utf8_falls_back_where_lxml_refuses_it(body):
    data = _with_text(b"ok \xc3\xa9 " + body + b" \xe2\x82\xac")
    with pytest.raises(MalformedXML):
        read_lxml(data)
    for block_size in (1, 2, 3, 1 << 16):
        with pytest.raises(Fallback):
            read_fast(data, block_size)


def test_every_width_of_utf8_is_read_as_lxml_reads_it():
    """One to four bytes, the edges of each width, cut by blocks anywhere."""
    body = "a é ߿ ࠀ € 한 \ud7ff \ue000 \ufffd 𐀀 🙂 \U0010ffff z".encode()
    data = _with_text(body * 3)
    for block_size in range(1, 40):
        assert_same(data, block_size)


@pytest.mark.parametrize("special", [b"&amp;", b"&lt;", b"&#233;", b"\r\n", b"\r", b"\t", b"\n", b"\x7f", b">",
                                     b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x99\x82", b"\"", b"'", b" ~"])
def test_a_special_byte_anywhere_in_a_run_of_ascii_is_read_as_lxml_reads_it(special):
    """Character data is copied eight ASCII bytes at a time: one byte that is not such, at every
    offset of a word, in runs of every length near a word's, cut by blocks anywhere."""
    for run in (7, 8, 9, 16, 23):
        bodies = [b"x" * at + special + b"y" * (run - at) for at in range(run + 1)]
        data = _with_text(b"|".join(bodies) + b"z" * 17)
        for block_size in (1, 5, 8, 13, 1 << 16):
            assert_same(data, block_size)
    with pytest.raises(Fallback):
        read_fast(_with_text(b"abcdefgh" * 3 + b"\x01" + b"abcdefgh" * 3))


@pytest.mark.parametrize("data", [
    b"\xff\xfe" + (ROOT + SITEINFO + PAGE.format("") + "</mediawiki>").encode("utf-16-le"),  # UTF-16
    (ROOT + SITEINFO + PAGE.format("<text>\xe9</text>") + "</mediawiki>").encode("latin-1"),  # not UTF-8
    ("<!DOCTYPE mediawiki>" + ROOT + SITEINFO + PAGE.format("") + "</mediawiki>").encode(),
    (ROOT + SITEINFO + PAGE.format("") + "</mediawiki><page>").encode(),  # content after the end
    (ROOT + SITEINFO + PAGE.format("")).encode(),  # the document is cut short
    (ROOT + SITEINFO + PAGE.format("<timestamp>yesterday</timestamp>") + "</mediawiki>").encode(),  # lxml names it
])
def test_other_input_falls_back(data):
    with pytest.raises(Fallback):
        read_fast(data)


def _small_shared_dumps() -> list:
    from conftest import SHARED_DUMPS

    if not SHARED_DUMPS.is_dir():
        return []
    return sorted(str(p.relative_to(SHARED_DUMPS)) for p in SHARED_DUMPS.rglob("*")
                  if p.name.endswith((".xml", ".xml.bz2", ".xml.gz")) and p.stat().st_size < 3_000_000)


@pytest.mark.parametrize("relative", _small_shared_dumps() or ["(none)"])
def test_real_dumps_are_read_the_same_or_fall_back(relative):
    """Every small file of ../shared/dumps that lxml reads: the same pages and counts, or a fallback;
    never different rows. (The large ones, Anarchism among them: next, marked slow.)"""
    import gzip

    from conftest import shared_dump
    from dumpproc.errors import DumpError

    path = shared_dump(relative)
    raw = path.read_bytes()
    data = bz2.decompress(raw) if path.name.endswith(".bz2") else gzip.decompress(raw) \
        if path.name.endswith(".gz") else raw
    try:
        expected = read_lxml(data)
    except DumpError:
        pytest.skip("lxml refuses it: its error is the one users see")
    try:
        got = read_fast(data)
    except Fallback:
        return
    assert got == expected
