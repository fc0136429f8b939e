"""``dumpproc report``: its figures against independent queries on the Parquet, names, pages, modes, errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import stat
from collections import Counter, defaultdict
from html.parser import HTMLParser

import pyarrow.dataset as ds
import pytest

from conftest import shared_dump
from dumpproc.cli import main
from dumpproc.report import destinations

duckdb = pytest.importorskip("duckdb", reason="DuckDB is in the report and test extras: pip install -e '.[test]'")
pytest.importorskip("matplotlib", reason="matplotlib is in the report extra: pip install -e '.[report]'")

AAWIKI = "dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z"
HOSTILE_TITLE = 'Tom & "Jerry" <script>alert(1)</script>'


def report_data(path) -> dict:
    """The figures a page embeds for scripts (and renders as tables)."""
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', path.read_text(), re.S)
    assert found, f"{path} embeds no report data"
    return json.loads(found.group(1))


class _Tables(HTMLParser):
    """The text of every cell of every ``<table data-figure=...>``, and every ``<img src>``."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("data-figure"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rendered(path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text())
    return parser


def report(out, dest, *more) -> int:
    return main(["report", str(out), "-o", str(dest), *more])


# --- a hand-made dump whose figures are known ---------------------------------------------------

def contributor(who: str) -> str:
    if who.startswith("ip:"):
        return f"<ip>{who[3:]}</ip>"
    name, user_id = who.split("#")
    return f"<username>{escape_xml(name)}</username><id>{user_id}</id>"


def escape_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


#: (page title, timestamp, contributor, text): 8 revisions, 5 anonymous, 1 identity revert (r3 reverts r2).
TINY = {
    HOSTILE_TITLE: [("2024-01-05T10:00:00Z", "ip:192.0.2.7", "a"),
                    ("2024-01-06T10:00:00Z", "ip:192.0.2.7", "a b"),
                    ("2024-03-01T10:00:00Z", "Alice <b>#5", "a"),
                    ("2024-03-02T10:00:00Z", "ip:192.0.2.7", "a b c"),
                    ("2024-03-03T10:00:00Z", "ip:198.51.100.1", "a b c d")],
    "Plain": [("2024-01-10T10:00:00Z", "Alice <b>#5", "x"),
              ("2024-03-10T10:00:00Z", "Alice <b>#5", "xy"),
              ("2024-03-11T10:00:00Z", "ip:192.0.2.7", "xyz")],
}


def write_tiny(folder, dbname: str = "tinywiki", histories: dict = TINY, name: str | None = None,
               first: tuple[int, int] = (1, 101)):
    """A plain XML dump of ``histories``, page and revision ids counting up from ``first``."""
    pages, revision_id = [], first[1] - 1
    for page_id, (title, revisions) in enumerate(histories.items(), first[0]):
        parts = [f"<page><title>{escape_xml(title)}</title><ns>0</ns><id>{page_id}</id>"]
        for when, who, text in revisions:
            revision_id += 1
            parts.append(f"<revision><id>{revision_id}</id><timestamp>{when}</timestamp>"
                         f"<contributor>{contributor(who)}</contributor><model>wikitext</model>"
                         f'<format>text/x-wiki</format><text xml:space="preserve">{text}</text></revision>')
        pages.append("".join(parts) + "</page>")
    path = folder / (name or f"{dbname}-20260101-pages-meta-history.xml")
    path.write_text(f'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">'
                    f"<siteinfo><sitename>Tiny</sitename><dbname>{dbname}</dbname></siteinfo>"
                    f"{''.join(pages)}</mediawiki>", encoding="utf-8")
    return path


