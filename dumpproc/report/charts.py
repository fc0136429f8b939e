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
from .queries import bin_label

#: Colours of the series; the browser test looks for them in the screenshot.
PALETTE = {
    "registered": "#3366cc",
    "anonymous": "#ff9900",
    "revert": "#dc3912",
    "reverted": "#990099",
    "grow": "#109618",
    "shrink": "#dc3912",
    "none": "#888888",
}
WIDTH, HEIGHT, DPI = 10.0, 3.6, 100


class Chart(NamedTuple):
    """One embedded chart: an anchor id, a title, alt text and the PNG as a ``data:`` URI."""

    id: str
    title: str
    alt: str
    uri: str


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


def _stacked(axes, dates: list[datetime], registered: list[int], anonymous: list[int]) -> None:
    axes.bar(dates, registered, width=27, align="edge", color=PALETTE["registered"], label="registered")
    axes.bar(dates, anonymous, width=27, align="edge", bottom=registered, color=PALETTE["anonymous"],
             label="anonymous")


def activity(months: list[dict]) -> str:
    """Revisions per month (registered and anonymous stacked) over active editors per month."""
    figure = _figure()
    figure.set_figheight(HEIGHT * 1.6)
    revisions, editors = figure.subplots(2, 1, sharex=True)
    if months:
        dates = _dates(months)
        _stacked(revisions, dates, [m["revisions"] - m["anonymous_revisions"] for m in months],
                 [m["anonymous_revisions"] for m in months])
        _stacked(editors, dates, [m["active_registered_editors"] for m in months],
                 [m["active_anonymous_editors"] for m in months])
        revisions.legend(loc="upper right", frameon=False)
    else:
        _no_data(revisions)
    revisions.set_ylabel("revisions")
    editors.set_ylabel("active editors")
    return _png(figure)


def _shares(months: list[dict], series: list[tuple[str, str, str]], ylabel: str) -> str:
    """Monthly shares as lines on a 0-100 % axis; ``series`` is (figure key, colour, label) triples."""
    figure = _figure()
    axes = figure.subplots()
    if months:
        dates = _dates(months)
        for key, colour, label in series:
            axes.plot(dates, [m[key] for m in months], color=colour, marker=".", linewidth=1.2, label=label)
        if len(series) > 1:
            axes.legend(loc="upper right", frameon=False)
    else:
        _no_data(axes)
    _percent(axes)
    axes.set_ylabel(ylabel)
    return _png(figure)


def anonymous_share(months: list[dict]) -> str:
    """The share of each month's revisions made by anonymous editors."""
    return _shares(months, [("anonymous_share", PALETTE["anonymous"], "anonymous")], "anonymous revisions")


def revert_rate(months: list[dict]) -> str:
    """Each month's share of identity reverts, and of revisions later reverted."""
    return _shares(months, [("identity_revert_rate", PALETTE["revert"], "identity reverts"),
                            ("identity_reverted_rate", PALETTE["reverted"], "reverted later")],
                   "share of revisions")


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


def charts(figures: dict) -> list[Chart]:
    """Every chart of one report page."""
    months = figures["months"]
    return [
        Chart("activity", "Revisions and active editors per month",
              "Bar charts of revisions per month and of active editors per month, registered and anonymous "
              "stacked", activity(months)),
        Chart("anonymous", "Share of anonymous revisions per month",
              "Line chart of the share of each month's revisions made by anonymous editors",
              anonymous_share(months)),
        Chart("reverts", "Identity-revert rate per month",
              "Line chart of the share of each month's revisions that are identity reverts, and that were "
              "reverted later", revert_rate(months)),
        Chart("bytes", "Bytes changed per revision",
              "Histogram of revisions by bytes changed, in decade bins by sign, on a log scale",
              bytes_histogram(figures["bytes_diff"])),
    ]
