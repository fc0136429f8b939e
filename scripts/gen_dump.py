#!/usr/bin/env python3
"""Deterministic synthetic MediaWiki history dumps, for tests and benchmarks alike.

The same seed and options always give the same bytes. Pages have histories
that evolve line by line as real ones do (insertions, deletions, rewordings),
with identity reverts to earlier texts, anonymous (IP) editors, deleted
contributors, comments and texts, namespaces and redirects, non-ASCII words and
characters that XML must escape, and, on request, huge revisions past libxml2's
10 MB text limit. ``--target-mb`` keeps adding pages until the XML reaches a
size, for memory tests and benchmarks. ``--ip-mentions`` puts IP addresses where real
dumps have them: IP talk pages' titles, revert and block comments, signatures in texts,
IPv6 in the forms people and MediaWiki write, and IP editors written as ``<username>``
with ``<id>-1``, as the Data Lake's dumper writes them; ``Stats.ips`` lists every address
written. ``--account-names`` names some registered editors as temporary accounts
(``~2025-00042-07``, as Wikimedia's wikis have them from 2025) and bots (``Editor 33 Bot``),
beside look-alikes that are neither (``~Editor 5``, ``Editor 22 Botany``).

    python scripts/gen_dump.py out.xml.bz2 --pages 50 --revisions 5-40 --seed 1 --compression bz2
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import ipaddress
import lzma
import random
import sys
from dataclasses import dataclass, field
from typing import BinaryIO

from dumpproc.records import sha1_base36

SCHEMAS = ("0.3", "0.4", "0.5", "0.6", "0.8", "0.9", "0.10", "0.11")
COMPRESSIONS = ("none", "bz2", "bz2-multistream", "gz", "xz", "zst")
NAMESPACES = {0: "", 1: "Talk", 2: "User", 3: "User talk", 4: "Project", 10: "Template", 14: "Category"}
PAGES_PER_STREAM = 100  # as Wikimedia's multistream files


@dataclass
class Options:
    pages: int = 10
    revisions: tuple[int, int] = (1, 10)
    text_size: int = 2_000
    schema: str = "0.10"
    seed: int = 0
    deleted_rate: float = 0.02
    ip_rate: float = 0.15
    revert_rate: float = 0.08
    huge: int = 0
    huge_size: int = 11 * 1024 * 1024
    compression: str = "none"
    target_bytes: int = 0
    dbname: str = "synthwiki"
    start_page_id: int = 1
    start_revision_id: int = 1
    ip_mentions: float = 0.0
    account_names: bool = False


@dataclass
class Stats:
    pages: int = 0
    revisions: int = 0
    xml_bytes: int = 0
    reverts: int = 0
    huge: list[int] = field(default_factory=list)
    ips: set[str] = field(default_factory=set)  # every IP address written, as written


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


class _Writer:
    """Counts XML bytes and compresses them as asked, cutting streams at page boundaries."""

    def __init__(self, raw: BinaryIO, compression: str):
        self.raw = raw
        self.compression = compression
        self.xml_bytes = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        if compression == "bz2":
            self._compressor = bz2.BZ2Compressor(9)
        elif compression == "gz":
            self._gzip = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6)
        elif compression == "xz":
            self._compressor = lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=1)
        elif compression == "zst":
            import zstandard

            self._zstd = zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.xml_bytes += len(data)
        mode = self.compression
        if mode == "none":
            self.raw.write(data)
        elif mode in ("bz2", "xz"):
            self.raw.write(self._compressor.compress(data))
        elif mode == "gz":
            self._gzip.write(data)
        elif mode == "zst":
            self._zstd.write(data)
        else:  # bz2-multistream: buffer until the stream is cut
            self._pending.append(data)
            self._pending_size += len(data)

    def cut_stream(self) -> None:
        """End the current bz2 stream (multistream only): a reader may start at the next one."""
        if self.compression == "bz2-multistream" and self._pending:
            self.raw.write(bz2.compress(b"".join(self._pending), 9))
            self._pending, self._pending_size = [], 0

    def close(self) -> None:
        mode = self.compression
        if mode in ("bz2", "xz"):
            self.raw.write(self._compressor.flush())
        elif mode == "gz":
            self._gzip.close()
        elif mode == "zst":
            self._zstd.flush()
            self._zstd.close()
        self.cut_stream()


class _Text:
    """A vocabulary and the edits that turn one text into the next."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "ze", "qu", "an", "el", "ör", "ñu", "çe"]
        words = set()
        while len(words) < 3000:
            words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
        self.words = sorted(words) + ["[[link]]", "{{cite}}", "<ref>", "</ref>", "a&b", "北京", "Ωμέγα", "🙂", "x_1"]

    def line(self) -> str:
        rng = self.rng
        kind = rng.random()
        if kind < 0.08:
            return ""
        if kind < 0.14:
            return "== " + " ".join(rng.choices(self.words, k=rng.randint(1, 4))) + " =="
        return " ".join(rng.choices(self.words, k=rng.randint(4, 30)))

    def new(self, size: int) -> list[str]:
        lines: list[str] = []
        total = 0
        while total < size:
            line = self.line()
            lines.append(line)
            total += len(line) + 1
        return lines

    def edit(self, lines: list[str]) -> list[str]:
        rng = self.rng
        lines = list(lines)
        for _ in range(rng.randint(1, 3)):
            op = rng.random()
            at = rng.randint(0, len(lines))
            if op < 0.45 or not lines:
                lines[at:at] = [self.line() for _ in range(rng.randint(1, 5))]
            elif op < 0.7:
                del lines[at : at + rng.randint(1, 4)]
            else:
                at = min(at, len(lines) - 1)
                words = lines[at].split(" ")
                words[rng.randrange(len(words))] = rng.choice(self.words)
                lines[at] = " ".join(words)
        return lines