def test_figures_of_a_known_dump_and_escaping(tmp_path):
    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path)), "-o", str(out), "-j", "1"]) == 0
    page = tmp_path / "tiny.html"
    assert report(out, page) == 0
    figures = report_data(page)["figures"]
    totals = figures["totals"]
    assert (totals["revisions"], totals["pages"], totals["editors"], totals["anonymous_revisions"]) == (8, 2, 3, 5)
    assert (totals["identity_reverts"], totals["identity_reverted"]) == (1, 1)
    months = {m["month"]: (m["revisions"], m["anonymous_revisions"], m["active_editors"], m["identity_reverts"])
              for m in figures["months"]}
    assert months == {"2024-01": (3, 2, 2, 0), "2024-02": (0, 0, 0, 0), "2024-03": (5, 3, 3, 1)}
    assert {b["label"]: b["revisions"] for b in figures["bytes_diff"]} == {"first revision": 2, "-[1, 10)": 1,
                                                                           "+[1, 10)": 5}
    assert [(e["user_text"], e["revisions"], e["pages_edited"]) for e in figures["top_editors"]] == [
        ("192.0.2.7", 4, 2), ("Alice <b>", 3, 2), ("198.51.100.1", 1, 1)]
    assert [(p["page_title"], p["revisions"]) for p in figures["top_pages"]] == [(HOSTILE_TITLE, 5), ("Plain", 3)]
    html = page.read_text()
    assert "<script>alert" not in html and "Alice <b>" not in html  # escaped everywhere, the JSON block too
    tables = rendered(page).tables
    assert [row[1] for row in tables["top_pages"][1:]] == [HOSTILE_TITLE, "Plain"]
    assert [row[1] for row in tables["top_editors"][1:]] == ["192.0.2.7", "Alice <b>", "198.51.100.1"]
    assert "by their IP address" in html
    assert stat.S_IMODE(os.stat(page).st_mode) == 0o600


def test_hashed_ips_are_shown_hashed_and_no_ip_appears(tmp_path, monkeypatch):
    monkeypatch.setenv("DUMPPROC_IP_KEY", "report-test-key")
    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path)), "-o", str(out), "-j", "1", "--ips", "hash"]) == 0
    page = tmp_path / "hashed.html"
    assert report(out, page) == 0
    hashed = hmac.new(b"report-test-key", b"192.0.2.7", hashlib.sha256).hexdigest()
    top = report_data(page)["figures"]["top_editors"]
    assert (top[0]["user_text"], top[0]["user_is_anonymous"], top[0]["revisions"]) == (hashed, True, 4)
    assert rendered(page).tables["top_editors"][1][1] == hashed
    html = page.read_text()
    assert "192.0.2.7" not in html and "198.51.100.1" not in html
    assert "keyed hash" in html


def test_dropped_ips_are_nobody_to_list_or_count(tmp_path):
    """--ips drop writes one marker for every anonymous editor: the report neither lists nor counts it."""
    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path)), "-o", str(out), "-j", "1", "--ips", "drop"]) == 0
    page = tmp_path / "dropped.html"
    assert report(out, page) == 0
    figures = report_data(page)["figures"]
    assert [(e["user_text"], e["revisions"]) for e in figures["top_editors"]] == [("Alice <b>", 3)]
    html = page.read_text()
    assert "192.0.2.7" not in html and "198.51.100.1" not in html and "&lt;ip&gt;" not in html
    assert "not counted or listed as editors" in html


def test_several_partitions_give_several_pages(tmp_path):
    out = tmp_path / "out"
    inputs = [str(write_tiny(tmp_path, db)) for db in ("onewiki", "twowiki")]
    assert main(["process", *inputs, "-o", str(out), "-j", "1", "--group-readable"]) == 0
    assert report(out, tmp_path / "site.html") == 0
    pages = sorted(tmp_path.glob("site*.html"))
    assert [p.name for p in pages] == ["site-onewiki-2026-01.html", "site-twowiki-2026-01.html"]
    for page, db in zip(pages, ("onewiki", "twowiki")):
        data = report_data(page)
        assert (data["wiki_db"], data["snapshot"], data["figures"]["totals"]["revisions"]) == (db, "2026-01", 8)
        assert data["run"]["units"] == 1 and data["run"]["run"]["units"] == 2
        assert stat.S_IMODE(os.stat(page).st_mode) == 0o640  # the run was group-readable
    folder = tmp_path / "pages"
    folder.mkdir()
    assert report(out, folder) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["report-onewiki-2026-01.html", "report-twowiki-2026-01.html"]


