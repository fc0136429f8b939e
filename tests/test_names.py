"""What dump file names say (sources.names): wiki, date, kind, pages; page order; files that go on."""

from __future__ import annotations

from dumpproc.sources.names import HISTORY, continues, page_order, parse_name


def test_names_of_wikimedias_dumps_and_of_the_data_lakes():
    legacy = parse_name("/d/enwiki-20260101-pages-meta-history3.xml-p151574p311329.bz2")
    assert (legacy.wiki, legacy.date, legacy.kind, legacy.format) == ("enwiki", "20260101", HISTORY, ".bz2")
    assert (legacy.first_page, legacy.last_page, legacy.one_page, legacy.lake) == (151574, 311329, False, False)
    whole = parse_name("aawiki-20260101-pages-meta-current.xml.bz2")
    assert whole.kind == "pages-meta-current" and whole.first_page is None
    run = parse_name("/x/enwiki-2026-03-01-p1p812.xml.zst")  # MediawikiDumper, since 2025-09
    assert (run.wiki, run.date, run.kind, run.format, run.lake) == ("enwiki", "20260301", HISTORY, ".zst", True)
    assert (run.first_page, run.last_page) == (1, 812)
    piece = parse_name("/x/commonswiki-2025-10-02-p13327093r49883803r1080349301.xml")
    assert (piece.first_page, piece.last_page, piece.first_revision, piece.last_revision) == (
        13327093, 13327093, 49883803, 1080349301)
    assert piece.one_page and piece.format == ".xml"
    older = parse_name("enwiki-2025-03-01-p1p9-pages-meta-history.xml.bz2")  # before 2025-09
    assert (older.kind, older.first_page, older.last_page) == (HISTORY, 1, 9)
    current = parse_name("/p/other/mediawiki_content_current/enwiki/2026-03-01/xml/bzip2/enwiki-2026-03-01-p1p9.xml.bz2")
    assert current.kind == "pages-meta-current"  # the folder says the kind
    assert parse_name("notes.xml").wiki is None


def test_page_order_and_files_that_go_on():
    names = ["w-2026-01-01-p10p20.xml", "w-2026-01-01-p5r9r9.xml", "w-2026-01-01-p2p5.xml",
             "w-2026-01-01-p5r30r40.xml", "w-2026-01-01-p5p9.xml", "w-2026-01-01-p5r12r20.xml"]
    assert page_order(names) == ["w-2026-01-01-p2p5.xml", "w-2026-01-01-p5r9r9.xml", "w-2026-01-01-p5r12r20.xml",
                                 "w-2026-01-01-p5r30r40.xml", "w-2026-01-01-p5p9.xml", "w-2026-01-01-p10p20.xml"]
    ordered = page_order(names)
    assert [continues(a, b) for a, b in zip(ordered, ordered[1:])] == [True, True, True, True, False]
    assert not continues("/a/w-2026-01-01-p1p5.xml", "/b/w-2026-01-01-p5p9.xml")  # another folder
    assert not continues("w-2026-01-01-p1p5.xml", "w-2026-01-01-p5p9.xml.bz2")  # another format
    assert not continues("v-2026-01-01-p1p5.xml", "w-2026-01-01-p5p9.xml")  # another wiki
