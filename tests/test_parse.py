"""The readers: every field of schemas 0.3 to 0.11 (both readers alike), constant memory, clear errors (lxml's;
the fast reader falls back on what it does not read)."""

from __future__ import annotations

import io

import pytest

from conftest import shared_dump
from dumpproc.errors import MalformedXML
from dumpproc.fastxml import Fallback
from dumpproc.parse import Dump
from dumpproc.parse.readers import open_reader
from dumpproc.records import Slot, sha1_base36

NS10 = 'xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10"'
NS11 = 'xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11"'

SITEINFO = """
  <siteinfo>
    <sitename>Wikipedia</sitename>
    <dbname>testwiki</dbname>
    <base>https://test.wikipedia.org/wiki/Main_Page</base>
    <generator>MediaWiki 1.45</generator>
    <case>first-letter</case>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="1" case="first-letter">Talk</namespace>
      <namespace key="10" case="first-letter">Template</namespace>
    </namespaces>
  </siteinfo>"""


def dump_of(body: str, root: str = NS10, siteinfo: str = SITEINFO, parser: str = "lxml"):
    """The inline dump read by ``parser`` (the tests that take the ``parser`` fixture run over
    both readers: the same records, the same counts)."""
    xml = f"<mediawiki {root}>{siteinfo}{body}</mediawiki>"
    return open_reader(parser, io.BytesIO(xml.encode("utf-8")), "inline.xml")


def read_with(parser: str):
    """``dump_of`` for one reader."""
    return lambda body, **options: dump_of(body, parser=parser, **options)


def revisions_of(dump: Dump) -> list:
    return [(page.header, revision) for page in dump.pages() for revision in page]


def test_siteinfo_fields_and_namespaces(parser):
    dump = read_with(parser)("")
    site = dump.site_info
    assert (site.dbname, site.sitename, site.schema_version, site.case) == ("testwiki", "Wikipedia", "0.10", "first-letter")
    assert site.namespaces == {0: "", 1: "Talk", 10: "Template"}
    assert list(dump.pages()) == []


def test_every_revision_field(parser):
    (header, rev), = revisions_of(read_with(parser)("""
  <page>
    <title>Template:Foo &amp; bar</title><ns>10</ns><id>7</id>
    <redirect title="Template:Baz" />
    <restrictions>edit=sysop</restrictions>
    <revision>
      <id>100</id><parentid>99</parentid><timestamp>2020-01-02T03:04:05Z</timestamp>
      <contributor><username>Alice</username><id>42</id></contributor>
      <minor />
      <comment>fix &lt;ref&gt;</comment>
      <model>wikitext</model><format>text/x-wiki</format>
      <text bytes="9" xml:space="preserve">  é &amp; x  </text>
      <sha1>abc</sha1>
    </revision>
  </page>"""))
    assert header == (7, 10, "Template:Foo & bar", "Template:Baz", "edit=sysop")
    assert rev.id == 100 and rev.parent_id == 99 and rev.page_id == 7
    assert rev.timestamp == "2020-01-02T03:04:05Z"
    assert (rev.user_id, rev.user_text, rev.user_is_anonymous, rev.user_deleted) == (42, "Alice", False, False)
    assert rev.minor is True
    assert rev.comment == "fix <ref>"
    assert (rev.model, rev.format) == ("wikitext", "text/x-wiki")
    assert rev.text == "  é & x  "  # xml:space="preserve": whitespace kept
    assert rev.text_bytes == len("  é & x  ".encode("utf-8"))
    assert rev.sha1 == "abc"