def test_failed_units_are_listed(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml at all")
    out = tmp_path / "out"
    assert main(["process", str(bad), str(write_tiny(tmp_path)), "-o", str(out), "-j", "1"]) == 1
    page = tmp_path / "r.html"
    assert report(out, page) == 0
    run = report_data(page)["run"]
    assert (run["units"], run["units_committed"], run["run"]["units"]) == (1, 1, 2)
    failure, = run["failures"]  # failed before its wiki was known: on every page
    assert failure["path"] == str(bad) and failure["error"]
    assert [row[1] for row in rendered(page).tables["failures"][1:]] == [failure["error"]]


#: One page reverted to its first text after 20 other texts: a revert without limit, none at radius 15.
FAR_REVERT = {"Far": [(f"2024-01-{day:02d}T10:00:00Z", "Alice <b>#5", "v0" if day in (1, 22) else f"v{day}")
                      for day in range(1, 23)]}


def tiles(page) -> dict[str, str]:
    """Key-figure tiles, label -> value."""
    found = re.search(r'<div class="tiles" data-figure="tiles">(.*?)</div></div>', page.read_text(), re.S)
    return {label: value for value, label in re.findall(r"<b>(.*?)</b><span>(.*?)</span>", found.group(1))}


def caption(page, chart: str) -> str:
    found = re.search(rf'<figure id="chart-{chart}">.*?<figcaption>(.*?)</figcaption>', page.read_text(), re.S)
    return found.group(1)


def test_revert_figures_name_the_runs_radius_beside_radius_15(tmp_path):
    from dumpproc.report.charts import revert_lines

    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path, histories=FAR_REVERT)), "-o", str(out), "-j", "1"]) == 0
    page = tmp_path / "far.html"
    assert report(out, page) == 0
    data = report_data(page)
    assert data["revert_radius"] == {"run": 0, "run_label": "unlimited", "reference": 15}
    totals = data["figures"]["totals"]
    assert (totals["identity_reverts"], totals["identity_reverted"]) == (1, 20)  # the run's, unlimited
    assert (totals["identity_reverts_radius_15"], totals["identity_reverted_radius_15"]) == (0, 0)
    month, = data["figures"]["months"]
    assert (month["identity_reverted_rate"], month["identity_reverted_rate_radius_15"]) == (20 / 22, 0)
    assert caption(page, "reverts").startswith("Identity-revert rate per month (revert radius: unlimited)")
    shown = tiles(page)
    assert shown["identity reverts (revert radius: unlimited)"] == "4.5%"
    assert shown["reverted later (revert radius: unlimited)"] == "90.9%"
    assert shown["identity reverts (revert radius: 15)"] == shown["reverted later (revert radius: 15)"] == "0.0%"
    months = rendered(page).tables["months"]
    assert "reverted later (radius 15)" in months[0] and "reverted later (radius unlimited)" in months[0]
    assert [line.label for line in revert_lines(0)] == [
        "identity reverts (radius unlimited)", "reverted later (radius unlimited)",
        "identity reverts (radius 15)", "reverted later (radius 15)"]


def test_a_run_at_radius_15_draws_its_lines_once(tmp_path):
    from dumpproc.report.charts import revert_lines

    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path, histories=FAR_REVERT)), "-o", str(out), "-j", "1",
                 "--revert-radius", "15"]) == 0
    page = tmp_path / "far.html"
    assert report(out, page) == 0
    data = report_data(page)
    assert data["revert_radius"]["run"] == 15
    totals = data["figures"]["totals"]
    assert (totals["identity_reverts"], totals["identity_reverted"]) == (0, 0)
    assert (totals["identity_reverts_radius_15"], totals["identity_reverted_radius_15"]) == (0, 0)
    assert caption(page, "reverts").startswith("Identity-revert rate per month (revert radius: 15)")
    assert [label for label in tiles(page) if "revert" in label] == [
        "identity reverts (revert radius: 15)", "reverted later (revert radius: 15)"]
    assert [line.key for line in revert_lines(15)] == ["identity_revert_rate", "identity_reverted_rate"]
    assert sum("radius 15" in cell for cell in rendered(page).tables["months"][0]) == 2


