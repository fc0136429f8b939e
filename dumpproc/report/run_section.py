"""The report's run section: what ``_manifest.json`` says of the run that wrote a partition, as HTML.

``manifest.summarise`` picks the facts; this lays them out: which run the
figures cover (and which part files of the partition another run wrote), when
and with which dumpproc, the options as the command line names them, this
partition's inputs and failures.
"""

from __future__ import annotations

from html import escape

from .cells import binary_size, number, si_size, table


#: Options whose value is a number of bytes.
SIZE_OPTIONS = frozenset({"split_size"})
#: What an option left unset means, where "not given" would say too little (SPEC's defaults).
UNSET = {"namespaces": "all", "snapshot": "from the dump's date, else the run's month",
         "split_size": "chosen by the tool"}


def _rate(per_second) -> str:
    return "–" if per_second is None else f"{per_second:,.0f} revisions/s"


def option_name(name: str) -> str:
    """An option as the command line spells it: ``on_error`` is ``--on-error``."""
    return "--" + name.replace("_", "-")


def option_value(name: str, value) -> str:
    """An option's value as a person would give it: sizes in binary units, flags on or off."""
    if value is None:
        return UNSET.get(name, "not given")
    if isinstance(value, bool):
        return "on" if value else "off"
    if name in SIZE_OPTIONS and isinstance(value, int):
        return binary_size(value)
    if name == "revert_radius" and value == 0:
        return "0 (unlimited)"
    if isinstance(value, list):
        return ",".join(map(str, value))  # as --tables and --namespaces take them
    return str(value)


def covers(summary: dict) -> str:
    """Which run the section speaks for and, plainly, the part files it does not cover."""
    cover = summary["coverage"]
    resumed = cover["resumed_units"]
    text = (f'<p data-figure="covers">These run figures cover one run: the one <code>_manifest.json</code> '
            f'records, created {escape(cover["created"] or "at an unknown time")} by dumpproc '
            f'{escape(str(cover["dumpproc_version"] or "of an unknown version"))}'
            + (f", {resumed:,} of whose units here were committed by an earlier run it resumed (--resume)"
               if resumed else "")
            + (f", and {cover['earlier_units']:,} unit(s) that earlier runs wrote here for other inputs, "
               "which the manifest keeps" if cover.get("earlier_units") else "") + ".</p>")
    unlisted = cover["unlisted_files"]
    if unlisted:
        files = "".join(f"<li><code>{escape(name)}</code></li>" for name in unlisted)
        text += (f'<p class="warn" data-figure="other-runs"><b>{len(unlisted):,} of this partition\'s '
                 f'{cover["part_files"]:,} revisions part files come from another run</b> into the same OUT: '
                 f"<code>_manifest.json</code> does not list them. The run figures below (units, pages, "
                 f"revisions, inputs, failures, throughput, options) do not cover them; the key figures, charts "
                 f"and tables above do count their {cover['unlisted_revisions']:,} revisions, whose revert "
                 f"columns may come from other options.</p>"
                 f'<details><summary>The files from another run</summary><ul>{files}</ul></details>')
    return text


def render(summary: dict | None) -> str:
    """The run section of one page, from ``manifest.summarise``'s summary (None: OUT has no manifest)."""
    if summary is None:
        return '<p class="note">OUT has no <code>_manifest.json</code>: nothing to say about the run.</p>'
    run = summary["run"]
    facts = [
        ("created", escape(summary["created"] or "–")),
        ("dumpproc", escape(str(summary["dumpproc_version"] or "–"))),
        ("units of this wiki and snapshot", f'{summary["units_committed"]:,} committed of {summary["units"]:,}'),
        ("pages, revisions", f'{summary["pages"]:,}, {summary["revisions"]:,}'),
        ("XML read", si_size(summary["xml_bytes"])),
        ("units' working time", f'{summary["unit_seconds"]:,.1f} s'),
        ("whole run", f'{run["units"]:,} units in {run["seconds"]:,.1f} s'),
        ("run throughput", f'{si_size(run["compressed_bytes_per_second"])}/s compressed, '
                           f'{si_size(run["xml_bytes_per_second"])}/s XML, {_rate(run["revisions_per_second"])}'),
    ]
    facts += [(option_name(name), escape(option_value(name, value))) for name, value in summary["options"].items()]
    facts.append(("versions", escape(", ".join(f"{k} {v}" for k, v in summary["versions"].items()))))
    parts = [covers(summary), table("run", [("", False), ("", False)], [[escape(k), v] for k, v in facts])]
    parts.append("<h3>Inputs</h3>")
    parts.append(table("inputs", [("file", False), ("codec", False), ("units", True), ("compressed", True)],
                       [[f'<code>{escape(i["path"])}</code>', escape(i["codec"] or "–"), number(i["units"]),
                         si_size(i["compressed_bytes"])] for i in summary["inputs"]]))
    parts.append("<h3>Failures</h3>")
    if summary["failures"]:
        parts.append(table("failures", [("unit", False), ("error", False)],
                           [[f'<code>{escape(str(f["id"]))}</code>',
                             f'<span class="fail">{escape(str(f["error"]))}</span>'] for f in summary["failures"]]))
    else:
        parts.append('<p class="note">None: every unit committed.</p>')
    return "".join(parts)
