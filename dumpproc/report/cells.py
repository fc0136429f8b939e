"""How the report page writes its values: numbers, shares, sizes, days, and tables of escaped cells.

Shared by the page's sections (``html``, ``run_section``); every function
returns text ready for HTML, with ``–`` for a value not known.
"""

from __future__ import annotations

from html import escape


def number(value) -> str:
    """An integer with thousands separators: 1,307."""
    return "–" if value is None else f"{value:,}"


def share(value) -> str:
    """A share as a percentage with one decimal: 15.5%."""
    return "–" if value is None else f"{value:.1%}"


def si_size(count) -> str:
    """Bytes in SI units: 199.7 kB."""
    if count is None:
        return "–"
    if count < 1000:
        return f"{count:.0f} B"
    value = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"


def binary_size(count) -> str:
    """Bytes in binary units, as ``--split-size 256M`` means them: 256 MiB, 1.5 GiB, 100 B."""
    if count is None:
        return "–"
    value, unit = float(count), "B"
    for larger in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024:
            break
        value, unit = value / 1024, larger
    # a whole number of units is shown whole; anything else keeps a decimal, so 256.0 MiB is not 256 MiB
    return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"


def day(iso: str | None) -> str:
    """The date of an ISO timestamp: 2026-01-01."""
    return iso[:10] if iso else "–"


def table(name: str, header: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    """A table whose cells are already escaped; ``header`` is (label, numeric) pairs."""
    head = "".join(f'<th{" class=n" if numeric else ""}>{escape(label)}</th>' for label, numeric in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if numeric else ""}>{cell}</td>'
                         for cell, (_, numeric) in zip(row, header)) + "</tr>"
        for row in rows)
    return f'<table data-figure="{name}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
