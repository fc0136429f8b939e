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

import hashlib
import zlib
from array import array
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from .accounts import AccountKinds
from .columnar import DIGEST, KEY_BYTES, OTHER, gather_columns, identity_reverts, sha1_columns
from .diff import NOT_DIFFED, DiffResult, PageDiffer
from .privacy import IpPolicy, is_ip_name
from .pieces import Masked, RevisionPieces, Same, Strings, concat_items, to_arrow
from .records import PageHeader, Revision, RevisionBatch, digest_base36, is_base36_sha1, sha1_base36
from .schema import DIFFS, OP, REVISIONS, USERS
from .stats import PageCounters, seconds_since_previous_in_time, sha1_key

REVERT_COLUMNS = (
    "revision_is_identity_revert",
    "revision_is_identity_reverted",
    "revision_first_identity_reverting_revision_id",
    "revision_seconds_to_identity_revert",
)
_BASE = pa.schema([f for f in REVISIONS if f.name not in REVERT_COLUMNS])
_PACK_ROWS = 4_096
#: names whose flags a unit keeps (``PageAssembler``'s ``names``), before it starts again
_NAMES_KEPT = 8_192
_UNSET = object()
#: Buckets of the users table: the reduce holds one bucket's totals in memory at a time.
USER_BUCKETS = 8
USERS_STAGING = USERS.append(pa.field("bucket", pa.int32(), nullable=False))


def user_bucket(user_text: str) -> int:
    return zlib.crc32(user_text.encode("utf-8")) % USER_BUCKETS


@dataclass
class PageSummary:
    """What a finished page gives: its revisions, its pages row, its diff statistics."""

    #: pieces for a page read as batches, Arrow batches for a long page, else Python columns
    revisions: "RevisionPieces | tuple[pa.RecordBatch, ...] | list[list]"
    page_row: tuple
    coarse_diffs: int = 0
    #: (user, timestamp_us, is_revert, reverted); user: (anonymous, user id, user text, temporary, bot by
    #: name), whose first three are the contributor's key, or None for nobody to count
    contributions: list = field(default_factory=list)
    sha1s_not_base36: int = 0  # revisions whose sha1 is kept as given (hexadecimal in old exports)


