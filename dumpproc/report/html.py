"""The report page: one self-contained HTML file, everything inline and every value escaped.

The page loads nothing: styles are inline, charts are ``data:`` PNGs, and a
Content-Security-Policy forbids any other source, so it opens offline and
leaks nothing when shared. The figures it shows are also embedded as JSON
(``<script type="application/json" id="report-data">``, never executed) for
scripts and tests; the tables render the same values.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape

from . import run_section
from .cells import day, number, share, table
from .charts import Chart
from .manifest import radius_label
from .reverts import REFERENCE_RADIUS

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;
 max-width:1100px;margin:0 auto;padding:1em 1.5em 4em;background:#fff}
h1{margin:.2em 0 0;font-size:1.8em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.lead{color:#555;margin-top:.2em}
.tiles{display:flex;flex-wrap:wrap;gap:.8em;margin:1.2em 0}
.tile{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;min-width:9em}
.tile b{display:block;font-size:1.45em}.tile span{color:#555;font-size:.9em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.92em}
table{border-collapse:collapse;margin:.6em 0;font-size:.93em}
th,td{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code,.name{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em;word-break:break-all}
.note{color:#555}.fail{color:#a00}
.warn{border-left:4px solid #e69500;background:#fff7e6;padding:.5em .8em}
nav a{margin-right:1em}
dt{font-weight:600;margin-top:.5em}
"""


def _revert_tiles(totals: dict, radius: int | None) -> list[tuple[str, str]]:
    """The revert rates at the run's radius, then at the reference radius unless the run used it."""
    run = f"revert radius: {radius_label(radius)}"
    tiles = [(share(totals["identity_revert_rate"]), f"identity reverts ({run})"),
             (share(totals["identity_reverted_rate"]), f"reverted later ({run})")]
    if radius != REFERENCE_RADIUS:
        suffix, reference = f"_radius_{REFERENCE_RADIUS}", f"revert radius: {REFERENCE_RADIUS}"
        tiles += [(share(totals["identity_revert_rate" + suffix]), f"identity reverts ({reference})"),
                  (share(totals["identity_reverted_rate" + suffix]), f"reverted later ({reference})")]
    return tiles


def _tiles(totals: dict, radius: int | None) -> str:
    tiles = [
        (number(totals["revisions"]), "revisions"),
        (number(totals["pages"]), "pages"),
        (number(totals["editors"]), "editors"),
        (number(totals["registered_editors"]), "registered accounts"),
        (number(totals["temporary_editors"]), "temporary accounts"),
        (number(totals["anonymous_editors"]), "IP editors"),
        (share(totals["anonymous_share"]), "anonymous revisions"),
        (share(totals["temporary_share"]), "temporary-account revisions"),
        *_revert_tiles(totals, radius),
        (f'{day(totals["first_revision_dt"])} – {day(totals["last_revision_dt"])}', "first to last revision"),
    ]
    return '<div class="tiles" data-figure="tiles">' + "".join(
        f'<div class="tile"><b>{escape(value)}</b><span>{escape(label)}</span></div>' for value, label in tiles
    ) + "</div>"


def _figures(charts: list[Chart]) -> str:
    return "".join(
        f'<figure id="chart-{escape(c.id)}"><img src="{c.uri}" alt="{escape(c.alt)}" width="1000">'
        f"<figcaption>{escape(c.title)}{f'<br><span class=note>{escape(c.note)}</span>' if c.note else ''}"
        "</figcaption></figure>"
        for c in charts)


def _other_runs_note(summary: dict | None) -> str:
    """A line at the top when some part files come from another run (the run section says more)."""
    unlisted = (summary or {}).get("coverage", {}).get("unlisted_files")
    if not unlisted:
        return ""
    return (f'<p class="warn">{len(unlisted):,} part file(s) of this partition come from another run than the one '
            f'<code>_manifest.json</code> describes: the figures count them, the run section does not '
            f'(<a href="#run">The run</a>).</p>')