def run_facts(page) -> dict[str, str]:
    """The run table, fact -> value."""
    return {row[0]: row[1] for row in rendered(page).tables["run"][1:]}


def test_the_run_table_shows_every_option_as_the_command_line_names_it(tmp_path):
    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path)), "-o", str(out), "-j", "1", "--on-error", "skip-page",
                 "--namespaces", "0,4"]) == 0
    page = tmp_path / "r.html"
    assert report(out, page) == 0
    recorded = json.loads((out / "_manifest.json").read_text())["options"]
    facts = run_facts(page)
    named = {"--" + name.replace("_", "-") for name in recorded}
    assert "--on-error" in named and named <= set(facts)  # every option the manifest records, none left out
    assert set(report_data(page)["run"]["options"]) == set(recorded)
    assert recorded["split_size"] == 268435456 and facts["--split-size"] == "256 MiB"
    assert facts["--on-error"] == "skip-page"
    assert facts["--namespaces"] == "0,4" and facts["--tables"] == "revisions,diffs,pages,users"
    assert facts["--revert-radius"] == "0 (unlimited)" and facts["--workers"] == "1"
    assert facts["--resume"] == facts["--group-readable"] == facts["--verify-checksums"] == "off"
    assert facts["--snapshot"] == "from the dump's date, else the run's month"
    assert facts["--out"] == str(out)


def page_text(page) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", page.read_text(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split()).replace(" ,", ",").replace(" .", ".")


def test_part_files_from_another_run_are_named_and_left_out_of_the_run_figures(tmp_path):
    out = tmp_path / "out"
    earlier = write_tiny(tmp_path, name="tinywiki-20260101-pages-meta-history1.xml")
    later = write_tiny(tmp_path, histories=FAR_REVERT, name="tinywiki-20260101-pages-meta-history2.xml",
                       first=(10, 1000))
    assert main(["process", str(earlier), "-o", str(out), "-j", "1", "--snapshot", "2026-01"]) == 0
    earlier_files = [f for unit in json.loads((out / "_manifest.json").read_text())["units"] for f in unit["files"]
                     if f.startswith("revisions")]
    page = tmp_path / "once.html"
    assert report(out, page) == 0
    assert report_data(page)["run"]["coverage"]["unlisted_files"] == []
    assert "another run" not in page_text(page)
    # the same OUT and partition again, with another input: the earlier run's unit is kept in the manifest
    assert main(["process", str(later), "-o", str(out), "-j", "1", "--snapshot", "2026-01"]) == 0
    manifest = json.loads((out / "_manifest.json").read_text())
    assert [u.get("earlier_run", False) for u in manifest["units"]] == [True, False]
    page = tmp_path / "twice.html"
    assert report(out, page) == 0
    data = report_data(page)
    cover = data["run"]["coverage"]
    assert (cover["created"], cover["dumpproc_version"]) == (manifest["created"], manifest["dumpproc_version"])
    assert cover["part_files"] == 2 and cover["unlisted_files"] == [] and cover["earlier_units"] == 1
    assert data["run"]["revisions"] == 30 and data["figures"]["totals"]["revisions"] == 30  # the same, now
    text = page_text(page)
    assert "and 1 unit(s) that earlier runs wrote here for other inputs, which the manifest keeps" in text
    assert "come from another run" not in text
    # a part no manifest lists (put there by hand): the page names it and leaves it out of the run figures
    stray = out / earlier_files[0].replace("history1", "history9")
    shutil.copy(out / earlier_files[0], stray)
    assert report(out, page) == 0
    cover = report_data(page)["run"]["coverage"]
    assert cover["unlisted_files"] == [str(stray.relative_to(out))] and cover["unlisted_revisions"] == 8
    text = page_text(page)
    assert "1 of this partition's 3 revisions part files come from another run" in text
    assert "do not cover them" in text and "do count their 8 revisions" in text
    assert str(stray.relative_to(out)) in text


