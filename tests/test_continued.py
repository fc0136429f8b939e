"""A page whose history goes on across files (the Data Lake's p<page>r<first>r<last> pieces, files
that meet at one page) or across the units of a split file is read as one page: every table
equals that of the same history read from one file, row for row."""

from __future__ import annotations

import io
import re

import pyarrow.parquet as pq
import pytest

import cut_dump
import gen_dump
from conftest import shared_dump
from dumpproc.parse import Dump
from dumpproc.parse.continued import merge_continued
from dumpproc.pipeline import Options, run
from dumpproc.sources import open_dump
from dumpproc.sources.names import parse_name
from dumpproc.units import plan_units

KEYS = {"revisions": ["revision_id"], "diffs": ["revision_id"], "pages": ["page_id"],
        "users": ["user_text", "user_id"]}


def tables(out) -> dict:
    return {name: pq.read_table(out / name).sort_by([(k, "ascending") for k in keys]) for name, keys in KEYS.items()}


def assert_same_tables(one, other) -> None:
    for name in KEYS:
        assert one[name].num_rows > 0, name
        assert one[name].schema == other[name].schema, name
        assert one[name].equals(other[name]), name


def write_pieces(xml: bytes, folder, wiki: str, date: str, per_file: int, **options) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in cut_dump.cut(xml, wiki, date, per_file, **options):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A generated history with long pages, many reverts and IP editors, as one file."""
    folder = tmp_path_factory.mktemp("history")
    path = folder / "synthwiki-20260101-pages-meta-history.xml"
    gen_dump.generate(str(path), gen_dump.Options(pages=24, revisions=(1, 70), text_size=800, seed=15,
                                                  revert_rate=0.25, ip_rate=0.3))
    return path


@pytest.fixture(scope="module")
def whole(history, tmp_path_factory):
    found = {}
    for radius in (0, 15):
        out = tmp_path_factory.mktemp("whole") / "out"
        assert run([str(history)], Options(out=str(out), workers=1, revert_radius=radius)).ok
        found[radius] = tables(out)
    return found


def _shape(paths) -> tuple[int, int]:
    """(one-page pieces, boundaries where a page goes on) among the files, from their names."""
    names = [parse_name(str(p)) for p in paths]
    pieces = sum(n.one_page for n in names)
    ordered = sorted(names, key=lambda n: (n.first_page, not n.one_page, n.first_revision or 0))
    going_on = sum(a.last_page == b.first_page for a, b in zip(ordered, ordered[1:]))
    return pieces, going_on


@pytest.mark.parametrize("radius", [0, 15])
@pytest.mark.parametrize("per_file, isolate, split_size", [(25, False, None), (60, False, 1), (30, True, None),
                                                          (30, True, 1)])
def test_a_generated_history_cut_into_pieces_gives_the_rows_of_one_file(history, whole, tmp_path, radius,
                                                                        per_file, isolate, split_size):
    pieces = write_pieces(history.read_bytes(), tmp_path / "pieces", "synthwiki", "2026-01-01", per_file,
                          isolate=isolate)
    one_page, going_on = _shape(pieces)
    assert one_page >= 1 and going_on >= 2, "the cut has pages that go on across files"
    units = plan_units([str(p) for p in pieces], split_size)
    assert any(len(u.continued) >= 2 for u in units), "a unit reads three files or more as one stream"
    if isolate:
        assert any(not u.continued for u in units), "the dumper's page runs are units of their own"
    out = tmp_path / "out"
    result = run([str(p) for p in pieces], Options(out=str(out), workers=2, revert_radius=radius,
                                                   split_size=split_size))
    assert result.ok, result.failed
    assert_same_tables(tables(out), whole[radius])
    assert sum(u["pages"] for u in result.units) == whole[radius]["pages"].num_rows  # each page counted once


def test_pieces_given_in_any_order_are_read_in_page_order(history, whole, tmp_path):
    pieces = write_pieces(history.read_bytes(), tmp_path / "pieces", "synthwiki", "2026-01-01", 30)
    out = tmp_path / "out"
    assert run([str(p) for p in reversed(pieces)], Options(out=str(out), workers=2)).ok
    assert_same_tables(tables(out), whole[0])


def _xml_of(path) -> bytes:
    with open_dump(str(path)) as stream:
        return stream.read()


@pytest.mark.parametrize("radius", [0, 15])
@pytest.mark.parametrize("relative, wiki, per_file, isolate", [
    ("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z", "aawiki", 40, False),
    ("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z", "aawiki", 30, True),
    ("Schuwi__wikiwho_rs/Hallo.xml", "dewiktionary", 30, False),
])
def test_a_real_history_cut_into_pieces_gives_the_rows_of_one_file(tmp_path, radius, relative, wiki, per_file,
                                                                   isolate):
    real = shared_dump(relative)
    one = tmp_path / "one"
    assert run([str(real)], Options(out=str(one), workers=1, revert_radius=radius, snapshot="2026-01")).ok
    pieces = write_pieces(_xml_of(real), tmp_path / "pieces", wiki, "2026-01-01", per_file, isolate=isolate)
    assert _shape(pieces)[1] >= 2, "some page goes on across files"
    out = tmp_path / "out"
    result = run([str(p) for p in pieces], Options(out=str(out), workers=2, revert_radius=radius,
                                                   snapshot="2026-01"))
    assert result.ok, result.failed
    assert_same_tables(tables(out), tables(one))


def test_a_page_that_spans_two_units_of_a_split_file_is_one_page(tmp_path):
    """Plain XML splits at 1 MiB; a long page across that mark is owned by the unit it begins in."""
    from dumpproc.sources.split import PLAIN_PIECE

    path = tmp_path / "spanwiki-20260101-pages-meta-history.xml"
    gen_dump.generate(str(path), gen_dump.Options(pages=20, revisions=(30, 80), text_size=2500, seed=8,
                                                  revert_rate=0.2, dbname="spanwiki"))
    xml = path.read_bytes()
    assert len(xml) > 2 * PLAIN_PIECE
    spanning = []  # pages with revisions on both sides of a piece's start
    for found in re.finditer(rb"<page>.*?</page>", xml, re.S):
        marks = [m.start() + found.start() for m in re.finditer(rb"<revision>", found.group(0))]
        for mark in range(PLAIN_PIECE, len(xml), PLAIN_PIECE):
            if sum(m < mark for m in marks) >= 2 and sum(m > mark for m in marks) >= 2:
                spanning.append(int(re.search(rb"<id>(\d+)</id>", found.group(0)).group(1)))
    assert spanning, "the test needs a page across a unit's start"
    whole = run([str(path)], Options(out=str(tmp_path / "whole"), workers=1, split_size=None))
    split = run([str(path)], Options(out=str(tmp_path / "split"), workers=2, split_size=1))
    assert whole.ok and split.ok and len(split.units) >= 3
    one, other = tables(tmp_path / "whole"), tables(tmp_path / "split")
    assert_same_tables(one, other)
    pages = other["pages"].to_pylist()
    for page_id in spanning:
        [row] = [p for p in pages if p["page_id"] == page_id]  # one pages row
        counts = [r["page_revision_count"] for r in other["revisions"].to_pylist() if r["page_id"] == page_id]
        assert sorted(counts) == list(range(1, row["revision_count"] + 1))  # the counter runs on


PAGE = """<page><title>{title}</title><ns>0</ns><id>{id}</id>{revisions}</page>"""
REVISION = ("<revision><id>{id}</id><timestamp>2026-01-0{day}T00:00:00Z</timestamp>"
            "<contributor><username>U{id}</username><id>{id}</id></contributor>"
            "<model>wikitext</model><format>text/x-wiki</format><text bytes=\"1\">{text}</text></revision>")


def _page(page_id: int, first: int, texts: str, title: str = "A") -> str:
    revisions = "\n".join(REVISION.format(id=first + i, day=min(9, i + 1), text=t) for i, t in enumerate(texts))
    return PAGE.format(title=title, id=page_id, revisions=revisions)


def _document(*pages: str) -> bytes:
    return ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">\n'
            + "\n".join(pages) + "\n</mediawiki>\n").encode()


def test_adjacent_pages_with_one_id_are_one_page_and_others_stay_apart():
    xml = _document(_page(1, 10, "ab"), _page(1, 12, "c"), _page(2, 20, "x"), _page(1, 30, "d"))
    pages = []
    for page in merge_continued(Dump(io.BytesIO(xml)).pages()):
        pages.append((page.id, [r.id for r in page], page.parts))
    # only adjacent parts are one page: page 1 after page 2 is another element, read as written
    assert pages == [(1, [10, 11, 12], 2), (2, [20], 1), (1, [30], 1)]


def test_adjacent_pages_sharing_an_id_under_other_titles_stay_two_records():
    """A made-up export (dumpster-dive's tinywiki) gives two pages one id: other titles, other pages."""
    xml = _document(_page(1, 10, "ab", "Duplicate title"), _page(1, 12, "c", "Big Page"), _page(1, 13, "d", "Big Page"))
    pages = [(page.title, [r.id for r in page], page.parts) for page in merge_continued(Dump(io.BytesIO(xml)).pages())]
    assert pages == [("Duplicate title", [10, 11], 1), ("Big Page", [12, 13], 2)]


def test_a_page_left_half_read_is_finished_with_all_its_parts():
    xml = _document(_page(1, 10, "ab"), _page(1, 12, "cd"), _page(2, 20, "x"))
    merged = merge_continued(Dump(io.BytesIO(xml)).pages())
    first = next(merged)
    assert next(iter(first)).id == 10  # the rest of page 1, in both parts, is drained
    second = next(merged)
    assert (second.id, [r.id for r in second]) == (2, [20])
    assert next(merged, None) is None


def test_a_fault_at_the_next_page_leaves_the_page_before_it_whole():
    from dumpproc.errors import MalformedXML

    bad = "<page><title>B</title><ns>0</ns><id>x</id>" + REVISION.format(id=40, day=1, text="z") + "</page>"
    xml = _document(_page(1, 10, "ab"), bad)
    merged = merge_continued(Dump(io.BytesIO(xml)).pages())
    first = next(merged)
    assert [r.id for r in first] == [10, 11]  # whole: the fault is the next page's
    with pytest.raises(MalformedXML):
        next(merged)


def test_skip_page_skips_every_part_of_the_page(tmp_path):
    bad = _page(1, 12, "c").replace("<timestamp>2026-01-01T00:00:00Z</timestamp>", "<timestamp>soon</timestamp>")
    xml = _document(_page(1, 10, "ab"), bad, _page(1, 13, "d"), _page(2, 20, "x"))
    pages = [(p.id, [r.id for r in p], p.skipped)
             for p in merge_continued(Dump(io.BytesIO(xml), on_error="skip-page").pages())]
    assert pages == [(1, [10, 11], True), (2, [20], False)]  # the part after the bad one is skipped too


def test_pieces_of_a_page_are_read_in_time_order_where_ids_do_not_rise_with_time(tmp_path):
    """The dumper cuts by time and names each piece by its first revision's id: here the later piece has
    the smaller ids (revisions imported later), so the names' order alone would be wrong."""
    def revisions(ids_days_texts):
        return "\n".join(REVISION.format(id=i, day=d, text=t) for i, d, t in ids_days_texts)

    early = [(50, 1, "a"), (51, 2, "ab"), (52, 3, "a")]
    late = [(10, 4, "abc"), (11, 5, "ab"), (12, 6, "abcd")]
    whole = tmp_path / "timewiki-20260101-pages-meta-history.xml"
    whole.write_bytes(_document(PAGE.format(title="A", id=7, revisions=revisions(early + late))))
    folder = tmp_path / "pieces"
    folder.mkdir()
    for part in (early, late):
        name = f"timewiki-2026-01-01-p7r{part[0][0]}r{part[-1][0]}.xml"
        (folder / name).write_bytes(_document(PAGE.format(title="A", id=7, revisions=revisions(part))))
    pieces = sorted(str(p) for p in folder.iterdir())
    [unit] = plan_units(pieces)
    assert unit.path.endswith("p7r10r12.xml")  # by name: the later piece first
    assert run([str(whole)], Options(out=str(tmp_path / "one"), workers=1, wiki_db="timewiki")).ok
    assert run(pieces, Options(out=str(tmp_path / "out"), workers=1, wiki_db="timewiki")).ok
    one, other = tables(tmp_path / "one"), tables(tmp_path / "out")
    assert_same_tables(one, other)
    reverted = {r["revision_id"]: r["revision_is_identity_reverted"] for r in other["revisions"].to_pylist()}
    assert reverted[51] and not reverted[50]  # 52 restores 50's text: found only in time order