def _names_note(summary: dict | None) -> str:
    ips = (summary or {}).get("options", {}).get("ips")
    return {
        "keep": "Anonymous editors are shown by their IP address, as the output holds them.",
        "hash": "Anonymous editors are shown by the keyed hash the run wrote (--ips hash), never by IP address.",
        "drop": "The run dropped anonymous editors' IP addresses (--ips drop): their revisions count, "
                "but they are not counted or listed as editors.",
    }.get(ips, "Names are shown as the output holds them.")


def _top_pages(pages: list[dict]) -> str:
    return table("top_pages", [("#", True), ("page", False), ("ns", True), ("page id", True),
                               ("revisions", True), ("identity reverts", True), ("first", False), ("last", False)],
                 [[str(i), escape(p["page_title"] or ""), str(p["page_namespace"]), str(p["page_id"]),
                   number(p["revisions"]), number(p["identity_reverts"]), day(p["first_revision_dt"]),
                   day(p["last_revision_dt"])] for i, p in enumerate(pages, 1)])


def editor_kind(editor: dict) -> str:
    """An editor's kind as the top-editors table words it: IP, temporary or registered, and a name-bot."""
    kind = ("anonymous (IP)" if editor["user_is_anonymous"] else
            "temporary account" if editor.get("user_is_temporary") else "registered")
    return kind + (", bot by name" if editor.get("user_is_bot_by_name") else "")


def _top_editors(editors: list[dict]) -> str:
    return table("top_editors", [("#", True), ("editor", False), ("kind", False), ("revisions", True),
                                 ("pages edited", True), ("identity reverts", True), ("first", False),
                                 ("last", False)],
                 [[str(i), f'<span class="name">{escape(e["user_text"] or "")}</span>',
                   escape(editor_kind(e)), number(e["revisions"]),
                   number(e["pages_edited"]), number(e["identity_reverts"]), day(e["first_revision_dt"]),
                   day(e["last_revision_dt"])] for i, e in enumerate(editors, 1)])


def _months(months: list[dict], radius: int | None) -> str:
    run = radius_label(radius)
    suffix = f"_radius_{REFERENCE_RADIUS}"
    # the reference radius's columns only where they differ from the run's
    reference = [] if radius == REFERENCE_RADIUS else [
        (f"revert rate (radius {REFERENCE_RADIUS})", True), (f"reverted later (radius {REFERENCE_RADIUS})", True)]
    return table("months", [("month", False), ("revisions", True), ("anonymous", True), ("temporary", True),
                            ("active editors", True), ("registered", True), ("temporary accounts", True),
                            ("anonymous editors", True), ("identity reverts", True),
                            (f"revert rate (radius {run})", True), (f"reverted later (radius {run})", True),
                            *reference, ("anonymous share", True), ("temporary share", True)],
                 [[escape(m["month"]), number(m["revisions"]), number(m["anonymous_revisions"]),
                   number(m["temporary_revisions"]), number(m["active_editors"]),
                   number(m["active_registered_editors"]), number(m["active_temporary_editors"]),
                   number(m["active_anonymous_editors"]), number(m["identity_reverts"]),
                   share(m["identity_revert_rate"]), share(m["identity_reverted_rate"]),
                   *([share(m["identity_revert_rate" + suffix]), share(m["identity_reverted_rate" + suffix])]
                     if reference else []),
                   share(m["anonymous_share"]), share(m["temporary_share"])]
                  for m in months])


def _bytes(bins: list[dict]) -> str:
    return table("bytes_diff", [("bytes changed", False), ("revisions", True)],
                 [[escape(b["label"]), number(b["revisions"])] for b in bins])