def test_units_a_resumed_run_kept_are_counted_as_an_earlier_runs(tmp_path):
    out = tmp_path / "out"
    dump = write_tiny(tmp_path)
    assert main(["process", str(dump), "-o", str(out), "-j", "1"]) == 0
    assert main(["process", str(dump), "-o", str(out), "-j", "1", "--resume"]) == 0
    page = tmp_path / "r.html"
    assert report(out, page) == 0
    cover = report_data(page)["run"]["coverage"]
    assert (cover["resumed_units"], cover["unlisted_files"]) == (1, [])
    assert "1 of whose units here were committed by an earlier run it resumed (--resume)" in page_text(page)


def test_sizes_in_binary_units():
    from dumpproc.report.cells import binary_size

    assert [binary_size(n) for n in (None, 0, 100, 1024, 1536, 256 << 20, (256 << 20) - 1, 3 << 30, 5 << 40)] == [
        "–", "0 B", "100 B", "1 KiB", "1.5 KiB", "256 MiB", "256.0 MiB", "3 GiB", "5 TiB"]


def test_destinations():
    one, two = ("aawiki", "2026-01"), ("bbwiki", "2026-02")
    assert [str(p) for p in destinations([one], "x/r.html")] == ["x/r.html"]
    assert [str(p) for p in destinations([one, two], "x/r.html")] == ["x/r-aawiki-2026-01.html",
                                                                       "x/r-bbwiki-2026-02.html"]
    assert [str(p) for p in destinations([one], "x/")] == ["x/report-aawiki-2026-01.html"]
    assert [str(p) for p in destinations([one, two])] == ["report-aawiki-2026-01.html", "report-bbwiki-2026-02.html"]


def test_usage_errors_exit_2(tmp_path, capsys, monkeypatch):
    assert report(tmp_path / "absent", tmp_path / "r.html") == 2
    assert "absent" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert report(tmp_path / "empty", tmp_path / "r.html") == 2
    assert "no processed output" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path)), "-o", str(out), "-j", "1"]) == 0
    capsys.readouterr()
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.figure", None)  # as if not installed
    assert report(out, tmp_path / "r.html") == 2
    err = capsys.readouterr().err
    assert "pip install 'dumpproc[report]'" in err and "pip install -e '.[report]'" in err  # PyPI and checkout
    assert not (tmp_path / "r.html").exists()


# --- registered accounts, temporary accounts and IP editors, apart --------------------------------

#: 9 revisions of 2025: 2 by IP editors, 4 by two temporary accounts, 3 by registered accounts (one a bot by
#: name, one a temporary-account look-alike); r3 reverts r2.
ACCOUNTS_2025 = {
    "Sandbox": [("2025-01-05T10:00:00Z", "ip:192.0.2.7", "a"),
                ("2025-01-06T10:00:00Z", "~2025-00001-01#901", "a b"),
                ("2025-01-07T10:00:00Z", "ClueBot NG#906", "a"),
                ("2025-02-01T10:00:00Z", "~2025-00001-01#901", "a b c"),
                ("2025-02-02T10:00:00Z", "~2025-00002-02#902", "a b c d"),
                ("2025-02-03T10:00:00Z", "Alice#5", "x"),
                ("2025-02-04T10:00:00Z", "~Tilde#907", "y")],
    "Other": [("2025-02-05T10:00:00Z", "~2025-00001-01#901", "q"),
              ("2025-02-06T10:00:00Z", "ip:198.51.100.1", "qq")],
}