class _Mentions:
    """IP addresses in titles, comments, texts and contributors' names (``ip_mentions``).

    They come from their own random stream, so a dump without them is byte for byte the
    same as before the option existed, and one with them has the same pages and editors.
    """

    def __init__(self, opts: Options, stats: Stats):
        self.rate = opts.ip_mentions
        self.rng = random.Random(f"ip-mentions-{opts.seed}")
        self.stats = stats

    def chance(self) -> bool:
        return self.rate > 0 and self.rng.random() < self.rate

    def _seen(self, address: str) -> str:
        self.stats.ips.add(address)
        return address

    def _ipv4(self, rng: random.Random) -> str:
        return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def _ipv6(self, rng: random.Random) -> ipaddress.IPv6Address:
        groups = [rng.randint(0x2001, 0x2c0f)] + [rng.randrange(1 << 16) for _ in range(7)]
        if rng.random() < 0.6:  # a run of zero groups, written "::" when compressed
            at = rng.randint(1, 5)
            groups[at:at + 2] = [0, 0]
        return ipaddress.IPv6Address(b"".join(g.to_bytes(2, "big") for g in groups))

    def editor(self, editor: int) -> str:
        """An IP editor's address, the same for the same editor: IPv4 or IPv6 as MediaWiki writes it."""
        rng = random.Random(editor)
        if rng.random() < 0.7:
            return self._seen(self._ipv4(rng))
        address = self._ipv6(rng)
        return self._seen(":".join(f"{int.from_bytes(address.packed[i:i + 2], 'big'):X}" for i in range(0, 16, 2)))

    def written(self) -> str:
        """An address as someone would type it in a text or comment (several IPv6 forms)."""
        rng = self.rng
        kind = rng.randrange(9)
        if kind < 4:
            return self._seen(self._ipv4(rng))
        address = self._ipv6(rng)
        if kind == 4:
            return self._seen(address.compressed)
        if kind == 5:
            return self._seen(self.editor(-rng.randint(1, 10**6)) if rng.random() < 0.5 else
                              address.compressed.upper())
        if kind == 6:
            return self._seen(address.exploded)
        if kind == 7:
            inner = self._seen(self._ipv4(rng))
            return self._seen(f"::ffff:{inner}")
        link_local = f"fe80::{rng.randrange(1 << 16):x}:{rng.randrange(1 << 16):x}"
        return self._seen(link_local) + rng.choice(["%eth0", "%25en0", "%wlan0"])

    def title(self) -> str:
        return f"User talk:{self.editor(-self.rng.randint(1, 10**6))}"

    def comment(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:  # a range block, as CIDR
            if rng.random() < 0.5:
                network = self._seen(self._ipv4(rng).rpartition(".")[0] + ".0")
                return f"Blocked {network}/24 for 31 hours"
            network = ipaddress.IPv6Network((int(self._ipv6(rng)) >> 80 << 80, 48))
            return f"Blocked {self._seen(network.network_address.compressed)}/48: vandalism"
        address = self.written()
        return (f"Reverted edits by [[Special:Contributions/{address}|{address}]] "
                f"([[User talk:{address}|talk]]) to last version by Editor {rng.randint(1, 5000)}")

    def signature(self) -> str:
        address = self.written()
        day = self.rng.randint(1, 28)
        return self.rng.choice([
            f"Thanks. [[User:{address}|{address}]] ([[User talk:{address}|talk]]) 12:30, {day} May 2010 (UTC)",
            f":Agreed. —{address} 10:0{day % 10}, {day} June 2011 (UTC)",
            f"my IP is {address}. ~~~~",
        ])


def _header(opts: Options) -> str:
    v = opts.schema
    ns = f"http://www.mediawiki.org/xml/export-{v}/"
    out = [
        f'<mediawiki xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{ns} http://www.mediawiki.org/xml/export-{v}.xsd" version="{v}" xml:lang="en">\n',
        "  <siteinfo>\n    <sitename>Synthetic Wiki</sitename>\n",
    ]
    if _version_tuple(v) >= (0, 10):
        out.append(f"    <dbname>{opts.dbname}</dbname>\n")
    out.append("    <base>https://synth.example.org/wiki/Main_Page</base>\n")
    out.append("    <generator>dumpproc gen_dump.py</generator>\n    <case>first-letter</case>\n    <namespaces>\n")
    for key, name in NAMESPACES.items():
        case = ' case="first-letter"' if _version_tuple(v) >= (0, 5) else ""
        out.append(f'      <namespace key="{key}"{case}>{name}</namespace>\n' if name else
                   f'      <namespace key="{key}"{case} />\n')
    out.append("    </namespaces>\n  </siteinfo>\n")
    return "".join(out)


def _timestamp(seconds: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _editor_name(opts: Options, editor: int) -> str:
    """A registered editor's name; with ``account_names``, by its id, temporary accounts, bots and look-alikes."""
    if opts.account_names:
        if editor % 7 == 0:
            return f"~2025-{editor:05d}-{editor % 100:02d}"
        if editor % 7 == 1:
            return f"~Editor {editor}"
        if editor % 11 == 0:
            return f"Editor {editor} Bot"
        if editor % 11 == 1:
            return f"Editor {editor} Botany"
    return f"Editor {editor} Ü"


def _revision_xml(opts: Options, rng: random.Random, rev_id: int, parent_id: int | None, when: int,
                  text: str, editor: int, minor: bool, deleted: str | None, mentions: _Mentions) -> str:
    v = _version_tuple(opts.schema)
    parts = ["    <revision>\n", f"      <id>{rev_id}</id>\n"]
    if parent_id is not None and v >= (0, 6):
        parts.append(f"      <parentid>{parent_id}</parentid>\n")
    parts.append(f"      <timestamp>{_timestamp(when)}</timestamp>\n")
    if deleted == "user":
        parts.append('      <contributor deleted="deleted" />\n')
    elif editor < 0 and mentions.rate:
        ip = mentions.editor(editor)
        if mentions.chance():  # as the Data Lake's dumper writes an IP editor
            parts.append(f"      <contributor>\n        <username>{ip}</username>\n        <id>-1</id>\n"
                         "      </contributor>\n")
        else:
            parts.append(f"      <contributor>\n        <ip>{ip}</ip>\n      </contributor>\n")
    elif editor < 0:
        ip = (f"192.0.2.{-editor % 250}" if editor % 3 else f"2001:db8::{-editor:x}")
        mentions.stats.ips.add(ip)
        parts.append(f"      <contributor>\n        <ip>{ip}</ip>\n      </contributor>\n")
    else:
        parts.append(f"      <contributor>\n        <username>{_editor_name(opts, editor)}</username>\n"
                     f"        <id>{editor}</id>\n      </contributor>\n")
    if minor:
        parts.append("      <minor />\n")
    if deleted == "comment":
        parts.append('      <comment deleted="deleted" />\n')
    elif rng.random() < 0.9:
        comment = rng.choice(['fix', 'rv', 'copyedit & links', '<ref> added', 'Ω'])
        if mentions.chance():
            comment = mentions.comment()
        parts.append(f"      <comment>{_escape(comment)}</comment>\n")
    if v >= (0, 11):
        parts.append(f"      <origin>{rev_id}</origin>\n")
    if v >= (0, 8):
        parts.append("      <model>wikitext</model>\n      <format>text/x-wiki</format>\n")
    size = len(text.encode("utf-8"))
    sha1 = sha1_base36(text)
    if deleted == "text":
        parts.append(f'      <text bytes="{size}" deleted="deleted" />\n')
    else:
        attrs = ' xml:space="preserve"'
        if v >= (0, 5):
            attrs = f' bytes="{size}"' + attrs
        if v >= (0, 11):
            attrs = f' bytes="{size}" sha1="{sha1}" xml:space="preserve"'
        parts.append(f"      <text{attrs}>{_escape(text)}</text>\n" if text else f"      <text{attrs} />\n")
    if v >= (0, 6):
        parts.append("      <sha1 />\n" if deleted == "text" else f"      <sha1>{sha1}</sha1>\n")
    parts.append("    </revision>\n")
    return "".join(parts)


def generate(out: BinaryIO | str, opts: Options) -> Stats:
    """Write a dump to ``out`` (a path or a binary file); returns what it holds."""
    if isinstance(out, str):
        with open(out, "wb") as fh:
            return generate(fh, opts)
    if opts.schema not in SCHEMAS:
        raise ValueError(f"schema must be one of {SCHEMAS}")
    if opts.compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}")
    rng = random.Random(opts.seed)
    words = _Text(rng)
    writer = _Writer(out, opts.compression)
    stats = Stats()
    mentions = _Mentions(opts, stats)
    writer.write(_header(opts))
    writer.cut_stream()
    v = _version_tuple(opts.schema)
    page_id = opts.start_page_id
    rev_id = opts.start_revision_id
    total_revisions_planned = opts.pages * sum(opts.revisions) // 2
    huge_at = set(rng.sample(range(max(total_revisions_planned, opts.huge)), opts.huge)) if opts.huge else set()
    revision_index = 0
    while stats.pages < opts.pages or writer.xml_bytes < opts.target_bytes:
        ns = rng.choice([0, 0, 0, 0, 1, 2, 4, 10, 14])
        name = " ".join(rng.choices(words.words[:3000], k=rng.randint(1, 3))).capitalize()
        title = f"{NAMESPACES[ns]}:{name}" if ns else name
        if mentions.chance():  # an IP editor's talk page (a redirect goes to its subpage)
            title = name = mentions.title()
            ns = 3
        parts = ["  <page>\n", f"    <title>{_escape(title)}</title>\n"]
        if v >= (0, 6):
            parts.append(f"    <ns>{ns}</ns>\n")
        parts.append(f"    <id>{page_id}</id>\n")
        redirect = rng.random() < 0.05
        if redirect:
            parts.append(f'    <redirect title="{_escape_attr(name + " (x)")}" />\n' if v >= (0, 6) else "    <redirect />\n")
        writer.write("".join(parts))
        history: list[list[str]] = []
        signatures: list[str] = []  # appended below the text, as talk threads grow (ip_mentions)
        signed: list[list[str]] = []  # the signatures of each text in history, so a revert restores them
        lines = words.new(opts.text_size) if not redirect else [f"#REDIRECT [[{name} (x)]]"]
        when = rng.randint(1_000_000_000, 1_600_000_000)
        parent = None
        editors = [rng.randint(1, 5000) for _ in range(6)] + [-rng.randint(1, 10**6) for _ in range(3)]
        for n in range(rng.randint(*opts.revisions)):
            if n:
                if history and len(history) > 2 and rng.random() < opts.revert_rate:
                    back = rng.randint(2, min(len(history), 6))
                    lines, signatures = list(history[-back]), list(signed[-back])
                    stats.reverts += 1
                else:
                    lines = words.edit(lines)
            if not redirect and mentions.chance():
                signatures = [*signatures, mentions.signature()]
            text = "\n".join(lines + signatures)
            if revision_index in huge_at:
                block = "\n".join(words.new(64 * 1024))
                text = (block + "\n") * (opts.huge_size // len(block.encode("utf-8")) + 1)
                stats.huge.append(rev_id)
            history.append(lines)
            signed.append(signatures)
            del history[:-8], signed[:-8]
            roll = rng.random()
            deleted = None
            if roll < opts.deleted_rate:
                deleted = rng.choice(["user", "comment", "text"])
            editor = rng.choice(editors) if rng.random() >= opts.ip_rate else -rng.randint(1, 10**6)
            writer.write(_revision_xml(opts, rng, rev_id, parent, when, text, editor, rng.random() < 0.3, deleted,
                                       mentions))
            stats.revisions += 1
            revision_index += 1
            parent = rev_id
            rev_id += rng.randint(1, 3)
            when += rng.randint(1, 90 * 86400)
        writer.write("  </page>\n")
        stats.pages += 1
        page_id += rng.randint(1, 4)
        if stats.pages % PAGES_PER_STREAM == 0:
            writer.cut_stream()
    writer.cut_stream()
    writer.write("</mediawiki>\n")
    writer.close()
    stats.xml_bytes = writer.xml_bytes
    return stats


def _range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output file ('-' for standard output)")
    parser.add_argument("--pages", type=int, default=10, help="pages to write (at least)")
    parser.add_argument("--revisions", type=_range, default=(1, 10), help="revisions per page, N or LOW-HIGH")
    parser.add_argument("--text-size", type=int, default=2_000, help="characters of a page's first text")
    parser.add_argument("--schema", choices=SCHEMAS, default="0.10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deleted-rate", type=float, default=0.02, help="share of revisions with a deleted field")
    parser.add_argument("--ip-rate", type=float, default=0.15, help="share of revisions by IP editors")
    parser.add_argument("--revert-rate", type=float, default=0.08, help="share of revisions that restore an earlier text")
    parser.add_argument("--huge", type=int, default=0, help="revisions whose text is --huge-size bytes")
    parser.add_argument("--huge-size", type=int, default=11 * 1024 * 1024)
    parser.add_argument("--compression", choices=COMPRESSIONS, default="none")
    parser.add_argument("--target-mb", type=float, default=0, help="keep adding pages until the XML is this large")
    parser.add_argument("--dbname", default="synthwiki")
    parser.add_argument("--ip-mentions", type=float, default=0.0,
                        help="share of pages, comments, texts and IP editors that mention or name IP addresses")
    parser.add_argument("--account-names", action="store_true",
                        help="name some editors as temporary accounts and bots, and some as look-alikes")
    args = parser.parse_args(argv)
    opts = Options(
        pages=args.pages, revisions=args.revisions, text_size=args.text_size, schema=args.schema, seed=args.seed,
        deleted_rate=args.deleted_rate, ip_rate=args.ip_rate, revert_rate=args.revert_rate, huge=args.huge,
        huge_size=args.huge_size, compression=args.compression, target_bytes=int(args.target_mb * 1e6),
        dbname=args.dbname, ip_mentions=args.ip_mentions, account_names=args.account_names,
    )
    if args.out == "-":
        stats = generate(sys.stdout.buffer, opts)
    else:
        stats = generate(args.out, opts)
    print(f"{args.out}: {stats.pages} pages, {stats.revisions} revisions, {stats.xml_bytes:,} bytes of XML",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