def test_deleted_fields_and_ip_editors(parser):
    revs = revisions_of(read_with(parser)("""
  <page><title>A</title><ns>0</ns><id>1</id>
    <revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor deleted="deleted" /><comment deleted="deleted" />
      <text bytes="55" deleted="deleted" /><sha1 /></revision>
    <revision><id>2</id><timestamp>2020-01-02T00:00:00Z</timestamp>
      <contributor><ip>2001:db8::1</ip></contributor>
      <text bytes="0" /><sha1>phoiac9h4m842xq45sp7s6u21eteeq1</sha1></revision>
  </page>"""))
    (_, deleted), (_, anonymous) = revs
    assert deleted.user_deleted and deleted.user_text is None and deleted.user_id is None
    assert deleted.comment_deleted and deleted.comment is None
    assert deleted.text_deleted and deleted.text is None and deleted.text_bytes == 55
    assert deleted.sha1 is None
    assert deleted.minor is False
    assert anonymous.user_is_anonymous and anonymous.user_text == "2001:db8::1" and anonymous.user_id is None
    assert anonymous.text == "" and anonymous.text_bytes == 0
    assert anonymous.comment == ""  # no <comment> is an empty comment, not a deleted one


def test_stub_text_keeps_size_and_sha1_without_text(parser):
    (_, rev), = revisions_of(read_with(parser)("""
  <page><title>A</title><ns>0</ns><id>1</id>
    <revision><id>5</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor>
      <text bytes="1234" id="99" location="tt:99" /><sha1>xyz</sha1></revision>
  </page>"""))
    assert rev.text is None and rev.text_bytes == 1234 and rev.sha1 == "xyz" and not rev.text_deleted


def test_schema_011_main_slot_feeds_text_and_other_slots_are_read_apart(parser):
    (_, rev), = revisions_of(read_with(parser)("""
  <page><title>File:X.jpg</title><ns>6</ns><id>3</id>
    <revision><id>8</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor>
      <origin>8</origin><model>wikitext</model><format>text/x-wiki</format>
      <text bytes="4" sha1="mainsha" xml:space="preserve">main</text>
      <content><role>mediainfo</role><origin>8</origin><model>wikibase-mediainfo</model>
        <format>application/json</format><text bytes="2" sha1="s2" xml:space="preserve">{}</text></content>
      <sha1>combined</sha1></revision>
  </page>""", root=NS11))
    assert rev.text == "main" and rev.model == "wikitext" and rev.sha1 == "combined"
    assert rev.text_sha1 == "mainsha" and rev.text_bytes == 4
    assert rev.slots == (Slot("mediainfo", "wikibase-mediainfo", "application/json", b"{}", 2, "s2", False),)
    assert rev.roles == ["main", "mediainfo"]


def test_schema_011_content_element_with_main_role(parser):
    (_, rev), = revisions_of(read_with(parser)("""
  <page><title>A</title><ns>0</ns><id>3</id>
    <revision><id>8</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor>
      <content><role>main</role><origin>8</origin><model>json</model>
        <format>application/json</format><text bytes="2" sha1="s2" xml:space="preserve">{}</text></content>
    </revision>
  </page>""", root=NS11))
    assert (rev.text, rev.model, rev.format, rev.text_sha1) == ("{}", "json", "application/json", "s2")
    assert rev.sha1 is None and rev.slots == () and rev.revision_sha1() == "s2"


def test_schema_011_slots_without_sha1s_deleted_and_of_unknown_size(parser):
    """Slots as written: sizes from the bytes attribute (MediaWiki's, which for Wikibase content is
    not the JSON's bytes), a deleted slot's size and sha1 kept, bytes="-1" unknown, sorted by role."""
    dump = read_with(parser)("""
  <page><title>File:X.jpg</title><ns>6</ns><id>3</id>
    <revision><id>8</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor>
      <model>wikitext</model><format>text/x-wiki</format>
      <text bytes="99" xml:space="preserve">main</text>
      <content><role>zeta</role><model>json</model><format>application/json</format>
        <text bytes="-1" deleted="deleted" /></content>
      <content><role>mediainfo</role><model>wikibase-mediainfo</model><format>application/json</format>
        <text bytes="10" xml:space="preserve">{}</text></content>
      <content><role>extra</role><model>json</model><format>application/json</format>
        <text bytes="3" sha1="s3" deleted="deleted" /></content>
      <content><role>mediainfo</role><model>json</model><text>second of a role: not read</text></content>
      <content><model>json</model><text>no role</text></content>
      <sha1 /></revision>
  </page>""", root=NS11)
    (_, rev), = revisions_of(dump)
    assert dump.unknown_elements["content:(no role)"] == 1
    assert rev.text == "main" and rev.text_bytes == 4 and rev.sha1 is None and rev.text_sha1 is None
    assert rev.slots == (
        Slot("extra", "json", "application/json", None, 3, "s3", True),
        Slot("mediainfo", "wikibase-mediainfo", "application/json", b"{}", 10, None, False),
        Slot("zeta", "json", "application/json", None, None, None, True),
    )
    assert rev.size() is None and rev.revision_sha1() is None  # zeta's size and sha1 are not known
    assert rev._replace(slots=rev.slots[:2]).size() == 4 + 3 + 10