class PageAssembler:
    """One page's revisions through counters, reverts and diffs.

    Its rows are kept in chunks, in dump order: Python columns for revisions taken one by one
    (``add``), column items (``pieces``) for batches (``add_batch``); the revert keys, ids and
    times beside them as arrays. ``finish`` finds the page's identity reverts in one compiled
    call (``columnar.identity_reverts``) and gives the rows as pieces when every chunk is.
    """

    def __init__(self, page: PageHeader, radius: int = 0, ips: IpPolicy | None = None, with_diffs: bool = True,
                 ops_text: str = "bytes", accounts: AccountKinds | None = None, names: dict | None = None):
        if radius < 0:
            raise ValueError("--revert-radius must be 0 (unlimited) or positive")
        self.ips = ips = ips or IpPolicy()
        self.accounts = accounts or AccountKinds()
        if ips.replaces:
            page = page._replace(title=ips.replace(page.title), redirect_title=ips.replace(page.redirect_title))
        self.page = page
        self.radius = radius
        self._original: bytes | None = None
        self._text: bytes | None | object = _UNSET
        self._slots: tuple = ()  # the non-main slots of the revision last added
        self.with_diffs = with_diffs
        self.counters = PageCounters()
        self.differ = PageDiffer(ops_text)  # "none" when no diffs table is written
        self.count = 0  # revisions added
        self.last_id: int | None = None
        self.creator: str | None = None  # the first revision's user_text, as written
        #: each revision's contributor as a number (-1: nobody to count) into ``_users``, the page's
        #: distinct contributors: a long page holds 4 bytes a revision for them, not a tuple each
        self._user_codes = array("i")
        self._users: list[tuple] = []
        self._user_numbers: dict[tuple, int] = {}
        self.coarse_diffs = 0
        self.sha1s_not_base36 = 0
        self.last_text_bytes = 0
        #: rows in dump order: a list of Python columns (``add``) or of column items (``add_batch``)
        self._chunks: list[list] = []
        self._columns: list[list] | None = None  # the Python columns being filled by ``add``
        self._held = 0  # rows of ``add_batch`` held as pieces, not yet packed as Arrow
        #: ids, times (us) and revert keys (rows of ``columnar.KEY_BYTES``, or Python keys) of every revision, chunk by chunk
        self._ids: list = []
        self._times: list = []
        self._keys: list = []
        self._given: dict[str, int] = {}  # sha1s kept as given -> their number in the page's keys
        #: contributor name -> (is an IP, temporary, bot by name): names repeat (shared by a unit's pages)
        self._names: dict[str, tuple] = {} if names is None else names

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
        position = self.count
        if self._columns is None:
            self._columns = [[] for _ in _BASE]
            self._chunks.append(self._columns)
            self._ids.append([])
            self._times.append([])
            self._keys.append([])
        self._ids[-1].append(revision.id)
        self._times[-1].append(counted.timestamp_us)
        self._keys[-1].append(sha1_key(sha1))  # SPEC: reverts compare the sha1 over all slots
        self.count += 1
        self.last_id = revision.id
        anonymous = revision.user_is_anonymous or is_ip_name(revision.user_text)
        user_id = None if anonymous else revision.user_id
        user_text = ips.apply(revision.user_text) if anonymous else ips.replace(revision.user_text)
        temporary, bot = self.accounts.flags(revision.user_text, anonymous)  # the dump's name, not the replaced
        if position == 0:
            self.creator = user_text
        # nobody to count: a deleted name, or a dropped address (every one of them is "<ip>")
        dropped = anonymous and ips.mode == "drop"
        self._add_users([None if user_text is None or dropped else (anonymous, user_id, user_text, temporary, bot)])
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

    def add_batch(self, batch: RevisionBatch) -> list[DiffPieces] | None:
        """Take the page's next revisions as columns (``RevisionBatch``: one-slot revisions, IPs
        kept, no ``content`` table); the same rows as ``add`` one by one. Returns the ``diffs``
        rows (``DiffPieces``, usually one), or None without a diffs table."""
        n = len(batch)
        self._columns = None  # rows of ``add`` after these go in a chunk of their own
        counters = self.counters
        out = batch.out
        ids = np.ascontiguousarray(batch.ids, np.int64)
        times = np.ascontiguousarray(batch.timestamps_us, np.int64)
        sizes = np.ascontiguousarray(batch.text_bytes, np.int64)
        user_texts, anonymous, temporary, bot, user_ids = contributors(batch, self._names, self.accounts)
        keys, strings = batch_strings(batch)
        if keys is None:  # old exports' hexadecimal sha1s: Python, as given
            main, revision_sha1, keys = self._sha1s_as_given(batch, n)
            strings = (*strings[:4], main, revision_sha1)
        comment, model, format_, user_column, main, revision_sha1 = strings
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
        since_valid = np.ones(n, bool)
        since_valid[0] = counters.previous_us is not None
        counts = np.arange(counters.count + 1, counters.count + n + 1, dtype=np.int64)
        counters.count += n
        counters.previous_bytes = None if sizes[-1] < 0 else int(sizes[-1])
        counters.previous_us = int(times[-1])
        if self.count == 0:
            self.creator = user_texts[0]
        self.count += n
        self.last_id = int(ids[-1])
        self._ids.append(ids)
        self._times.append(times)
        self._keys.append(keys)
        self._add_users(user_tuples(user_texts, anonymous, temporary, bot, user_ids))
        self.last_text_bytes = max(int(sizes[-1]), 0)
        # diffs of the visible texts, each against the last visible one before it: one compiled call
        diff_rows = None
        if self.with_diffs:
            base_ids, page_diffs = self.differ.next_batch(ids, out, batch.text_start, batch.text_end)
            shown = page_diffs.base != NOT_DIFFED
            diff_counts = [Masked(page_diffs.counters[k].copy(), shown) for k in range(6)]
            self.coarse_diffs += int(page_diffs.counters[6].sum())
            if self.differ.ops_text != "none":
                diff_rows = _diff_rows(page_diffs, out, self.page.id, ids, base_ids, shown)
        else:
            diff_counts = [Masked(np.zeros(n, np.int64), np.zeros(n, np.bool_))] * 6
        page = self.page
        size_column = Masked(sizes, known_size)
        self._chunks.append([
            Same(page.id, n), Same(page.namespace, n), Same(page.title, n), Same(page.redirect_title, n), ids,
            Masked(np.ascontiguousarray(batch.parent_ids, np.int64), batch.parent_ids != 0), times,
            np.ascontiguousarray(batch.minor, np.bool_), comment, size_column,
            main, revision_sha1, size_column, Same(("main",), n), model, format_, user_ids, user_column, anonymous,
            temporary, bot, ~batch.user_deleted, ~batch.comment_deleted, ~batch.text_deleted,
            Masked(sizes - previous_sizes, known_size & previous_known), counts,
            Masked((times - previous_times) // 1_000_000, since_valid), *diff_counts,
        ])
        self._held += n
        if self._held >= _PACK_ROWS:
            self._pack_pieces()
        return diff_rows

    def _add_users(self, users: list) -> None:
        numbers, table = self._user_numbers, self._users
        codes = []
        for user in users:
            if user is None:
                codes.append(-1)
                continue
            number = numbers.get(user)
            if number is None:
                number = numbers[user] = len(table)
                table.append(user)
            codes.append(number)
        self._user_codes.extend(codes)

    def _pack_pieces(self) -> None:
        """The batches' rows held since the last Arrow batch become one (a long page's memory stays
        small: Arrow's columns take about a third of the pieces' NumPy ones)."""
        chunks = self._chunks
        start = len(chunks)
        while start and isinstance(chunks[start - 1], list) and isinstance(chunks[start - 1][0], Same):
            start -= 1
        if start < len(chunks):
            items = [concat_items([chunk[i] for chunk in chunks[start:]]) for i in range(len(_BASE))]
            chunks[start:] = [RevisionPieces(_BASE, items).record_batch()]
        self._held = 0

    def _sha1s_as_given(self, batch: RevisionBatch, n: int):
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
        return Strings.of(main_sha1s), Strings.of(revision_sha1s), keys

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
        """The Python columns being filled become one Arrow batch (a long page's memory stays small)."""
        columns = self._columns
        if columns and columns[0]:
            arrays = [pa.array(values, type=f.type) for values, f in zip(columns, _BASE)]
            self._chunks[-1] = pa.RecordBatch.from_arrays(arrays, schema=_BASE)
            self._columns = None

    def _all_keys(self) -> np.ndarray:
        """Every revision's revert key (``KEY_BYTES`` each): a base-36 sha1's digest, or a sha1 as
        given numbered by its first appearance in the page (kind ``OTHER``), or none (kind 0)."""
        chunks = []
        for chunk in self._keys:
            if isinstance(chunk, list):  # Python keys: a digest (bytes), a sha1 as given (str), or None
                keys = np.zeros((len(chunk), KEY_BYTES), np.uint8)
                for row, key in enumerate(chunk):
                    if isinstance(key, bytes):
                        keys[row, 0] = DIGEST
                        keys[row, 1:] = np.frombuffer(key, np.uint8)
                    elif key is not None:
                        number = self._given.setdefault(key, len(self._given))
                        keys[row, 0] = OTHER
                        keys[row, 1:] = np.frombuffer(number.to_bytes(20, "big"), np.uint8)
                chunk = keys
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    def finish(self) -> PageSummary:
        """The page's revisions (with their revert columns), pages row and contributions.

        A page read as batches comes back as ``RevisionPieces``, which the writer joins with other
        pages' before Arrow; one whose revisions came one by one as plain columns if it fitted in
        the Python buffer (the writer extends its own), else as one Arrow batch.
        """
        ids = np.concatenate([np.asarray(i, np.int64) for i in self._ids])
        times = np.concatenate([np.asarray(t, np.int64) for t in self._times])
        is_revert, reverter = identity_reverts(self._all_keys(), self.radius)
        is_reverted = reverter >= 0
        at = np.where(is_reverted, reverter, 0)
        extra = {
            "revision_is_identity_revert": is_revert,
            "revision_is_identity_reverted": is_reverted,
            "revision_first_identity_reverting_revision_id": Masked(ids[at], is_reverted),
            "revision_seconds_to_identity_revert": Masked((times[at] - times) // 1_000_000, is_reverted),
        }
        later = (times[1:] > times[:-1]) | ((times[1:] == times[:-1]) & (ids[1:] > ids[:-1]))
        if not later.all():  # not in time order: the seconds since the revision saved just before
            since = seconds_since_previous_in_time(ids.tolist(), times.tolist())
            extra["page_seconds_since_previous_revision"] = Masked(
                np.array([0 if s is None else s for s in since], np.int64), np.array([s is not None for s in since]))
        chunks = self._chunks
        if all(isinstance(chunk[0], Same) for chunk in chunks if isinstance(chunk, list)) and \
                not any(isinstance(chunk, pa.RecordBatch) for chunk in chunks):
            base = [concat_items([chunk[i] for chunk in chunks]) for i in range(len(_BASE))]
            by_name = dict(zip(_BASE.names, base))
            revisions = RevisionPieces(REVISIONS, [extra[name] if name in extra else by_name[name]
                                                   for name in REVISIONS.names])
        elif len(chunks) == 1 and isinstance(chunks[0], list):  # one by one, few: Python columns
            by_name = dict(zip(_BASE.names, chunks[0]))
            revisions = [_python(extra[name]) if name in extra else by_name[name] for name in REVISIONS.names]
        else:
            # a batch per chunk with its part of the revert columns: the page's rows are not copied again
            revisions, at = [], 0
            for chunk in chunks:
                batch = _chunk_batch(chunk)
                end = at + batch.num_rows
                revisions.append(pa.RecordBatch.from_arrays(
                    [to_arrow(_rows(extra[f.name], at, end), f.type) if f.name in extra else batch.column(f.name)
                     for f in REVISIONS], schema=REVISIONS))
                at = end
            revisions = tuple(revisions)

        page = self.page
        users = self._users
        editors = {user[:3] for user in users}
        reverts = int(is_revert.sum())
        page_row = (
            page.id, page.namespace, page.title, page.redirect_title, self.count, int(ids[0]), int(times[0]),
            int(ids[-1]), int(times[-1]), self.creator, len(editors), self.last_text_bytes, reverts,
        )
        contributions = list(zip([None if c < 0 else users[c] for c in self._user_codes], times.tolist(),
                                 is_revert.tolist(), is_reverted.tolist()))
        return PageSummary(revisions, page_row, self.coarse_diffs, contributions, self.sha1s_not_base36)


def contributors(batch: RevisionBatch, names: dict, accounts: AccountKinds):
    """A batch's contributors: (user texts as str, anonymous, temporary, bot by name, user ids as
    ``Masked``). A registered contributor named by an address is an IP; each name's flags are
    worked out once (``names``, kept across pages, started again past ``_NAMES_KEPT``)."""
    n = len(batch)
    user_texts = batch.strings("user_text")
    if len(names) > _NAMES_KEPT:
        names.clear()
    flags = []
    for name in user_texts:
        known = names.get(name)
        if known is None:
            known = names[name] = (False, False, False) if name is None else (
                is_ip_name(name), *accounts.flags(name, False))
        flags.append(known)
    named = np.array(flags, np.bool_).reshape(n, 3)
    anonymous = np.ascontiguousarray(batch.anonymous, np.bool_)
    anonymous = anonymous | (~anonymous & named[:, 0])
    temporary = ~anonymous & named[:, 1]
    bot = ~anonymous & named[:, 2]
    user_ids = Masked(np.ascontiguousarray(batch.user_ids, np.int64), ~anonymous & (batch.user_ids != 0))
    return user_texts, anonymous, temporary, bot, user_ids


def user_tuples(user_texts: list, anonymous, temporary, bot, user_ids: Masked) -> list:
    """Each revision's contributor as ``PageSummary.contributions`` has it (None: nobody to count)."""
    return [None if text is None else (a, u if v else None, text, t, b) for a, u, v, text, t, b in zip(
        anonymous.tolist(), user_ids.values.tolist(), user_ids.valid.tolist(), user_texts, temporary.tolist(),
        bot.tolist())]


def batch_strings(batch: RevisionBatch):
    """A batch's revert keys (rows of ``columnar.KEY_BYTES``) and string columns (comment, model,
    format, user text, the main and the revision sha1s) as ``Strings``, copied out of the reader's
    buffer by two compiled calls. Keys None, and the sha1 columns left out, where a sha1 is not one
    MediaWiki writes (old exports' hexadecimal ones): the caller takes the Python rules for them."""
    n = len(batch)
    out, spans = batch.out, batch.spans
    sha1_spans = np.empty((9, n), np.int64)
    sha1_spans[0], sha1_spans[1] = spans["sha1"]
    sha1_spans[2], sha1_spans[3] = spans["text_sha1"]
    sha1_spans[4] = batch.text_start
    keys = np.zeros((n, KEY_BYTES), np.uint8)
    missing = sha1_columns(out, sha1_spans, keys)
    names = ("comment", "model", "format", "user_text")
    starts = np.empty((6 if missing == 0 else 4, n), np.int64)
    ends = np.empty_like(starts)
    for row, name in enumerate(names):
        starts[row], ends[row] = spans[name]
    if missing == 0:
        starts[4], ends[4] = sha1_spans[5], sha1_spans[6]
        starts[5], ends[5] = sha1_spans[7], sha1_spans[8]
    joined, offsets, valid = gather_columns(out, starts, ends)
    columns = [Strings(joined, offsets[row], valid[row]) for row in range(len(starts))]
    if missing < 0:
        return None, columns
    if missing > 0:  # computed from the text where the dump gives none (old exports): base 36 by making
        main_list = batch.strings("text_sha1")
        sha1s = batch.strings("sha1")
        for i in np.flatnonzero((keys[:, 0] == 0) & (batch.text_start >= 0)).tolist():
            digest = hashlib.sha1(batch.text(i)).digest()
            main_list[i] = digest_base36(digest)
            keys[i, 0] = DIGEST
            keys[i, 1:] = np.frombuffer(digest, np.uint8)
        main_list = [m if m is not None else s for m, s in zip(main_list, sha1s)]
        columns += [Strings.of(main_list), Strings.of([s if s is not None else m for s, m in zip(sha1s, main_list)])]
    return keys, columns


def _rows(item, start: int, end: int):
    """Rows start..end-1 of a column item (an array or ``Masked``)."""
    if isinstance(item, Masked):
        return Masked(item.values[start:end], item.valid[start:end])
    return item[start:end]


def _python(item) -> list:
    """A column item as Python values (None where not valid)."""
    if isinstance(item, Masked):
        return [v if ok else None for v, ok in zip(item.values.tolist(), item.valid.tolist())]
    return item.tolist()


def _chunk_batch(chunk) -> pa.RecordBatch:
    if isinstance(chunk, pa.RecordBatch):
        return chunk
    if isinstance(chunk[0], list):  # Python columns
        return pa.RecordBatch.from_arrays([pa.array(v, type=f.type) for v, f in zip(chunk, _BASE)], schema=_BASE)
    return RevisionPieces(_BASE, chunk).record_batch()


class DiffPieces(NamedTuple):
    """The ``diffs`` rows of one batch of a page as NumPy columns, made Arrow with others
    (``PartWriter.append_pieces``): ``list_offsets`` index the ops, ``text_offsets`` the texts."""

    page_id: int | np.ndarray  # the page's, or each row's (rows of several pages)
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
            page_ids = _page_ids(one)
            list_offsets, text_offsets = one.list_offsets, one.text_offsets
        else:
            ids = np.concatenate([p.revision_ids for p in pieces])
            bases = np.concatenate([p.base_ids for p in pieces])
            page_ids = np.concatenate([_page_ids(p) for p in pieces])
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


#: op texts of a revision this long, one run of its buffer, are written from the buffer (``_diff_rows``):
#: as long as ``sink`` writes a piece at once (``PAGE_HOLD_FACTOR * ROW_GROUP_BYTES``), so that the
#: buffer is not kept for the rest of its page
VIEW_BYTES = 32 << 20


def _page_ids(piece: DiffPieces) -> np.ndarray:
    if isinstance(piece.page_id, np.ndarray):
        return piece.page_id
    return np.full(len(piece.revision_ids), piece.page_id, np.int64)


def _diff_rows(page_diffs, out, page_id: int | np.ndarray, ids: np.ndarray, base_ids: np.ndarray, shown: np.ndarray
               ) -> list[DiffPieces]:
    """The ``diffs`` rows of a batch's visible revisions from ``diff_page``'s arrays, the op texts
    gathered by one compiled copy: no Python object per op or per text (which for a huge text
    also spares the copies of a Python conversion). A revision whose op texts are one run of the
    buffer of ``VIEW_BYTES`` or more (a huge text against the empty one, say) is a piece of its
    own that holds the buffer's bytes, not a copy (the writer makes it a row group at once)."""
    kept = np.flatnonzero(shown)
    op_offsets = page_diffs.op_offsets
    if (np.diff(op_offsets)[~shown] != 0).any():
        raise AssertionError("a revision that was not diffed has ops")
    if isinstance(page_id, np.ndarray):
        page_id = page_id[kept]
    lo, hi = op_offsets[kept], op_offsets[kept + 1]
    starts, ends = page_diffs.text_start, page_diffs.text_end
    viewed = []
    if len(starts) and int((ends - starts).sum()) >= VIEW_BYTES:
        for row in np.flatnonzero(hi > lo).tolist():
            a, b = int(lo[row]), int(hi[row])
            if ends[b - 1] - starts[a] >= VIEW_BYTES and (starts[a + 1:b] == ends[a:b - 1]).all():
                viewed.append(row)
    pieces, row = [], 0
    for cut in viewed + [len(kept)]:
        if cut > row:  # the rows before a viewed one, their texts gathered
            pieces.append(_rows_piece(page_diffs, out, page_id, ids, base_ids, kept, row, cut, None))
        if cut < len(kept):
            pieces.append(_rows_piece(page_diffs, out, page_id, ids, base_ids, kept, cut, cut + 1, out))
        row = cut + 1
    return pieces or [_rows_piece(page_diffs, out, page_id, ids, base_ids, kept, 0, 0, None)]


def _rows_piece(page_diffs, out, page_id, ids, base_ids, kept, first: int, last: int, view) -> DiffPieces:
    """``DiffPieces`` of kept rows first..last-1; ``view``: their texts are a run of it, not copied."""
    rows = kept[first:last]
    op_offsets = page_diffs.op_offsets
    a = int(op_offsets[rows[0]]) if len(rows) else 0
    b = int(op_offsets[rows[-1] + 1]) if len(rows) else 0
    starts, ends = page_diffs.text_start[a:b], page_diffs.text_end[a:b]
    if view is not None:
        joined = view[starts[0]:ends[-1]]
        text_offsets = np.append(0, np.cumsum(ends - starts))
    else:
        joined, text_offsets = page_diffs.joined_texts(out, a, b)
    list_offsets = np.append(op_offsets[rows], b) - a
    piece_page = page_id[first:last] if isinstance(page_id, np.ndarray) else page_id
    return DiffPieces(piece_page, ids[rows], base_ids[rows], list_offsets, page_diffs.ops[1:5, a:b], joined,
                      text_offsets)


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
