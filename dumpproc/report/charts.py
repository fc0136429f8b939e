"""The report's charts: matplotlib figures drawn by Agg into PNGs, embedded as ``data:`` URIs.

No pyplot: each chart is a ``Figure`` of its own, so no global state is
touched and nothing needs a display. The PNGs carry no metadata that changes
between runs, so the same figures give the same bytes.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime
from typing import NamedTuple

from ..errors import MissingDependency, install_hint
from .manifest import radius_label
from .queries import bin_label
from .reverts import REFERENCE_RADIUS

#: Colours of the series; the browser test looks for them in the screenshot.
PALETTE = {
    "registered": "#3366cc",
    "anonymous": "#ff9900",
    "temporary": "#0099c6",
    "revert": "#dc3912",
    "reverted": "#990099",
    # the same rates at the reference radius: lighter, dashed, beside the run's own
    "revert_reference": "#f4a261",
    "reverted_reference": "#c77dff",
    "grow": "#109618",
    "shrink": "#dc3912",
    "none": "#888888",
}
WIDTH, HEIGHT, DPI = 10.0, 3.6, 100


class Chart(NamedTuple):
    """One embedded chart: an anchor id, a title, alt text, the PNG as a ``data:`` URI, a caption note."""

    id: str
    title: str
    alt: str
    uri: str
    note: str = ""


class Line(NamedTuple):
    """One series of a share chart: the month figure it plots, its colour, its legend label."""

    key: str
    colour: str
    label: str
    dashed: bool = False


def require():
    """matplotlib's ``Figure``, or the error that says what to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependency(f"dumpproc report needs matplotlib: {install_hint('report')}") from exc
    return Figure