DEFINITIONS = f"""<dl>
<dt>Month</dt><dd>The UTC calendar month of <code>revision_dt</code>. Months without revisions between the first and
the last are shown as zero.</dd>
<dt>Editor</dt><dd>A registered user's <code>user_id</code> (the name where the id is 0, as for imported revisions),
or an anonymous editor's <code>user_text</code> as the output holds it. Contributors whose name is deleted or was
dropped are not counted as editors; their revisions are counted.</dd>
<dt>Registered, temporary and IP editors</dt><dd>Counted apart. IP editors (anonymous) edited under their IP
address (<code>user_is_anonymous</code>). Temporary accounts (<code>user_is_temporary</code>) are the accounts MediaWiki
creates for people editing without one, which replaced IP editing on Wikimedia's wikis from 2025: names the run's
<code>--temp-user-pattern</code> finds (by default <code>^~[0-9]{{4}}-</code>, as <code>~2025-12345-67</code>). Registered
accounts are the rest (a deleted contributor's revisions count here). Unregistered editing after 2025 is IP editors and
temporary accounts together.</dd>
<dt>Bot by name</dt><dd>An editor of the top list whose name mediawiki_history's bot-name rule takes for a bot's
(<code>user_is_bot_by_name</code>: <code>bot</code>, in any case, followed by anything but a letter, or ending the
name). A guess from the name: dumps do not say who is in the <code>bot</code> group.</dd>
<dt>Active editors</dt><dd>Distinct editors with at least one revision in the month (Wikimedia's "active editors"
count those with five or more).</dd>
<dt>Anonymous share, temporary share</dt><dd>Revisions with <code>user_is_anonymous</code> (IP editors), and with
<code>user_is_temporary</code>, over all revisions.</dd>
<dt>Identity-revert rate</dt><dd>Revisions with <code>revision_is_identity_revert</code> over all revisions;
"reverted later" uses <code>revision_is_identity_reverted</code>. Both depend on the run's
<code>--revert-radius</code>, which the chart and the key figures name: with no limit (the default), one revert to
a much older state counts every revision since as reverted.</dd>
<dt>Radius {REFERENCE_RADIUS}</dt><dd>The same rates with a radius of {REFERENCE_RADIUS}, as mwreverts and most research
count them, computed by the report from the revisions' sha1s whatever radius the run used: within a page, in
revision order, a revision is a revert when, among the {REFERENCE_RADIUS + 1} revisions just before it, the latest
with its sha1 is not its immediate predecessor; the revisions in between are reverted by it. A missing sha1
matches nothing.</dd>
<dt>Bytes changed</dt><dd><code>revision_text_bytes_diff</code>, binned by sign and number of digits; a page's first
revision has none.</dd>
<dt>Most edited pages, most active editors</dt><dd>By revision count; ties by page id, or by editor.</dd>
</dl>"""


def _json_block(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    # inside <script> nothing is unescaped: keep "</script>" and friends out of the text
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="report-data">{text}</script>'


def render(wiki_db: str, snapshot: str, figures: dict, summary: dict | None, charts: list[Chart],
           source: str, version: str, revert_radius: int | None = None) -> str:
    """The page for one wiki and snapshot; ``revert_radius`` is the run's (0 unlimited, None unknown)."""
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    title = f"{wiki_db} {snapshot}: dumpproc report"
    data = {"wiki_db": wiki_db, "snapshot": snapshot, "figures": figures, "run": summary,
            "revert_radius": {"run": revert_radius, "run_label": radius_label(revert_radius),
                              "reference": REFERENCE_RADIUS}}
    months = figures["months"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{escape(wiki_db)} · snapshot {escape(snapshot)}</h1>
<p class="lead">What the processed history in <code>{escape(source)}</code> says.
Generated by dumpproc {escape(version)} on {escape(generated)}.</p>{_other_runs_note(summary)}
{_tiles(figures["totals"], revert_radius)}
<nav><a href="#charts">Charts</a><a href="#top-pages">Most edited pages</a><a href="#top-editors">Most active
editors</a><a href="#run">The run</a><a href="#monthly">Monthly figures</a><a href="#definitions">Definitions</a></nav>
<section id="charts"><h2>Charts</h2>{_figures(charts)}</section>
<section id="top-pages"><h2>Most edited pages</h2>{_top_pages(figures["top_pages"])}</section>
<section id="top-editors"><h2>Most active editors</h2><p class="note">{escape(_names_note(summary))}</p>
{_top_editors(figures["top_editors"])}</section>
<section id="run"><h2>The run</h2>{run_section.render(summary)}</section>
<section id="monthly"><h2>Monthly figures</h2>
<details><summary>{len(months):,} months</summary>{_months(months, revert_radius)}</details>
<h3>Bytes changed</h3>{_bytes(figures["bytes_diff"])}</section>
<section id="definitions"><h2>Definitions</h2>{DEFINITIONS}</section>
{_json_block(data)}
</body></html>
"""
