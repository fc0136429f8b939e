"""Values inside well-formed XML: what a dump may hold is read, anything else fails the unit at its place."""

from __future__ import annotations

import io

import pytest

from dumpproc.errors import MalformedXML
from dumpproc.parse import Dump
from dumpproc.parse import values
from test_parse_errors import FOOTER, HEADER, good_page


def revision(rev_id: bytes = b"201", *, timestamp: bytes = b"2020-01-01T00:00:00Z", parent: bytes | None = None,
             contributor: bytes = b"<username>Ann</username><id>7</id>") -> bytes:
    return (b"    <revision>\n      <id>" + rev_id + b"</id>\n"
            + (b"      <parentid>" + parent + b"</parentid>\n" if parent is not None else b"")
            + b"      <timestamp>" + timestamp + b"</timestamp>\n"
            + b"      <contributor>" + contributor + b"</contributor>\n"
            + b'      <text bytes="4" xml:space="preserve">text</text>\n    </revision>\n')


def page(*revisions: bytes, page_id: bytes = b"2", ns: bytes = b"0") -> bytes:
    return (b"  <page>\n    <title>Page two</title>\n    <ns>" + ns + b"</ns>\n    <id>" + page_id + b"</id>\n"
            + b"".join(revisions) + b"  </page>\n")


def read(data: bytes, on_error: str = "fail-unit"):
    """(dump, [(page id, [revisions])]) of the whole dump."""
    dump = Dump(io.BytesIO(data), "values.xml", on_error=on_error)
    return dump, [(p.id, list(p)) for p in dump.pages()]


def fails(data: bytes, marker: bytes) -> MalformedXML:
    """The error reading ``data`` gives, checked to name the file and the line and bytes of ``marker``."""
    with pytest.raises(MalformedXML) as caught:
        read(data)
    error = caught.value
    spot = data.index(marker)
    line = data[:spot].count(b"\n") + 1
    assert error.path == "values.xml" and error.line == line, (str(error), line)
    line_start = data.rindex(b"\n", 0, spot) + 1
    assert error.uncompressed_offset == line_start, (str(error), line_start)
    text = str(error)
    assert text.startswith(f"values.xml, XML byte {line_start}, line {line}") and "\n" not in text
    return error


def in_page_two(*revisions: bytes, **header) -> bytes:
    return HEADER + good_page(1) + page(revision(b"200"), *revisions, **header) + good_page(3) + FOOTER


BAD_TIMESTAMPS = [b"garbage", b"2020-13-01T00:00:00Z", b"0000-01-01T00:00:00Z", b"2020-01-01T24:00:00Z",
                  b"2020-02-30T00:00:00Z", b"2020-01-01T00:00:60Z", b"2020-W01-3T00:00:00Z", b"2020-001T00:00:00Z",
                  b"20200101T000000Z", b"2020-01-01 00:00:00Z", b"2020-01-01T00:00Z", b"2020-01-01T00:00:00+24:00",
                  "\u0662020-01-01T00:00:00Z".encode(), b" 2020-01-01T00:00:00Z", b""]


@pytest.mark.parametrize("stamp", BAD_TIMESTAMPS, ids=lambda s: s.decode() or "empty")
def test_a_bad_timestamp_fails_naming_the_revision(stamp):
    data = in_page_two(revision(timestamp=stamp))
    error = fails(data, b"<timestamp>" + stamp + b"</timestamp>\n      <contributor>")
    assert (error.page_id, error.revision_id) == (2, 201) and "page 2, revision 201: <timestamp>" in str(error)
    assert stamp.decode().strip() not in str(error).split(": ", 1)[1] or not stamp.strip()  # never quoted