def _account_figures(figures: dict):
    totals = figures["totals"]
    months = {m["month"]: (m["revisions"], m["registered_revisions"], m["temporary_revisions"],
                           m["anonymous_revisions"], m["active_registered_editors"], m["active_temporary_editors"],
                           m["active_anonymous_editors"]) for m in figures["months"]}
    return ((totals["editors"], totals["registered_editors"], totals["temporary_editors"], totals["anonymous_editors"]),
            (totals["revisions"], totals["registered_revisions"], totals["temporary_revisions"],
             totals["anonymous_revisions"], totals["bot_by_name_editors"], totals["bot_by_name_revisions"]),
            months,
            [(e["user_text"], e["user_is_anonymous"], e["user_is_temporary"], e["user_is_bot_by_name"],
              e["revisions"]) for e in figures["top_editors"]])


EXPECTED_ACCOUNTS = (
    (7, 3, 2, 2),
    (9, 3, 4, 2, 1, 1),
    {"2025-01": (3, 1, 1, 1, 1, 1, 1), "2025-02": (6, 2, 3, 1, 2, 2, 1)},
    [("~2025-00001-01", False, True, False, 3), ("Alice", False, False, False, 1),
     ("~2025-00002-02", False, True, False, 1), ("ClueBot NG", False, False, True, 1),
     ("~Tilde", False, False, False, 1), ("192.0.2.7", True, False, False, 1), ("198.51.100.1", True, False, False, 1)],
)


def test_registered_temporary_and_ip_editors_are_counted_apart_and_name_bots_marked(tmp_path):
    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path, histories=ACCOUNTS_2025)), "-o", str(out), "-j", "1"]) == 0
    page = tmp_path / "accounts.html"
    assert report(out, page) == 0
    figures = report_data(page)["figures"]
    assert _account_figures(figures) == EXPECTED_ACCOUNTS
    totals = figures["totals"]
    assert (totals["anonymous_share"], totals["temporary_share"]) == (2 / 9, 4 / 9)
    assert [m["temporary_share"] for m in figures["months"]] == [1 / 3, 3 / 6]
    shown = tiles(page)
    assert (shown["registered accounts"], shown["temporary accounts"], shown["IP editors"]) == ("3", "2", "2")
    assert (shown["anonymous revisions"], shown["temporary-account revisions"]) == ("22.2%", "44.4%")
    top = rendered(page).tables["top_editors"]
    assert [row[2] for row in top[1:]] == ["temporary account", "registered", "temporary account",
                                           "registered, bot by name", "registered", "anonymous (IP)",
                                           "anonymous (IP)"]
    months = rendered(page).tables["months"]
    header = months[0]
    assert [row[header.index("temporary accounts")] for row in months[1:]] == ["1", "2"]
    assert [row[header.index("temporary")] for row in months[1:]] == ["1", "3"]
    assert "temporary accounts" in caption(page, "anonymous").lower()
    # the users table counts the same editors apart
    users = duckdb.connect().execute(f"""
        select count(*) filter (where not user_is_anonymous and not user_is_temporary),
               count(*) filter (where user_is_temporary), count(*) filter (where user_is_anonymous),
               count(*) filter (where user_is_bot_by_name)
        from read_parquet('{out}/users/*/*/*.parquet')""").fetchone()
    assert users == (3, 2, 2, 1)


def test_a_report_on_an_older_output_works_the_account_kinds_out_of_the_names(tmp_path):
    """Parts written before the flag columns existed get them from their names, by the default rules."""
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert main(["process", str(write_tiny(tmp_path, histories=ACCOUNTS_2025)), "-o", str(out), "-j", "1"]) == 0
    for part in (out / "revisions").rglob("part-*.parquet"):
        pq.write_table(pq.read_table(part).drop_columns(["user_is_temporary", "user_is_bot_by_name"]), part)
    assert "user_is_temporary" not in pq.read_schema(next((out / "revisions").rglob("part-*.parquet"))).names
    page = tmp_path / "older.html"
    assert report(out, page) == 0
    assert _account_figures(report_data(page)["figures"]) == EXPECTED_ACCOUNTS