@pytest.mark.parametrize("text, expected", [
    ('<text bytes="-1" deleted="deleted" />', (None, None, True)),  # Wikimedia's dumper, deleted text
    ('<text bytes="-1" />', (None, None, False)),  # a size not known, and no text: not in the dump
    ('<text id="5" />', (None, None, False)),  # a stub without bytes: not in the dump, not an empty text
    ('<text location="tt:5" />', (None, None, False)),
    ('<text bytes="12" />', (None, 12, False)),  # a size, but no text
    ('<text bytes="0" id="5" />', ("", 0, False)),  # the empty text, which a stub need not carry
    ('<text bytes="0" />', ("", 0, False)),  # the Data Lake's dumper: a visible empty text
    ("<text />", ("", 0, False)),
    ('<text bytes="-1">abc</text>', ("abc", 3, False)),  # a text: its own size
])
def test_text_sizes_known_unknown_and_stubs(parser, text, expected):
    (_, rev), = revisions_of(read_with(parser)(f"""
  <page><title>A</title><ns>0</ns><id>1</id>
    <revision><id>5</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor>{text}<sha1 /></revision>
  </page>"""))
    assert (rev.text, rev.text_bytes, rev.text_deleted) == expected
    assert rev.main_sha1() == (None if expected[0] is None else sha1_base36(expected[0]))


def test_line_ends_are_read_as_xml_delivers_them():
    """CR LF and a lone CR are LF in XML (its section 2.11); a character reference keeps a CR."""
    (_, rev), = revisions_of(Dump(io.BytesIO(
        f"<mediawiki {NS10}>{SITEINFO}<page><title>A</title><ns>0</ns><id>1</id><revision><id>5</id>"
        "<timestamp>2020-01-01T00:00:00Z</timestamp><contributor><username>B</username><id>2</id></contributor>"
        "<text>a\r\nb\rc&#13;</text></revision></page></mediawiki>".encode("utf-8")), path="crlf.xml"))
    assert rev.text_utf8 == b"a\nb\nc\r" and rev.text_bytes == 6
    assert rev.main_sha1() == sha1_base36(b"a\nb\nc\r") != sha1_base36(b"a\r\nb\rc\r")


def test_hexadecimal_sha1_is_kept_as_given(parser):
    (_, rev), = revisions_of(read_with(parser)("""
  <page><title>A</title><ns>0</ns><id>1</id>
    <revision><id>5</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor><text>x</text>
      <sha1>11f6ad8ec52a2984abaafd7c3b516503785c2072</sha1></revision>
  </page>"""))
    assert rev.main_sha1() == rev.revision_sha1() == "11f6ad8ec52a2984abaafd7c3b516503785c2072"


def test_old_schema_namespace_from_title_prefix(parser):
    dump = read_with(parser)("""
  <page><title>Talk:Pear</title><id>4</id><redirect />
    <revision><id>1</id><timestamp>2002-01-01T00:00:00Z</timestamp>
      <contributor><ip>127.0.0.1</ip></contributor><text xml:space="preserve">x</text></revision></page>
  <page><title>Pear: a fruit</title><id>5</id>
    <revision><id>2</id><timestamp>2002-01-01T00:00:00Z</timestamp>
      <contributor><ip>127.0.0.1</ip></contributor><text xml:space="preserve">y</text></revision></page>""",
                   root='xmlns="http://www.mediawiki.org/xml/export-0.3/" version="0.3"')
    (talk, _), (main, _) = revisions_of(dump)
    assert (talk.namespace, talk.title, talk.redirect_title) == (1, "Talk:Pear", "")
    assert main.namespace == 0
    assert dump.pages_without_ns == 2