@pytest.mark.parametrize("stamp, canonical", [
    (b"2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
    (b"2020-01-01T00:00:00", "2020-01-01T00:00:00Z"),  # UTC, as MediaWiki's always is
    (b"2020-01-01T02:30:00+02:00", "2020-01-01T00:30:00Z"),
    (b"2019-12-31T23:30:00-01:00", "2020-01-01T00:30:00Z"),
    (b"2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00.500000Z"),
    (b"2020-01-01T00:00:00.1234567Z", "2020-01-01T00:00:00.123456Z"),  # kept to the microsecond
    (b"2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00Z"),
    (b"2020-02-29T12:00:00.25+05:30", "2020-02-29T06:30:00.250000Z"),
])
def test_lenient_timestamps_become_canonical_utc(stamp, canonical):
    _, pages = read(in_page_two(revision(timestamp=stamp)))
    assert pages[1][1][1].timestamp == canonical


@pytest.mark.parametrize("page_id", [b"18446744073709551616", b"9223372036854775808", b"0", b"-3", b"+5", b"1_10",
                                     b" 2", b"2.0", b"0x2", "\u0662".encode(), b""])
def test_a_bad_page_id_fails_at_its_line(page_id):
    data = in_page_two(page_id=page_id)
    error = fails(data, b"<id>" + page_id + b"</id>\n    <revision>\n      <id>200")
    assert "<page/id> is" in str(error) and error.page_id is None


@pytest.mark.parametrize("rev_id", [b"9223372036854775808", b"0", b"-1", b"+201", b"2_01", b"abc"])
def test_a_bad_revision_id_fails_after_the_last_revision_read_whole(rev_id):
    data = in_page_two(revision(rev_id))
    error = fails(data, b"<id>" + rev_id + b"</id>")
    assert error.page_id == 2 and error.revision_id is None and "(after revision 200)" in str(error)


def test_the_largest_ids_are_read():
    big = b"9223372036854775807"
    _, pages = read(HEADER + page(revision(big, parent=big[:-1] + b"6",
                                           contributor=b"<username>A</username><id>" + big + b"</id>"),
                                  page_id=big) + FOOTER)
    (page_id, (rev,)), = pages
    assert page_id == rev.id == rev.user_id == 2**63 - 1 and rev.parent_id == 2**63 - 2


@pytest.mark.parametrize("ns", [b"2147483648", b"-2147483649", b"1e3", b"+1"])
def test_a_namespace_outside_int32_fails(ns):
    error = fails(in_page_two(ns=ns), b"<ns>" + ns)
    assert "<page/ns> is" in str(error)


def test_negative_namespaces_are_read():
    _, pages = read(HEADER + page(revision(), ns=b"-1") + FOOTER)
    assert pages[0][0] == 2


@pytest.mark.parametrize("contributor_id, expected", [(b"0", None), (b"-1", None), (b"7", 7)])
def test_contributor_ids_zero_and_minus_one_are_no_user_id(contributor_id, expected):
    _, pages = read(in_page_two(revision(contributor=b"<username>Ann</username><id>" + contributor_id + b"</id>")))
    rev = pages[1][1][1]
    assert rev.user_id == expected and rev.user_text == "Ann"


@pytest.mark.parametrize("contributor_id", [b"-2", b"9223372036854775808", b"x", b"+7"])
def test_a_bad_contributor_id_fails_naming_the_revision(contributor_id):
    data = in_page_two(revision(contributor=b"<username>Ann</username><id>" + contributor_id + b"</id>"))
    error = fails(data, b"<contributor><username>Ann</username><id>" + contributor_id)
    assert error.revision_id == 201 and "<contributor/id> is" in str(error)


@pytest.mark.parametrize("parent, expected", [(b"0", None), (b"-1", None), (b"", None), (b"200", 200)])
def test_parent_ids_zero_and_minus_one_are_null(parent, expected):
    _, pages = read(in_page_two(revision(parent=parent)))
    assert pages[1][1][1].parent_id == expected


@pytest.mark.parametrize("parent", [b"-2", b"9223372036854775808", b"x"])
def test_a_bad_parent_id_fails_naming_the_revision(parent):
    error = fails(in_page_two(revision(parent=parent)), b"<parentid>" + parent)
    assert error.revision_id == 201 and "<parentid> is" in str(error)


@pytest.mark.parametrize("key", [b' key="abc"', b"", b' key="2147483648"', b' key="+1"'])
def test_a_bad_siteinfo_namespace_key_fails(key):
    data = HEADER.replace(b'<namespace key="0" case="first-letter" />',
                          b'<namespace key="0" case="first-letter" />\n      <namespace' + key + b">X</namespace>"
                          ) + good_page(1) + FOOTER
    error = fails(data, b"<namespace" + key + b">X")
    assert "<namespace key> is" in str(error)


def test_a_siteinfo_that_is_not_closed_fails_at_the_first_page():
    data = HEADER.replace(b"  </siteinfo>\n", b"") + good_page(1) + good_page(2) + FOOTER
    with pytest.raises(MalformedXML, match="<siteinfo> is not closed") as caught:
        read(data)
    assert caught.value.line is not None and caught.value.uncompressed_offset is not None
    assert caught.value.page_id == 1 and "page 1:" in str(caught.value)
    with pytest.raises(MalformedXML, match="<siteinfo> is not closed"):
        read(data, "skip-page")  # the siteinfo is at fault, not a page: nothing to skip


def test_a_page_that_is_not_closed_fails_naming_it():
    data = HEADER + good_page(1) + good_page(2).replace(b"  </page>\n", b"") + good_page(3) + FOOTER
    with pytest.raises(MalformedXML, match="the <page> before it is not closed") as caught:
        read(data)
    assert caught.value.page_id == 2
    dump = Dump(io.BytesIO(data), "values.xml", on_error="skip-page")
    pages = []
    for p in dump.pages():
        ids = [r.id for r in p]
        if not p.skipped:
            pages.append((p.id, ids))
    assert pages == [(1, [100, 101, 102]), (3, [300, 301, 302])]
    assert [s["page_id"] for s in dump.skipped_pages] == [2]


def test_pages_without_revisions_are_counted():
    empty = b"  <page>\n    <title>Empty</title>\n    <ns>0</ns>\n    <id>9</id>\n  </page>\n"
    dump, pages = read(HEADER + good_page(1) + empty + good_page(3) + empty.replace(b"9", b"10") + FOOTER)
    assert [(p, len(r)) for p, r in pages] == [(1, 3), (9, 0), (3, 3), (10, 0)]
    assert dump.pages_without_revisions == 2 and dump.page_count == 4


def test_integer_refuses_what_python_int_accepts():
    for text in ("+5", "1_10", " 5", "5 ", "\u0665", "٣", "5.0", "", None):
        with pytest.raises(MalformedXML):
            values.integer(text, "x")
    assert values.integer("-5", "x") == -5 and values.integer("007", "x") == 7