def test_the_fallback_bot_rule_is_the_runs():
    """The report's SQL fallback for older outputs agrees with accounts.is_bot_by_name, ASCII case folding too."""
    from dumpproc.accounts import AccountKinds
    from dumpproc.report.queries import ACCOUNT_FALLBACK

    names = ["easyBot", "easyBot3WithEnd", "noncapbot", "nonbotname", "nonBotnameeither", "notEvenTricky",
             "ClueBot NG", "Botany", "Abbot", "Boté", "bot\u212a", "RoBOTics", "~2025-12345-67", "~25-1", "~Tilde"]
    con = duckdb.connect()
    rows = con.execute(f"""select user_text, {ACCOUNT_FALLBACK['user_is_temporary']},
                                  {ACCOUNT_FALLBACK['user_is_bot_by_name']}
                           from (select unnest($names) as user_text, false as user_is_anonymous)""",
                       {"names": names}).fetchall()
    assert {name: (temp, bot) for name, temp, bot in rows} == {n: AccountKinds().flags(n, False) for n in names}


# --- the real aawiki history, checked against queries on the Parquet ----------------------------

@pytest.fixture(scope="module")
def aawiki(tmp_path_factory):
    """The processed aawiki history and its report."""
    path = shared_dump(AAWIKI)
    root = tmp_path_factory.mktemp("aawiki-report")
    out = root / "out"
    assert main(["process", str(path), "-o", str(out), "-j", "1"]) == 0
    assert report(out, root / "aawiki.html") == 0
    return out, root / "aawiki.html"


def test_aawiki_totals_and_months_match_the_parquet(aawiki):
    out, page = aawiki
    figures = report_data(page)["figures"]
    con = duckdb.connect()
    revisions = f"read_parquet('{out}/revisions/*/*/*.parquet', hive_partitioning = true)"
    expected = con.execute(f"""select count(*), count(distinct page_id), avg(user_is_anonymous::int),
                                      avg(revision_is_identity_revert::int) from {revisions}""").fetchone()
    totals = figures["totals"]
    assert expected[0] == totals["revisions"] == 1307
    assert expected[1] == totals["pages"] == 507
    assert totals["anonymous_share"] == pytest.approx(expected[2])
    assert totals["identity_revert_rate"] == pytest.approx(expected[3])
    # months and active editors recomputed in Python from the rows themselves
    rows = ds.dataset(out / "revisions", partitioning="hive").to_table(columns=[
        "revision_dt", "user_id", "user_text", "user_is_anonymous", "revision_is_identity_revert",
        "revision_text_bytes_diff"]).to_pylist()
    count, anonymous, reverts, editors = Counter(), Counter(), Counter(), defaultdict(set)
    for row in rows:
        month = row["revision_dt"].strftime("%Y-%m")  # aware UTC datetimes
        count[month] += 1
        anonymous[month] += row["user_is_anonymous"]
        reverts[month] += row["revision_is_identity_revert"]
        if row["user_text"] is not None:
            registered = not row["user_is_anonymous"] and row["user_id"]
            editors[month].add(("id", row["user_id"]) if registered else ("name", row["user_text"]))
    months = {m["month"]: m for m in figures["months"]}
    assert set(count) <= set(months) and min(months) == min(count) and max(months) == max(count)
    for month, m in months.items():
        assert (m["revisions"], m["anonymous_revisions"], m["identity_reverts"], m["active_editors"]) == (
            count[month], anonymous[month], reverts[month], len(editors[month])), month
    assert totals["editors"] == len(set().union(*editors.values()))
    bins = Counter(None if d is None else 0 if d == 0 else (1 if d > 0 else -1) * len(str(abs(d)))
                   for d in (row["revision_text_bytes_diff"] for row in rows))
    assert {b["bin"]: b["revisions"] for b in figures["bytes_diff"]} == dict(bins)
    table = {row[0]: row[1:] for row in rendered(page).tables["months"][1:]}
    assert all(table[m][0] == f"{months[m]['revisions']:,}" for m in months)  # the page shows what it embeds


