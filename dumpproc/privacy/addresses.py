"""What counts as an IP address: a contributor's whole name, and the addresses inside a text.

**Names.** A contributor whose whole name is an IP address is anonymous, whatever the dump
says of its id (the Data Lake's own dumper writes some IP editors as ``<username>`` with
``<id>-1``). mediawiki_history (analytics-refinery-source, ``UserEventBuilder.isValidLogTitle``)
tells IP names from account names with ``[0-9]{1,3}(\\.[0-9]{1,3}){3}`` and
``[0-9A-F]{1,4}(:[0-9A-F]{1,4}){7}`` (MediaWiki stores an IPv6 editor's name upper case and
uncompressed). ``is_ip_name`` takes the same IPv4 form (no range check, as MediaWiki's own
``isIP``) plus MediaWiki's old ``1.2.3.xxx`` names, and every RFC 4291 IPv6 form, in any case,
compressed or not. Unlike mediawiki_history's patterns, which sift log titles and so match
anywhere in one, it must match the whole name: an account named ``Bob 10.0.0.1`` is still an
account (the address inside its name is replaced like any other, see below).

**Texts.** ``replace_addresses`` replaces, in UTF-8 bytes, every:

- IPv4 address: four decimal numbers 0-255 of at most three digits (leading zeros allowed),
  joined by dots, or three and ``xxx``; never part of a longer dotted-digit run, so a version
  ``1.2.3.4.5`` or ``10.0.0.256`` stays whole. Letters may touch it (``ip1.2.3.4``); a port
  (``:8080``) or a CIDR suffix (``/24``) after it stays.
- IPv6 address: a maximal run of hex digits and colons that no letter, digit or underscore
  precedes, with an optional dotted tail (an embedded IPv4, ``::ffff:192.0.2.1``) and zone id
  (``fe80::1%eth0``, which goes with the address), that is a valid RFC 4291 address (eight
  groups, or fewer with one ``::``) with a decimal digit, once colons at its ends that do not
  belong to it are left out (talk-page indentation ``:::`` before, a ``:`` after). So
  ``std::cout``, ``::Add``, ``dead::beef``, times ``12:30:45``, MAC addresses and a run of
  nine groups are left alone, while IPv4 addresses inside them are not; ``::1`` and eight
  colon-separated numbers ``1:2:3:4:5:6:7:8`` are addresses.

Each address is replaced by ``token(canonical form)``: IPv4 as plain decimals
(``192.0.2.1``, ``192.0.2.xxx``), IPv6 as eight four-digit lower-case groups, without the
zone, so that one address written two ways gets one token.

Speed: a text is first searched for anchors that every replaced address holds (a digit, a
dot and a digit; or ``:`` hex ``:``, or ``::`` next to a hex digit) with two patterns that
begin with a literal, which the regex engine skips to without trying each byte (about
1 GB/s together). Most texts have none and come back as they are. Otherwise the one address pattern runs over the runs of
address-like characters around the anchors only; as no address spans a character outside
those runs, this gives exactly what running it over the whole text would
(``replace_addresses_slowly``, kept for the tests).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

#: The characters an address (with its zone id) can be made of; any other byte ends a run.
_RUN_CHARS = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_.:%~-"
_OCTET = rb"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])"
_IPV4 = _OCTET + rb"\." + _OCTET + rb"\." + _OCTET + rb"\.(?:" + _OCTET + rb"|[xX]{3})"
_V4 = rb"(?<![0-9])(?<![0-9]\.)" + _IPV4 + rb"(?![0-9])(?!\.[0-9])"
# the run is atomic: what it takes is judged whole, never a shorter piece of it
_V6 = (rb"(?<![0-9A-Za-z_])(?=[0-9A-Fa-f]{0,4}:)(?>[0-9A-Fa-f:]+)(?:\.[0-9]+)*+"
       rb"(?:%[0-9A-Za-z_.~\-]+)?")
#: The one address pattern: an IPv6 candidate (checked in Python) or an IPv4 address.
ADDRESS = re.compile(rb"(?P<v6>" + _V6 + rb")|" + _V4)
_IPV4_ONLY = re.compile(_V4)
# each begins with a literal, which the regex engine scans for fast (an alternation that
# begins with a class would be tried at every byte, several times slower)
_ANCHORS = (
    re.compile(rb"\.(?<=[0-9]\.)[0-9]"),
    re.compile(rb":(?:[0-9A-Fa-f]{1,4}:|:(?<=[0-9A-Fa-f]::)|:(?=[0-9A-Fa-f]))"),
)
_RUN_END = re.compile(rb"[^" + re.escape(_RUN_CHARS) + rb"]")
#: bytes.translate table: 0 for a byte that ends a run, 1 for one inside
_IN_RUN = bytes(1 if byte in _RUN_CHARS else 0 for byte in range(256))
_NAME_V4 = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.(?:[0-9]{1,3}|xxx)")
_HEX_GROUP = re.compile(r"[0-9A-Fa-f]{1,4}")
#: How far back from an anchor to look for the start of its run before looking further.
_REACH = 64


def _ipv4_value(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return None
    return int.from_bytes(bytes(int(p) for p in parts), "big")


def _groups(part: str, last: bool) -> list[int] | None:
    """The 16-bit groups of one side of an IPv6 address; an IPv4 tail only on the last side."""
    if not part:
        return []
    items = part.split(":")
    groups = []
    for i, item in enumerate(items):
        if last and i == len(items) - 1 and "." in item:
            value = _ipv4_value(item)
            if value is None:
                return None
            groups += [value >> 16, value & 0xFFFF]
        elif _HEX_GROUP.fullmatch(item):
            groups.append(int(item, 16))
        else:
            return None
    return groups


def ipv6_groups(text: str) -> tuple[list[int], int] | None:
    """The eight groups of an RFC 4291 IPv6 address and how many were written; None if it is not one."""
    head, compressed, tail = text.partition("::")
    if "::" in tail:
        return None
    left = _groups(head, last=not compressed)
    right = _groups(tail, last=True) if compressed else []
    if left is None or right is None:
        return None
    written = len(left) + len(right)
    if compressed:
        if written > 7:
            return None
        return left + [0] * (8 - written) + right, written
    return (left, written) if written == 8 else None


def _canonical_v6(groups: list[int]) -> str:
    return ":".join(f"{group:04x}" for group in groups)


def _canonical_v4(text: str) -> str:
    *first, last = text.split(".")
    tail = "xxx" if last.lower() == "xxx" else str(int(last))
    return ".".join([*(str(int(p)) for p in first), tail])


def canonical(address: str) -> str | None:
    """The form an address is hashed in (see the module's docstring); None if it is not one."""
    if _NAME_V4.fullmatch(address.lower()) and (address.lower().endswith("xxx")
                                               or _ipv4_value(address) is not None):
        return _canonical_v4(address)
    parsed = ipv6_groups(address.partition("%")[0])
    return _canonical_v6(parsed[0]) if parsed else None


def is_ip_name(name: str | None) -> bool:
    """Whether a contributor's whole name is an IP address (so the contributor is anonymous)."""
    if not name:
        return False
    if _NAME_V4.fullmatch(name):
        return True
    return ("::" in name or name.count(":") >= 6) and ipv6_groups(name) is not None


def _is_address(text: str) -> list[int] | None:
    """The groups of an IPv6 address as ``replace_addresses`` takes them: valid, and with a decimal
    digit (every global address has one; ``::Add`` and ``dead::beef`` are words or code)."""
    parsed = ipv6_groups(text)
    if parsed is None or not any(c.isdigit() for c in text):
        return None
    return parsed[0]


def _ipv6_within(run: str, zone: str) -> tuple[int, int, list[int]] | None:
    """(start, end, groups) of the IPv6 address a run of hex digits and colons is, once the colons
    at its ends that do not belong to it are left out (indentation before, a colon after)."""
    lead = len(run) - len(run.lstrip(":"))
    trail = 0 if zone else len(run) - len(run.rstrip(":"))  # a zone follows the address itself
    for cut in range(lead + trail + 1):  # the fewest colons left out first
        for start in range(max(0, cut - trail), min(cut, lead) + 1):
            end = len(run) - (cut - start)
            groups = _is_address(run[start:end])
            if groups is not None:
                return start, end, groups
    return None


#: Replacements remembered per token function, for each matched run: a page's signatures and
#: the comments that name its editors come back in revision after revision.
_MEMO_SIZE = 1 << 16


@lru_cache(maxsize=8)  # one per policy: equal token functions (bound methods of equal policies) share it
def _replacer(token: Callable[[str], bytes]) -> Callable[[re.Match], bytes]:
    """The ``re.sub`` callback that hands each address's canonical form to ``token``."""
    memo: dict[bytes, bytes] = {}

    def v4(match: re.Match) -> bytes:
        return token(_canonical_v4(match.group().decode("ascii")))

    def replace(match: re.Match) -> bytes:
        found = match.group()
        known = memo.get(found)
        if known is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            known = memo[found] = _replacement(match, found)
        return known

    def _replacement(match: re.Match, found: bytes) -> bytes:
        if match.lastgroup != "v6":
            return v4(match)
        text = found.decode("ascii")
        address, zone, _ = text.partition("%")
        found_at = _ipv6_within(address, zone)
        if found_at is not None:
            start, end, groups = found_at
            return found[:start] + token(_canonical_v6(groups)) + (b"" if zone else found[end:])
        return _IPV4_ONLY.sub(v4, found)  # not an IPv6 address, but maybe it holds an IPv4 one

    return replace


def _runs(text: bytes):
    """(start, end) of each run of address characters that holds an anchor, in order."""
    anchors = sorted(m.start() for pattern in _ANCHORS for m in pattern.finditer(text))
    end = 0
    for anchor in anchors:
        if anchor < end:
            continue  # in the run just given
        floor = end
        low = max(floor, anchor - _REACH)
        cut = text[low:anchor].translate(_IN_RUN).rfind(0)
        if cut < 0 and low > floor:  # a long run: look back as far as the previous one
            low = floor
            cut = text[low:anchor].translate(_IN_RUN).rfind(0)
        start = low + cut + 1 if cut >= 0 else low
        stop = _RUN_END.search(text, anchor)
        end = stop.start() if stop else len(text)
        yield start, end


def replace_addresses(text: bytes, token: Callable[[str], bytes]) -> bytes:
    """``text`` (UTF-8) with every IP address replaced by ``token(its canonical form)``."""
    replace = None
    pieces = []
    done = 0
    for start, end in _runs(text):
        if replace is None:
            replace = _replacer(token)
        pieces.append(text[done:start])
        pieces.append(ADDRESS.sub(replace, text[start:end]))
        done = end
    if replace is None:
        return text  # no anchor: nothing can be an address
    pieces.append(text[done:])
    return b"".join(pieces)


def replace_addresses_slowly(text: bytes, token: Callable[[str], bytes]) -> bytes:
    """What ``replace_addresses`` gives, by the one pattern over the whole text (for tests)."""
    return ADDRESS.sub(_replacer(token), text)
