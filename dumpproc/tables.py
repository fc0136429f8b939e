"""Assemble the output tables' rows from a page's records, diffs and statistics.

``PageAssembler`` follows one page: for each revision it runs the counters,
the revert detector and the diff, hands back the ``diffs`` and ``content``
rows at once, and keeps the ``revisions`` rows (packed as Arrow batches) until
the page ends, because whether a revision was reverted is known only later.
``finish`` then gives the page's ``revisions`` batch, its ``pages`` row and its
contributors' totals, which ``UserTotals`` adds up for the unit.

IP addresses are handled here, where every row is made (``privacy``): a contributor
whose name is an IP address is anonymous (and a registered one may be a temporary account or
a bot by name, ``accounts``, judged on the dump's name); with ``--ips hash`` or ``drop`` the addresses in
the title, comments, user names and texts are replaced before anything is diffed or
written, so that the diffs rebuild the texts the ``content`` table holds, while sizes and
sha1s (and so reverts) stay those of the dump's texts.

The per-page buffer holds revision metadata only, never texts: about 150 bytes
a revision once packed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from .accounts import AccountKinds
from .diff import NOT_DIFFED, DiffResult, PageDiffer
from .privacy import IpPolicy, is_ip_name
from .records import PageHeader, Revision, RevisionBatch, is_base36_sha1, sha1_base36
from .schema import DIFFS, OP, REVISIONS, USERS
from .stats import PageCounters, RevertDetector, RevertMarks, seconds_since_previous_in_time, sha1_key

REVERT_COLUMNS = (
    "revision_is_identity_revert",
    "revision_is_identity_reverted",
    "revision_first_identity_reverting_revision_id",
    "revision_seconds_to_identity_revert",
)
_BASE = pa.schema([f for f in REVISIONS if f.name not in REVERT_COLUMNS])
_PACK_ROWS = 4_096
_UNSET = object()
#: Buckets of the users table: the reduce holds one bucket's totals in memory at a time.
USER_BUCKETS = 8
USERS_STAGING = USERS.append(pa.field("bucket", pa.int32(), nullable=False))


def user_bucket(user_text: str) -> int:
    return zlib.crc32(user_text.encode("utf-8")) % USER_BUCKETS


@dataclass
class PageSummary:
    """What a finished page gives: its revisions, its pages row, its diff statistics."""

    revisions: pa.RecordBatch | list[list]  # a batch for a long page, else Python columns
    page_row: tuple
    coarse_diffs: int = 0
    #: (user, timestamp_us, is_revert, reverted); user: (anonymous, user id, user text, temporary, bot by
    #: name), whose first three are the contributor's key, or None for nobody to count
    contributions: list = field(default_factory=list)
    sha1s_not_base36: int = 0  # revisions whose sha1 is kept as given (hexadecimal in old exports)


class PageAssembler:
    """One page's revisions through counters, reverts and diffs."""

    def __init__(self, page: PageHeader, radius: int = 0, ips: IpPolicy | None = None, with_diffs: bool = True,
                 ops_text: str = "bytes", accounts: AccountKinds | None = None):
        self.ips = ips = ips or IpPolicy()
        self.accounts = accounts or AccountKinds()
        if ips.replaces:
            page = page._replace(title=ips.replace(page.title), redirect_title=ips.replace(page.redirect_title))
        self.page = page
        self._original: bytes | None = None
        self._text: bytes | None | object = _UNSET
        self._slots: tuple = ()  # the non-main slots of the revision last added
        self.with_diffs = with_diffs
        self.counters = PageCounters()
        self.detector = RevertDetector(radius)
        self.marks = RevertMarks()
        self.differ = PageDiffer(ops_text)  # "none" when no diffs table is written
        self.ids: list[int] = []
        self.creator: str | None = None  # the first revision's user_text, as written
        self.times: list[int] = []
        self.users: list[tuple | None] = []
        self.reverts: list[bool] = []
        self.coarse_diffs = 0
        self.sha1s_not_base36 = 0
        self.last_text_bytes = 0
        self._columns: list[list] = [[] for _ in _BASE]
        self._batches: list[pa.RecordBatch] = []
        #: contributor name -> (is an IP, temporary, bot by name): a page's names repeat
        self._names: dict[str, tuple] = {}

    def add(self, revision: Revision) -> tuple[int | None, DiffResult] | None:
        """Take the page's next revision; returns (base revision id, diff) when its text is visible."""
        counted = self.counters.add(revision)
        original = revision.text_utf8
        text_sha1 = revision.main_sha1()  # of the dump's texts, whatever --ips replaces in them
        sha1 = revision.revision_sha1(text_sha1)
        if (sha1 is not None and not is_base36_sha1(sha1)) or (
                text_sha1 is not None and text_sha1 != sha1 and not is_base36_sha1(text_sha1)):
            self.sha1s_not_base36 += 1
        ips = self.ips
        self._original, self._text, self._slots = original, _UNSET, revision.slots
        position = len(self.ids)
        self.marks.add()
        reverted = self.detector.add(sha1)  # SPEC: reverts compare the sha1 over all slots
        if reverted is not None:
            self.marks.mark(reverted[0], reverted[1], position)
        self.ids.append(revision.id)
        self.times.append(counted.timestamp_us)
        self.reverts.append(reverted is not None)
        anonymous = revision.user_is_anonymous or is_ip_name(revision.user_text)
        user_id = None if anonymous else revision.user_id
        user_text = ips.apply(revision.user_text) if anonymous else ips.replace(revision.user_text)
        temporary, bot = self.accounts.flags(revision.user_text, anonymous)  # the dump's name, not the replaced
        if position == 0:
            self.creator = user_text
        # nobody to count: a deleted name, or a dropped address (every one of them is "<ip>")
        dropped = anonymous and ips.mode == "drop"
        self.users.append(None if user_text is None or dropped else (anonymous, user_id, user_text, temporary, bot))
        self.last_text_bytes = revision.text_bytes or 0

        diffed = None
        counts = (None,) * 6
        if self.with_diffs and original is not None:
            diffed = self.differ.next(revision.id, self.text)  # diffs and counters of the text as written
            result = diffed[1]
            self.coarse_diffs += result.coarse
            counts = (result.lines_added, result.lines_removed, result.words_added, result.words_removed,
                      result.chars_added, result.chars_removed)
        page = self.page
        row = (
            page.id, page.namespace, page.title, page.redirect_title, revision.id, revision.parent_id,
            counted.timestamp_us, revision.minor, ips.replace(revision.comment), revision.text_bytes, text_sha1,
            sha1, revision.size(), revision.roles, revision.model, revision.format, user_id, user_text, anonymous,
            temporary, bot,
            not revision.user_deleted, not revision.comment_deleted, not revision.text_deleted,
            counted.text_bytes_diff, counted.page_revision_count, counted.seconds_since_previous, *counts,
        )
        for column, value in zip(self._columns, row):
            column.append(value)
        if len(self._columns[0]) >= _PACK_ROWS:
            self._pack()
        return diffed

    def add_batch(self, batch: RevisionBatch) -> DiffPieces | None:
        """Take the page's next revisions as columns (``RevisionBatch``: one-slot revisions, IPs
        kept, no ``content`` table); the same rows as ``add`` one by one. Returns the ``diffs``
        rows (``DiffPieces``), or None without a diffs table."""
        n = len(batch)
        counters = self.counters
        ids = batch.ids.tolist()
        times = batch.timestamps_us
        sizes = batch.text_bytes
        user_texts = batch.strings("user_text")
        anonymous = batch.anonymous.tolist()
        names = self._names
        for i, name in enumerate(user_texts):  # a registered contributor named by an address is an IP
            if not anonymous[i] and name is not None:
                known = names.get(name)
                if known is None:
                    known = names[name] = (is_ip_name(name), *self.accounts.flags(name, False))
                anonymous[i] = known[0]
        user_ids = [None if a or u == 0 else u for a, u in zip(anonymous, batch.user_ids.tolist())]
        temporary = [False] * n
        bot = [False] * n
        for i, name in enumerate(user_texts):
            if not anonymous[i] and name is not None:
                _, temporary[i], bot[i] = names[name]
        # sha1s: the main slot's is <text sha1=…>, else <sha1>, else computed; the revision's <sha1>, else the main's
        sha1s = batch.strings("sha1")
        text_sha1s = batch.strings("text_sha1")
        main_sha1s = []
        keys = []  # what reverts compare, of the revision's sha1 (its <sha1>, else the main slot's)
        for i in range(n):
            sha1 = sha1s[i]
            text_sha1 = text_sha1s[i]
            main = text_sha1 or sha1
            if main is None:
                text = batch.text(i)
                main = None if text is None else sha1_base36(text)  # computed: base 36 by making
                keys.append(sha1_key(main, True))
            else:
                base36 = sha1 is None or is_base36_sha1(sha1)
                if not base36 or (text_sha1 is not None and text_sha1 != sha1 and not is_base36_sha1(text_sha1)):
                    self.sha1s_not_base36 += 1
                keys.append(sha1_key(main, None) if sha1 is None else sha1_key(sha1, base36))
            main_sha1s.append(main)
        revision_sha1s = [s if s is not None else m for s, m in zip(sha1s, main_sha1s)]
        # counters: in dump order, carried from the rows before
        known_size = sizes >= 0
        previous_sizes = np.empty(n, np.int64)
        previous_known = np.empty(n, bool)
        previous_sizes[1:], previous_known[1:] = sizes[:-1], known_size[:-1]
        previous_sizes[0] = -1 if counters.previous_bytes is None else counters.previous_bytes
        previous_known[0] = counters.previous_bytes is not None
        previous_times = np.empty(n, np.int64)
        previous_times[1:] = times[:-1]
        previous_times[0] = 0 if counters.previous_us is None else counters.previous_us
        since = (times - previous_times) // 1_000_000
        since_mask = np.zeros(n, bool)
        since_mask[0] = counters.previous_us is None
        counts = np.arange(counters.count + 1, counters.count + n + 1, dtype=np.int64)
        counters.count += n
        counters.previous_bytes = None if sizes[-1] < 0 else int(sizes[-1])
        counters.previous_us = int(times[-1])
        # reverts, users, the page's lists
        position = len(self.ids)
        detector, marks = self.detector, self.marks
        reverts = []
        for i, key in enumerate(keys):
            marks.add()
            reverted = detector.add_key(key)
            if reverted is not None:
                marks.mark(reverted[0], reverted[1], position + i)
            reverts.append(reverted is not None)
        self.ids.extend(ids)
        self.times.extend(times.tolist())
        self.reverts.extend(reverts)
        if position == 0:
            self.creator = user_texts[0]
        self.users.extend(None if text is None else (a, u, text, t, b)
                          for a, u, text, t, b in zip(anonymous, user_ids, user_texts, temporary, bot))
        self.last_text_bytes = max(int(sizes[-1]), 0)
        # diffs of the visible texts, each against the last visible one before it: one compiled call
        diff_counts = [[None] * n for _ in range(6)]
        diff_rows = None
        if self.with_diffs:
            base_ids, page_diffs = self.differ.next_batch(batch.ids, batch.out, batch.text_start, batch.text_end)
            shown = (page_diffs.base != NOT_DIFFED).tolist()
            counters = page_diffs.counters.tolist()
            diff_counts = [[v if s else None for v, s in zip(row, shown)] for row in counters[:6]]
            self.coarse_diffs += sum(counters[6])
            if self.differ.ops_text != "none":
                diff_rows = _diff_rows(page_diffs, batch.out, self.page.id, batch.ids, base_ids,
                                       page_diffs.base != NOT_DIFFED)
        page = self.page
        none_if = lambda values, absent: [None if a else v for v, a in zip(values.tolist(), absent.tolist())]
        sizes_or_none = none_if(sizes, ~known_size)
        columns = (
            [page.id] * n, [page.namespace] * n, [page.title] * n, [page.redirect_title] * n, ids,
            none_if(batch.parent_ids, batch.parent_ids == 0), times.tolist(), batch.minor.tolist(),
            batch.strings("comment"), sizes_or_none, main_sha1s, revision_sha1s, sizes_or_none, [["main"]] * n,
            batch.strings("model"), batch.strings("format"), user_ids, user_texts, anonymous, temporary, bot,
            (~batch.user_deleted).tolist(), (~batch.comment_deleted).tolist(), (~batch.text_deleted).tolist(),
            none_if(sizes - previous_sizes, ~(known_size & previous_known)), counts.tolist(),
            none_if(since, since_mask), *diff_counts,
        )
        for column, values in zip(self._columns, columns):
            column.extend(values)
        if len(self._columns[0]) >= _PACK_ROWS:
            self._pack()
        return diff_rows

    @property
    def text(self) -> bytes | None:
        """The main text of the revision last added, as the output holds it (UTF-8; None when not visible)."""
        if self._text is _UNSET:  # replaced once, and only when a table wants it
            self._text = self.ips.replace_utf8(self._original)
        return self._text  # type: ignore[return-value]

    @property
    def content_text(self) -> str | None:
        """``text`` decoded: the ``content`` table's ``revision_text``."""
        text = self.text
        return None if text is None else text.decode("utf-8")

    @property
    def content_slots(self) -> list | None:
        """The ``content`` table's ``revision_content_slots`` of the revision last added: its slots but
        ``main`` as (role, slot) pairs, their bodies as ``--ips`` says; None when it has main only."""
        if not self._slots:
            return None
        replace = self.ips.replace_utf8
        return [(slot.role, (None if slot.text_utf8 is None else replace(slot.text_utf8).decode("utf-8"),
                             slot.model, slot.format, slot.computed_sha1(), slot.size)) for slot in self._slots]

    def _pack(self) -> None:
        if self._columns[0]:
            arrays = [pa.array(values, type=f.type) for values, f in zip(self._columns, _BASE)]
            self._batches.append(pa.RecordBatch.from_arrays(arrays, schema=_BASE))
            self._columns = [[] for _ in _BASE]

    def finish(self) -> PageSummary:
        """The page's revisions (with their revert columns), pages row and contributions.

        A page that fitted in the Python buffer comes back as plain columns, which the writer
        extends its own buffer with; a long page, already packed, as one Arrow batch.
        """
        ids, times, reverter = self.ids, self.times, self.marks.reverter
        is_reverted = [r >= 0 for r in reverter]
        first_reverting = [ids[r] if r >= 0 else None for r in reverter]
        seconds = [(times[r] - times[i]) // 1_000_000 if r >= 0 else None for i, r in enumerate(reverter)]
        extra = {
            "revision_is_identity_revert": self.reverts,
            "revision_is_identity_reverted": is_reverted,
            "revision_first_identity_reverting_revision_id": first_reverting,
            "revision_seconds_to_identity_revert": seconds,
        }
        since = seconds_since_previous_in_time(ids, times)  # None: in time order, the values stand
        if since is not None:
            extra["page_seconds_since_previous_revision"] = since
        if not self._batches:
            by_name = dict(zip(_BASE.names, self._columns))
            revisions = [extra[name] if name in extra else by_name[name] for name in REVISIONS.names]
        else:
            self._pack()
            base = pa.Table.from_batches(self._batches, schema=_BASE).combine_chunks()
            revisions = pa.RecordBatch.from_arrays(
                [pa.array(extra[f.name], f.type) if f.name in extra else base.column(f.name).combine_chunks()
                 for f in REVISIONS], schema=REVISIONS)

        page = self.page
        editors = {user[:3] for user in self.users if user is not None}
        creator = self.creator
        page_row = (
            page.id, page.namespace, page.title, page.redirect_title, len(ids), ids[0], times[0], ids[-1],
            times[-1], creator, len(editors), self.last_text_bytes, sum(self.reverts),
        )
        contributions = list(zip(self.users, times, self.reverts, is_reverted))
        return PageSummary(revisions, page_row, self.coarse_diffs, contributions, self.sha1s_not_base36)


class DiffPieces(NamedTuple):
    """The ``diffs`` rows of one batch of a page as NumPy columns, made Arrow with others
    (``PartWriter.append_pieces``): ``list_offsets`` index the ops, ``text_offsets`` the texts."""

    page_id: int
    revision_ids: np.ndarray
    base_ids: np.ndarray
    list_offsets: np.ndarray
    ops: np.ndarray  # a_start, a_end, b_start, b_end: a row each
    joined: np.ndarray
    text_offsets: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.revision_ids)

    @property
    def nbytes(self) -> int:
        return len(self.joined) + 8 * self.ops.size

    @staticmethod
    def batch(pieces: list["DiffPieces"]) -> pa.RecordBatch:
        """One Arrow batch of the ``diffs`` schema from pieces, in order."""
        if len(pieces) == 1:
            (one,) = pieces
            ids, bases, ops, joined = one.revision_ids, one.base_ids, one.ops, one.joined
            page_ids = np.full(len(ids), one.page_id, np.int64)
            list_offsets, text_offsets = one.list_offsets, one.text_offsets
        else:
            ids = np.concatenate([p.revision_ids for p in pieces])
            bases = np.concatenate([p.base_ids for p in pieces])
            page_ids = np.repeat(np.array([p.page_id for p in pieces], np.int64), [p.rows for p in pieces])
            ops = np.concatenate([p.ops for p in pieces], axis=1)
            joined = np.concatenate([p.joined for p in pieces])
            op_base = np.cumsum([0] + [p.list_offsets[-1] for p in pieces[:-1]])
            text_base = np.cumsum([0] + [len(p.joined) for p in pieces[:-1]])
            list_offsets = np.concatenate([p.list_offsets[:-1] + at for p, at in zip(pieces, op_base)]
                                          + [np.array([op_base[-1] + pieces[-1].list_offsets[-1]])])
            text_offsets = np.concatenate([p.text_offsets[:-1] + at for p, at in zip(pieces, text_base)]
                                          + [np.array([text_base[-1] + pieces[-1].text_offsets[-1]])])
        if text_offsets[-1] >= 2**31 or list_offsets[-1] >= 2**31:
            raise ValueError(f"diffs of {text_offsets[-1]:,} bytes of text in one batch: more than a Parquet string")
        texts = pa.StringArray.from_buffers(len(text_offsets) - 1, pa.py_buffer(text_offsets.astype(np.int32)),
                                            pa.py_buffer(joined))
        children = [pa.array(row) for row in ops.astype(np.int32)] + [texts]
        structs = pa.StructArray.from_arrays(children, fields=[OP.field(i) for i in range(OP.num_fields)])
        lists = pa.ListArray.from_arrays(pa.array(list_offsets.astype(np.int32)), structs, type=DIFFS.field("ops").type)
        return pa.RecordBatch.from_arrays([pa.array(page_ids), pa.array(ids), pa.array(bases, mask=bases < 0), lists],
                                          schema=DIFFS)