def test_aawiki_top_pages_and_editors_match_the_pages_and_users_tables(aawiki):
    out, page = aawiki
    figures = report_data(page)["figures"]
    con = duckdb.connect()
    pages = con.execute(f"""select page_id, page_title, revision_count
                            from read_parquet('{out}/pages/*/*/*.parquet', hive_partitioning = true)
                            order by revision_count desc, page_id limit 20""").fetchall()
    assert [(p["page_id"], p["page_title"], p["revisions"]) for p in figures["top_pages"]] == pages
    assert pages[0][1:] == ("Main Page", 81)
    users = con.execute(f"""select user_text, user_is_anonymous, revision_count, pages_edited,
                                   case when user_is_anonymous then 'ip:' || user_text
                                        when user_id > 0 then 'id:' || user_id else 'name:' || user_text end k
                            from read_parquet('{out}/users/*/*/*.parquet', hive_partitioning = true)
                            order by revision_count desc, k limit 20""").fetchall()
    assert [(e["user_text"], e["user_is_anonymous"], e["revisions"], e["pages_edited"], e["editor"])
            for e in figures["top_editors"]] == users
    tables = rendered(page)
    assert [row[1] for row in tables.tables["top_pages"][1:]] == [p[1] for p in pages]
    assert [row[1] for row in tables.tables["top_editors"][1:]] == [u[0] for u in users]


def test_aawiki_run_summary_and_charts(aawiki):
    out, page = aawiki
    data = report_data(page)
    manifest = json.loads((out / "_manifest.json").read_text())
    run = data["run"]
    unit, = manifest["units"]
    assert (run["units"], run["units_committed"], run["failures"]) == (1, 1, [])
    assert (run["pages"], run["revisions"], run["xml_bytes"]) == (507, 1307, unit["bytes_xml"])
    assert run["inputs"] == [{"path": unit["path"], "codec": "7z", "units": 1, "compressed_bytes": unit["end"]}]
    assert run["run"]["seconds"] == manifest["seconds"]
    assert run["run"]["revisions_per_second"] == pytest.approx(1307 / manifest["seconds"])
    images = rendered(page).images
    assert len(images) == 4
    for uri in images:
        assert uri.startswith("data:image/png;base64,")
        png = base64.b64decode(uri.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert width == 1000 and height >= 300
    assert stat.S_IMODE(os.stat(page).st_mode) == 0o600


def test_aawiki_name_bots_are_the_rules_and_marked_among_the_top_editors(aawiki):
    """The real aawiki history: its bots by the refinery's name rule, in users, the totals and the top list."""
    out, page = aawiki
    con = duckdb.connect()
    users = con.execute(f"""select user_text, user_is_bot_by_name, user_is_temporary, revision_count
                            from read_parquet('{out}/users/*/*/*.parquet')""").fetchall()
    bots = {name for name, bot, _, _ in users if bot}
    assert {"SieBot", "VolkovBot", "TXiKiBoT", "Thijs!bot", "Sirius Zwarts Bot", "Alecs.bot", "Zorrobot"} <= bots
    assert "BotMultichill" not in bots  # "Bot" then a letter: the rule does not take it, nor does the Data Lake
    assert not any(temporary for _, _, temporary, _ in users)  # a 2026 dump of a closed wiki: none
    figures = report_data(page)["figures"]
    assert figures["totals"]["bot_by_name_editors"] == len(bots) == 19
    assert figures["totals"]["bot_by_name_revisions"] == sum(n for name, bot, _, n in users if bot)
    top = rendered(page).tables["top_editors"][1:]
    assert any(row[2].endswith(", bot by name") for row in top)
    assert all(row[2].endswith(", bot by name") == (row[1] in bots) for row in top)
