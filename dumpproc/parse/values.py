"""The values inside a dump's elements, checked once as they are read: ids, namespaces, timestamps.

A value that a dump cannot have is refused here, at parse time, as ``MalformedXML``
naming the element (never quoting the value: errors do not copy input, see
``errors``), so that no later stage meets it as a Python ``ValueError`` or an
Arrow overflow. What is accepted and what is refused:

- integers are ASCII digits, with a ``-`` for a negative one (refused where out of range); Python's
  ``int()`` would also take ``+5``, ``1_10``, spaces and other scripts' digits,
  none of which an XML dump has;
- page and revision ids are positive int64, a namespace is int32; a parent id
  and a contributor id are positive int64, or ``0``/``-1`` for none (the Data
  Lake's dumper writes ``<parentid>-1`` for a page's first revision and
  ``<id>-1`` for IP editors; an imported user has ``0``);
- a timestamp is ``YYYY-MM-DDTHH:MM:SS``, optionally with a fraction of a second
  (kept to the microsecond) and ``Z`` or an offset ``+HH:MM`` (converted to UTC);
  a missing zone is UTC, as MediaWiki's always is. It is returned in the one
  canonical form ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``, which ``stats.timestamp_us``
  reads fast. Week dates, ordinal dates, basic (compact) forms, hour 24, leap
  seconds and years before 1 are refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from ..errors import MalformedXML

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
POSITIVE_INT64 = (1, 2**63 - 1)

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
# The canonical form, which nearly every dump has throughout: checked for its ranges only.
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII)


def integer(text: str | None, what: str, bounds: tuple[int, int] = INT64) -> int:
    """``text`` as an integer within ``bounds`` (inclusive); ``what`` names the element in the error."""
    low, high = bounds
    if text is None or _INTEGER.fullmatch(text) is None:
        raise MalformedXML(f"<{what}> is not an integer written in the digits 0-9")
    value = int(text)
    if not low <= value <= high:
        raise MalformedXML(f"<{what}> is out of range: it must be from {low} to {high}")
    return value


def page_id(text: str | None) -> int:
    """A page's ``<id>``: a positive int64."""
    return integer(text, "page/id", POSITIVE_INT64)


def revision_id(text: str | None) -> int:
    """A revision's ``<id>``: a positive int64."""
    return integer(text, "revision/id", POSITIVE_INT64)


def parent_id(text: str | None) -> int | None:
    """A revision's ``<parentid>``: a revision id, or None when absent, empty, 0 or -1 (no parent)."""
    if not text or text in ("0", "-1"):
        return None
    return integer(text, "parentid", POSITIVE_INT64)


def user_id(text: str | None) -> int | None:
    """A contributor's ``<id>``: a positive int64, or None for 0 and -1 (no user id)."""
    if text in ("0", "-1"):
        return None
    return integer(text, "contributor/id", POSITIVE_INT64)


def namespace(text: str | None, what: str = "page/ns") -> int:
    """A namespace id: an int32 (negative for Special and Media, in the siteinfo)."""
    return integer(text, what, INT32)


def timestamp(text: str | None) -> str:
    """A ``<timestamp>`` in the canonical ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` form (see the module's docstring)."""
    if text is not None and _CANONICAL.fullmatch(text) is not None:
        # two ASCII digits each, so comparing the strings compares the numbers
        if text[11:13] < "24" and text[14:16] < "60" and text[17:19] < "60" and _is_date(text[:10]):
            return text
        raise _bad_timestamp()
    found = _TIMESTAMP.fullmatch(text) if text is not None else None
    if found is None:
        raise _bad_timestamp()
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          int((fraction or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc)
        if zone not in (None, "Z"):
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            offset = timedelta(hours=hours, minutes=minutes)
            moment = moment - offset if zone[0] == "+" else moment + offset
    except (ValueError, OverflowError):  # a field out of range, or an offset past year 1 or 9999
        raise _bad_timestamp() from None
    stamp = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
             f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    return stamp + (f".{moment.microsecond:06d}Z" if moment.microsecond else "Z")


@lru_cache(maxsize=4096)
def _is_date(text: str) -> bool:
    """``YYYY-MM-DD`` names a day (month 13, 31 April and year 0 do not); a dump has few distinct days."""
    try:
        date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def _bad_timestamp() -> MalformedXML:
    return MalformedXML("<timestamp> is not a date and time of the form YYYY-MM-DDTHH:MM:SSZ "
                        "(a fraction of a second and an offset such as +02:00 are accepted)")
