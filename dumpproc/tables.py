"""Assemble the output tables' rows from a page's records, diffs and statistics.

``PageAssembler`` follows one page: for each revision it runs the counters,
the revert detector and the diff, hands back the ``diffs`` and ``content``
rows at once, and keeps the ``revisions`` rows (packed as Arrow batches) until
the page ends, because whether a revision was reverted is known only later.
``finish`` then gives the page's ``revisions`` rows, its ``pages`` row and its
contributions, which ``users.UserTotals`` adds up for the unit. A page's batches take their
columns from ``batch_columns``, and its diffs rows come as ``diffrows.DiffPieces``.

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

from array import array
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .accounts import AccountKinds
from .batch_columns import (batch_items, batch_strings, contributors, counter_items, diff_count_items, revert_items,
                            sha1s_as_given, user_tuples)
from .columnar import DIGEST, KEY_BYTES, OTHER, identity_reverts
from .diff import NOT_DIFFED, DiffResult, PageDiffer
from .diffrows import DiffPieces, diff_rows
from .pieces import Masked, RevisionPieces, Same, join, to_arrow
from .privacy import IpPolicy, is_ip_name
from .records import PageHeader, Revision, RevisionBatch, is_base36_sha1
from .schema import REVISIONS
from .stats import PageCounters, seconds_since_previous_in_time, sha1_key

REVERT_COLUMNS = (
    "revision_is_identity_revert",
    "revision_is_identity_reverted",
    "revision_first_identity_reverting_revision_id",
    "revision_seconds_to_identity_revert",
)
_BASE = pa.schema([f for f in REVISIONS if f.name not in REVERT_COLUMNS])
_PACK_ROWS = 4_096
_UNSET = object()
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
            main, revision_sha1, keys, not_base36 = sha1s_as_given(batch)
            self.sha1s_not_base36 += not_base36
            strings = (*strings[:4], main, revision_sha1)
        # counters: in dump order, carried from the rows before
        counted = counter_items(sizes, times, np.arange(counters.count + 1, counters.count + n + 1, dtype=np.int64),
                                counters.previous_bytes, counters.previous_us)
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
        diffs = page_diffs = None
        if self.with_diffs:
            base_ids, page_diffs = self.differ.next_batch(ids, out, batch.text_start, batch.text_end)
            self.coarse_diffs += int(page_diffs.counters[6].sum())
            if self.differ.ops_text != "none":
                diffs = diff_rows(page_diffs, out, self.page.id, ids, base_ids, page_diffs.base != NOT_DIFFED)
        page = self.page
        items = batch_items(batch, {"page_id": Same(page.id, n), "page_namespace": Same(page.namespace, n),
                                    "page_title": Same(page.title, n), "page_redirect_title": Same(page.redirect_title, n)},
                            ids, times, sizes, strings, (anonymous, temporary, bot, user_ids), counted,
                            diff_count_items(page_diffs, n))
        self._chunks.append([items[name] for name in _BASE.names])
        self._held += n
        if self._held >= _PACK_ROWS:
            self._pack_pieces()
        return diffs

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
            items = [join([chunk[i] for chunk in chunks[start:]], f.type) for i, f in enumerate(_BASE)]
            chunks[start:] = [RevisionPieces(_BASE, items).record_batch()]
        self._held = 0

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
        extra = revert_items(ids, times, is_revert, reverter)
        is_reverted = extra["revision_is_identity_reverted"]
        later = (times[1:] > times[:-1]) | ((times[1:] == times[:-1]) & (ids[1:] > ids[:-1]))
        if not later.all():  # not in time order: the seconds since the revision saved just before
            since = seconds_since_previous_in_time(ids.tolist(), times.tolist())
            extra["page_seconds_since_previous_revision"] = Masked(
                np.array([0 if s is None else s for s in since], np.int64), np.array([s is not None for s in since]))
        chunks = self._chunks
        if all(isinstance(chunk, list) and isinstance(chunk[0], Same) for chunk in chunks):  # batches only
            base = [join([chunk[i] for chunk in chunks], f.type) for i, f in enumerate(_BASE)]
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