def _figure():
    return require()(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _dates(months: list[dict]) -> list[datetime]:
    return [datetime.strptime(m["month"], "%Y-%m") for m in months]


def _no_data(axes) -> None:
    axes.text(0.5, 0.5, "no revisions", ha="center", va="center", transform=axes.transAxes)


def _percent(axes) -> None:
    from matplotlib.ticker import PercentFormatter

    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylim(0, 1)


#: The kinds of editor, bottom to top in the stacked bars: (palette key, legend label).
KINDS = (("registered", "registered"), ("temporary", "temporary accounts"), ("anonymous", "IP (anonymous)"))


def _stacked(axes, dates: list[datetime], *series: list[int]) -> None:
    """Bars of each kind of editor (``KINDS``, in order) stacked."""
    bottom = [0] * len(dates)
    for (key, label), values in zip(KINDS, series):
        axes.bar(dates, values, width=27, align="edge", bottom=bottom, color=PALETTE[key], label=label)
        bottom = [b + v for b, v in zip(bottom, values)]


def activity(months: list[dict]) -> str:
    """Revisions per month over active editors per month, registered, temporary and IP stacked."""
    figure = _figure()
    figure.set_figheight(HEIGHT * 1.6)
    revisions, editors = figure.subplots(2, 1, sharex=True)
    if months:
        dates = _dates(months)
        _stacked(revisions, dates, [m["registered_revisions"] for m in months],
                 [m["temporary_revisions"] for m in months], [m["anonymous_revisions"] for m in months])
        _stacked(editors, dates, [m["active_registered_editors"] for m in months],
                 [m["active_temporary_editors"] for m in months], [m["active_anonymous_editors"] for m in months])
        figure.legend(*revisions.get_legend_handles_labels(), loc="outside upper center", ncols=len(KINDS),
                      frameon=False)  # above, clear of the bars; one entry per kind
    else:
        _no_data(revisions)
    revisions.set_ylabel("revisions")
    editors.set_ylabel("active editors")
    return _png(figure)


def _shares(months: list[dict], series: list[Line], ylabel: str) -> str:
    """Monthly shares as lines on a 0-100 % axis."""
    figure = _figure()
    axes = figure.subplots()
    if months:
        dates = _dates(months)
        for line in series:
            axes.plot(dates, [m[line.key] for m in months], color=line.colour, label=line.label,
                      linewidth=1.2, **({"linestyle": "--"} if line.dashed else {"marker": "."}))
        if len(series) > 1:  # above the axes, which constrained layout makes room for: lines near 100 %
            figure.legend(loc="outside upper center", ncols=2, frameon=False)  # would run under one inside
    else:
        _no_data(axes)
    _percent(axes)
    axes.set_ylabel(ylabel)
    return _png(figure)


def anonymous_share(months: list[dict]) -> str:
    """The share of each month's revisions made by IP editors, and by temporary accounts, which
    replaced IP editing on Wikimedia's wikis from 2025: together, unregistered editing."""
    return _shares(months, [Line("anonymous_share", PALETTE["anonymous"], "IP (anonymous)"),
                            Line("temporary_share", PALETTE["temporary"], "temporary accounts")],
                   "share of revisions")


def revert_lines(radius: int | None) -> list[Line]:
    """The revert chart's lines: the run's rates at its radius, and the reference radius's unless the same."""
    run = f"radius {radius_label(radius)}"
    lines = [Line("identity_revert_rate", PALETTE["revert"], f"identity reverts ({run})"),
             Line("identity_reverted_rate", PALETTE["reverted"], f"reverted later ({run})")]
    if radius != REFERENCE_RADIUS:
        suffix = f"_radius_{REFERENCE_RADIUS}"
        lines += [Line("identity_revert_rate" + suffix, PALETTE["revert_reference"],
                       f"identity reverts (radius {REFERENCE_RADIUS})", dashed=True),
                  Line("identity_reverted_rate" + suffix, PALETTE["reverted_reference"],
                       f"reverted later (radius {REFERENCE_RADIUS})", dashed=True)]
    return lines


def revert_rate(months: list[dict], radius: int | None = None) -> str:
    """Each month's share of identity reverts and of revisions reverted later: the run's, and at radius 15."""
    return _shares(months, revert_lines(radius), "share of revisions")


def bytes_histogram(bins: list[dict]) -> str:
    """Revisions by bytes changed, in decade bins by sign (a log-magnitude histogram)."""
    figure = _figure()
    axes = figure.subplots()
    diffed = [b for b in bins if b["bin"] is not None]
    if diffed:
        low, high = min(b["bin"] for b in diffed), max(b["bin"] for b in diffed)
        counts = {b["bin"]: b["revisions"] for b in diffed}
        positions = list(range(low, high + 1))
        colours = [PALETTE["grow"] if p > 0 else PALETTE["shrink"] if p < 0 else PALETTE["none"]
                   for p in positions]
        axes.bar(positions, [counts.get(p, 0) for p in positions], color=colours, width=0.85)
        axes.set_xticks(positions)
        axes.set_xticklabels([bin_label(p) for p in positions], rotation=30, ha="right")
        axes.set_yscale("log")
        axes.set_ylim(bottom=0.5)  # a bin of one revision still shows
    else:
        _no_data(axes)
    axes.set_xlabel("bytes changed against the page's previous revision")
    axes.set_ylabel("revisions (log scale)")
    return _png(figure)


def revert_title(radius: int | None) -> str:
    """The revert chart's title, which names the radius the run used."""
    return f"Identity-revert rate per month (revert radius: {radius_label(radius)})"


def _revert_note(radius: int | None) -> str:
    if radius == REFERENCE_RADIUS:
        return f"The run used radius {REFERENCE_RADIUS}, the radius of mwreverts and most research."
    run = "no manifest says which radius the run used" if radius is None else (
        "the run's radius is unlimited: one revert to a much older state counts every revision since as "
        "reverted" if radius == 0 else f"the run's radius is {radius}")
    return (f"Solid lines: the run's revert columns ({run}). Dashed: radius {REFERENCE_RADIUS}, as mwreverts "
            f"and most research count, computed by the report from the revisions' sha1s.")


def charts(figures: dict, revert_radius: int | None = None) -> list[Chart]:
    """Every chart of one report page; ``revert_radius`` is the run's (0 unlimited, None unknown)."""
    months = figures["months"]
    return [
        Chart("activity", "Revisions and active editors per month",
              "Bar charts of revisions per month and of active editors per month, registered accounts, "
              "temporary accounts and IP editors stacked", activity(months)),
        Chart("anonymous", "Share of revisions by IP editors and by temporary accounts per month",
              "Line chart of the share of each month's revisions made by IP (anonymous) editors and by "
              "temporary accounts", anonymous_share(months),
              "Temporary accounts replaced IP editing on Wikimedia's wikis from 2025: the two lines together "
              "are unregistered editing."),
        Chart("reverts", revert_title(revert_radius),
              "Line chart of the share of each month's revisions that are identity reverts, and that were "
              "reverted later: " + "; ".join(line.label for line in revert_lines(revert_radius)),
              revert_rate(months, revert_radius), _revert_note(revert_radius)),
        Chart("bytes", "Bytes changed per revision",
              "Histogram of revisions by bytes changed, in decade bins by sign, on a log scale",
              bytes_histogram(figures["bytes_diff"])),
    ]