def _diff_rows(page_diffs, out, page_id: int, ids: np.ndarray, base_ids: np.ndarray, shown: np.ndarray
               ) -> DiffPieces:
    """The ``diffs`` rows of a batch's visible revisions from ``diff_page``'s arrays, the op texts
    gathered by one compiled copy: no Python object per op or per text (which for a huge text
    also spares the copies of a Python conversion)."""
    kept = np.flatnonzero(shown)
    op_offsets = page_diffs.op_offsets
    if (np.diff(op_offsets)[~shown] != 0).any():
        raise AssertionError("a revision that was not diffed has ops")
    joined, text_offsets = page_diffs.joined_texts(out)
    list_offsets = np.append(op_offsets[kept], op_offsets[kept[-1] + 1] if len(kept) else 0)
    return DiffPieces(page_id, ids[kept], base_ids[kept], list_offsets, page_diffs.ops[1:5], joined, text_offsets)


class UserTotals:
    """Each contributor's totals over the pages of one unit (or part of one)."""

    def __init__(self) -> None:
        # (anonymous, user id, user text) ->
        # [revisions, first us, last us, pages, reverts made, reverted, temporary, bot by name]
        self.totals: dict[tuple, list] = {}

    def __len__(self) -> int:
        return len(self.totals)

    def add_page(self, contributions) -> None:
        seen = set()
        totals = self.totals
        for user, moment, is_revert, reverted in contributions:
            if user is None:
                continue  # deleted, or an IP dropped: nobody to count
            key = user[:3]
            entry = totals.get(key)
            if entry is None:
                totals[key] = entry = [0, moment, moment, 0, 0, 0, False, False]
            entry[0] += 1
            if moment < entry[1]:
                entry[1] = moment
            if moment > entry[2]:
                entry[2] = moment
            if key not in seen:
                seen.add(key)
                entry[3] += 1
            entry[4] += is_revert
            entry[5] += reverted
            # the flags come from the dump's name; two names that --ips makes one are one contributor,
            # flagged when either name is (the users reduce adds up units the same way)
            entry[6] = entry[6] or user[3]
            entry[7] = entry[7] or user[4]

    def rows(self):
        """Rows of ``USERS_STAGING``: the users columns and the bucket."""
        for (anonymous, user_id, user_text), (count, first, last, pages, made, reverted, temporary, bot) \
                in self.totals.items():
            yield (user_id, user_text, anonymous, temporary, bot, count, first, last, pages, made, reverted,
                   user_bucket(user_text))

    def clear(self) -> None:
        self.totals.clear()