@pytest.mark.parametrize("root", [NS10, NS11])
def test_a_page_without_ns_in_a_later_schema_takes_its_namespace_from_its_title(parser, root):
    """As mwxml reads one (its test_dump: Talk:Bar without <ns> is namespace 1); the dump counts them."""
    dump = read_with(parser)("""
  <page><title>Foo</title><ns>0</ns><id>1</id>
    <revision><id>1</id><timestamp>2004-08-09T09:04:08Z</timestamp></revision></page>
  <page><title>Talk:Bar</title><id>2</id><redirect title="Computer accessibility" />
    <revision><id>3</id><timestamp>2004-08-11T09:04:08Z</timestamp></revision></page>
  <page><title>Template:Baz</title><id>4</id>
    <revision><id>5</id><timestamp>2004-08-11T09:04:08Z</timestamp></revision></page>
  <page><title>Nowhere:Qux</title><id>6</id>
    <revision><id>6</id><timestamp>2004-08-11T09:04:08Z</timestamp></revision></page>""", root=root)
    headers = [header for header, _ in revisions_of(dump)]
    assert [(h.id, h.namespace, h.title) for h in headers] == [
        (1, 0, "Foo"), (2, 1, "Talk:Bar"), (4, 10, "Template:Baz"), (6, 0, "Nowhere:Qux")]
    assert headers[1].redirect_title == "Computer accessibility"
    assert dump.pages_without_ns == 3 and dump.page_count == 4


def test_version_from_namespace_when_attribute_missing(parser):
    dump = read_with(parser)("", root='xmlns="http://www.mediawiki.org/xml/export-0.8/"')
    assert dump.site_info.schema_version == "0.8"


UNKNOWN = """
  <page><title>A</title><ns>0</ns><id>1</id><mystery>?</mystery>
    <revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id><avatar /></contributor>
      <texts>typo'd</texts><text xml:space="preserve">t</text></revision>
  </page>
  <logitem><id>1</id></logitem>"""


def test_unknown_elements_are_skipped_and_counted():
    dump = dump_of(UNKNOWN)
    revs = revisions_of(dump)
    assert len(revs) == 1 and revs[0][1].text == "t"
    assert dump.unknown_elements == {"page:mystery": 1, "revision:texts": 1, "contributor:avatar": 1,
                                     "mediawiki:logitem": 1}
    with pytest.raises(Fallback):  # the fast reader leaves what MediaWiki does not write to lxml
        revisions_of(read_with("fast")(UNKNOWN))


def test_dump_without_siteinfo(parser):
    if parser == "fast":  # the fast reader reads no dump without one: it falls back (lxml reads it)
        with pytest.raises(Fallback):
            read_with(parser)("<page><title>A</title><ns>0</ns><id>1</id></page>", siteinfo="")
        return
    dump = read_with(parser)("""<page><title>A</title><ns>0</ns><id>1</id>
      <revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor><text>t</text></revision></page>""",
                   siteinfo="")
    assert dump.site_info.dbname is None and dump.site_info.schema_version == "0.10"
    assert [r.id for _, r in revisions_of(dump)] == [1]


def test_real_dump_without_siteinfo():
    from dumpproc.sources import open_dump

    path = shared_dump("RaRe-Technologies__gensim/enwiki-table-markup.xml.bz2")
    with open_dump(str(path)) as stream:
        dump = Dump(stream)
        assert dump.site_info.dbname is None
        assert sum(1 for page in dump.pages() for _ in page) == 5


def test_text_larger_than_libxml2_default_limit(parser):
    big = "x" * (12 * 1024 * 1024) + "é"
    (_, rev), = revisions_of(read_with(parser)(f"""<page><title>A</title><ns>0</ns><id>1</id>
      <revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>B</username><id>2</id></contributor>
      <text xml:space="preserve">{big}</text></revision></page>"""))
    assert rev.text == big and rev.text_bytes == len(big) + 1


