"""The reader registry and the normalisation every reader shares (``parse.readers``, ``parse.normalise``)."""

from __future__ import annotations

import io
import json
from collections import Counter

import pytest

from conftest import SAMPLE
from dumpproc.errors import MalformedXML
from dumpproc.parse import normalise
from dumpproc.parse.normalise import RawRevision, RawText
from dumpproc.parse.readers import READERS, choices, names, open_reader
from dumpproc.pipeline import Options, run
from dumpproc.records import PageHeader, SiteInfo

XML = b"""<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">
  <siteinfo><dbname>testwiki</dbname><namespaces><namespace key="1">Talk</namespace></namespaces></siteinfo>
  <page><title>Talk:A &amp; B</title><ns>1</ns><id>3</id>
    <revision><id>7</id><timestamp>2020-01-01T00:00:00Z</timestamp>
      <contributor><username>Ann</username><id>5</id></contributor>
      <comment>x &lt; y</comment><sha1>abc</sha1><text bytes="3">a&#10;b</text></revision>
    <revision><id>8</id><parentid>7</parentid><timestamp>2020-01-02T00:00:00Z</timestamp>
      <contributor><ip>10.0.0.1</ip></contributor><minor/><text deleted="deleted"/></revision>
  </page>
  <page><title>Empty</title><id>4</id></page>
</mediawiki>"""


def test_both_readers_are_registered_and_auto_is_a_choice_not_a_reader():
    assert names() == ("lxml", "fast") and set(READERS) == {"lxml", "fast"}
    assert choices() == ("auto", "lxml", "fast") and Options(out="x").parser == "auto"
    with pytest.raises(ValueError, match="lxml, fast"):
        open_reader("auto", io.BytesIO(XML))
    with pytest.raises(ValueError, match="--parser must be one of auto, lxml, fast"):
        Options(out="x", parser="sax")


def test_every_reader_gives_the_same_records_and_counts(parser):
    dump = open_reader(parser, io.BytesIO(XML), "inline.xml")
    assert dump.site_info.dbname == "testwiki" and dump.site_info.namespaces == {1: "Talk"}
    pages = [(page.header, list(page)) for page in dump.pages()]
    assert [header.title for header, _ in pages] == ["Talk:A & B", "Empty"]
    (header, (first, second)), (_, none) = pages
    assert header.namespace == 1 and header.id == 3 and none == []
    assert (first.id, first.user_id, first.user_text, first.comment, first.text_utf8, first.text_bytes) == (
        7, 5, "Ann", "x < y", b"a\nb", 3)
    assert (second.parent_id, second.user_is_anonymous, second.minor, second.text_deleted) == (7, True, True, True)
    # a page without <ns> takes its title's namespace, and is counted
    assert (dump.page_count, dump.revision_count, dump.pages_without_revisions, dump.pages_without_ns) == (2, 2, 1, 1)
    assert dump.unknown_elements == Counter() and dump.skipped_pages == []


@pytest.mark.parametrize("chosen, used", [("auto", "fast"), ("fast", "fast"), ("lxml", "lxml")])
def test_the_manifest_records_each_units_reader(tmp_path, chosen, used):
    out = tmp_path / "out"
    assert run([str(SAMPLE)], Options(out=str(out), workers=1, tables=("pages",), parser=chosen)).ok
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["options"]["parser"] == chosen
    assert manifest["units"] and all(unit["parser"] == used and "parser_fallback" not in unit
                                     for unit in manifest["units"])


# -- normalise: what a reader hands over, checked the same whoever read it ------------------------

def _raw(**fields) -> RawRevision:
    return RawRevision(**{"id": "7", "timestamp": "2020-01-01T00:00:00Z", **fields})


def test_a_fault_names_its_field_and_the_revision():
    with pytest.raises(MalformedXML) as caught:
        normalise.revision(_raw(timestamp="2020-13-01T00:00:00Z"), page_id=1)
    assert caught.value.field == "timestamp" and caught.value.revision_id == 7
    with pytest.raises(MalformedXML) as caught:
        normalise.revision(_raw(id=None), page_id=1)
    assert caught.value.field == "revision" and "no <id>" in caught.value.message
    with pytest.raises(MalformedXML) as caught:
        normalise.revision(_raw(id=""), page_id=1)  # empty is a bad value, not a missing element
    assert caught.value.field == "revision/id"
    with pytest.raises(MalformedXML) as caught:
        normalise.revision(_raw(contents=(("aux", None, None, RawText(b"", bytes="x")),)), page_id=1)
    assert caught.value.field == "slot:aux" and caught.value.revision_id == 7


def test_the_main_slot_and_the_others():
    contents = (("zeta", "m", "f", RawText(b"z")), ("main", "wikitext", "text/x-wiki", RawText(b"main!", sha1="s")),
                ("", None, None, RawText(b"?")), ("zeta", None, None, RawText(b"second")),
                ("aux", None, None, RawText(b"", bytes="12")))
    unknown = Counter()
    revision = normalise.revision(_raw(text=RawText(b"first"), model="old", contents=contents), 1, unknown)
    assert (revision.text_utf8, revision.text_sha1, revision.model) == (b"main!", "s", "wikitext")
    assert [(s.role, s.text_utf8, s.size) for s in revision.slots] == [("aux", None, 12), ("zeta", b"z", 1)]
    assert unknown == {"content:(no role)": 1}


@pytest.mark.parametrize("text, expected", [
    (RawText(b"abc", bytes="9"), (b"abc", 3, False)),  # the bytes' size, not the attribute's
    (RawText(b"", bytes="-1"), (None, None, False)),  # an unknown size: not an empty text
    (RawText(b"", bytes="5"), (None, 5, False)),  # a size but no text
    (RawText(b"", stored=True), (None, None, False)),  # a stub
    (RawText(None, deleted=True, bytes="4"), (None, 4, True)),
])
def test_text_value(text, expected):
    assert normalise.text_value(text) == expected


def test_page_header():
    site = SiteInfo.empty()._replace(namespaces={10: "Template"})
    assert normalise.page_header("3", "Template:X", None, None, None, site) == (
        PageHeader(3, 10, "Template:X", None, None), True)
    with pytest.raises(MalformedXML) as caught:
        normalise.page_header("3", None, "0", None, None, site)
    assert caught.value.field == "page" and caught.value.page_id == 3
    with pytest.raises(MalformedXML) as caught:
        normalise.page_header("3", "T", "x", None, None, site)
    assert caught.value.field == "page/ns"