def pages_xml(pages: int, revisions: int, step: int) -> str:
    """Pages 1..pages, each with revisions numbered page * step + 0..revisions-1."""
    return "".join(
        f"""<page><title>P{p}</title><ns>0</ns><id>{p}</id>""" + "".join(
            f"""<revision><id>{p * step + r}</id><timestamp>2020-01-01T00:00:00Z</timestamp>
            <contributor><username>B</username><id>2</id></contributor><text>t{r}</text></revision>"""
            for r in range(revisions)) + "</page>" for p in range(1, pages + 1))


def test_pages_and_revisions_are_single_pass_and_drained(parser):
    dump = read_with(parser)(pages_xml(4, 3, 10))
    seen = []
    for page in dump.pages():
        if page.id % 2:
            continue  # left unread: drained when the next page is asked for
        seen.extend(r.id for r in page)
        assert list(page) == []  # a page's revisions are read once
    assert seen == [20, 21, 22, 40, 41, 42]
    assert dump.revision_count == 12
    with pytest.raises(RuntimeError):
        list(dump.pages())


def test_finished_elements_are_dropped_from_the_tree():
    dump = dump_of(pages_xml(29, 50, 100))

    def leftovers(parent, tag, current_id):
        """Children already handed out (id <= current) or cleared but still attached."""
        children = [child for child in parent if child.tag.endswith(tag)]
        left = []
        for child in children:
            ident = child.findtext("{*}id") or ""
            if ident.isdigit() and int(ident) <= current_id:
                left.append(child)
            elif len(child) == 0 and child is not children[-1]:  # the last one may still be parsing
                left.append(child)
        return left

    for page in dump.pages():
        for revision in page:
            # libxml2 may have parsed ahead, but every revision already handed out is gone
            page_element, = (p for p in dump._root if p.tag.endswith("page") and p.findtext("{*}id") == str(page.id))
            assert leftovers(page_element, "revision", revision.id) == []
        # and so is every page already read
        assert leftovers(dump._root, "page", page.id) == []


@pytest.mark.parametrize("body, message", [
    ("<page><ns>0</ns><id>3</id><revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp></revision></page>",
     "no <title>"),
    ("<page><title>A</title><ns>0</ns><id>3</id><revision><timestamp>2020-01-01T00:00:00Z</timestamp></revision></page>",
     "no <id>"),
    ("<page><title>A</title><ns>0</ns><id>3</id><revision><id>1</id></revision></page>", "no <timestamp>"),
    ("<page><title>A</title><ns>0</ns><id>3</id><revision><id>x</id><timestamp>t</timestamp></revision></page>",
     "not an integer"),
])
def test_missing_fields_name_the_page(body, message):
    with pytest.raises(MalformedXML, match=message) as caught:
        revisions_of(dump_of(body))
    assert caught.value.page_id == 3 and caught.value.path == "inline.xml"
    assert "inline.xml" in str(caught.value) and "page 3" in str(caught.value)


def test_malformed_xml_names_file_line_and_the_revision_being_read():
    body = """<page><title>A</title><ns>0</ns><id>3</id>
      <revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp><text>ok</text></revision>
      <revision><id>2</id><timestamp>2020-01-01T00:00:00Z</timestamp><text>bad &#0; ref</text></revision></page>"""
    with pytest.raises(MalformedXML) as caught:
        revisions_of(dump_of(body))
    error = caught.value
    assert error.line is not None and error.page_id == 3 and error.revision_id == 2
    assert "page 3, revision 2:" in str(error) and "after revision" not in str(error)
    assert "not well-formed" in str(error) and "inline.xml" in str(error)


def test_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE mediawiki [<!ENTITY leak SYSTEM "file://{secret}">]>
<mediawiki {NS10}><page><title>A</title><ns>0</ns><id>1</id>
<revision><id>1</id><timestamp>2020-01-01T00:00:00Z</timestamp><text>x&leak;y</text></revision></page></mediawiki>"""
    with pytest.raises(MalformedXML, match="DTD") as caught:
        Dump(io.BytesIO(xml.encode()), path="entity.xml")
    assert "TOP SECRET" not in str(caught.value)


def test_not_a_mediawiki_document():
    with pytest.raises(MalformedXML, match="not a MediaWiki export"):
        Dump(io.BytesIO(b"<html><body/></html>"), path="x.html")
