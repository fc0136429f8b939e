"""Many short pages at once: the rows of whole pages that a reader gave as one batch each.

A wiki of short histories has pages of a few dozen revisions, and then what a page costs is
not its revisions but the calls made for it (NumPy's and the kernels', a few microseconds
each, some sixty a page). ``PageGroup`` takes whole pages of one reader block (``add``: a
page's header and its one ``RevisionBatch``), and ``rows`` makes every table's rows of them
with one call of each stage: the diffs (``diff_page`` with page marks), the sha1 keys and the
string columns (``batch_columns.batch_strings``), the identity reverts (``columnar.identity_reverts``
with page marks), the counters and the ``pages`` rows by segment, so that the calls are per
block, not per page. The rows are the ones ``tables.PageAssembler`` gives page by page (the
tests compare them); a group whose sha1s need the Python rules (old exports' hexadecimal ones)
is handed back for ``PageAssembler`` to read page by page.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .accounts import AccountKinds
from .batch_columns import (batch_items, batch_strings, contributors, counter_items, diff_count_items, revert_items,
                            user_tuples)
from .columnar import identity_reverts
from .diff import NOT_DIFFED, PageDiffer
from .diffrows import DiffPieces, diff_rows
from .pieces import RevisionPieces, Same, join
from .records import PageHeader, RevisionBatch
from .schema import REVISIONS
from .stats import seconds_since_previous_in_time

#: rows a group holds at most before it is made rows (the writer joins groups anyway)
GROUP_ROWS = 8_192
_STRING = REVISIONS.field("page_title").type


class GroupRows(NamedTuple):
    """What a group gives: as ``PageSummary`` gives it for each page, for all of them."""

    revisions: RevisionPieces
    diffs: list[DiffPieces] | None
    page_rows: list[tuple]
    contributions: list[list]  # per page, as ``PageSummary.contributions``
    coarse_diffs: int


class PageGroup:
    """Whole pages of one block, made rows together (``rows``)."""

    def __init__(self, radius: int = 0, with_diffs: bool = True, ops_text: str = "bytes",
                 accounts: AccountKinds | None = None, names: dict | None = None):
        self.radius = radius
        self.with_diffs = with_diffs
        self.ops_text = ops_text
        self.accounts = accounts or AccountKinds()
        self.names = {} if names is None else names
        self.pages: list[tuple[PageHeader, RevisionBatch]] = []
        self.count = 0

    def __len__(self) -> int:
        return len(self.pages)

    def fits(self, batch: RevisionBatch) -> bool:
        """Whether a page of this batch can join the group (the same buffer, room left)."""
        return not self.pages or (batch.out is self.pages[0][1].out and self.count + len(batch) <= GROUP_ROWS)

    def add(self, header: PageHeader, batch: RevisionBatch) -> None:
        self.pages.append((header, batch))
        self.count += len(batch)

    def take(self) -> list[tuple[PageHeader, RevisionBatch]]:
        """The pages held, and the group emptied."""
        pages, self.pages, self.count = self.pages, [], 0
        return pages

    def rows(self) -> GroupRows | None:
        """Every table's rows of the pages held (the group emptied), or None, the pages kept, where
        a sha1 needs the Python rules: then ``take`` them for ``PageAssembler``."""
        pages = self.pages
        headers = [header for header, _ in pages]
        batch = pages[0][1] if len(pages) == 1 else RevisionBatch.joined([b for _, b in pages])
        keys, strings = batch_strings(batch)
        if keys is None:
            return None
        self.take()
        n = len(batch)
        lengths = np.array([len(b) for _, b in pages], np.int64)
        first = np.zeros(len(pages), np.int64)
        np.cumsum(lengths[:-1], out=first[1:])
        last = first + lengths - 1
        page_first = np.zeros(n, np.bool_)
        page_first[first] = True
        out = batch.out
        ids = np.ascontiguousarray(batch.ids, np.int64)
        times = np.ascontiguousarray(batch.timestamps_us, np.int64)
        sizes = np.ascontiguousarray(batch.text_bytes, np.int64)
        user_texts, anonymous, temporary, bot, user_ids = contributors(batch, self.names, self.accounts)
        # counters, each page from its start
        counted = counter_items(sizes, times, np.arange(1, n + 1, dtype=np.int64) - np.repeat(first, lengths),
                                None, None, page_first)
        since = counted["page_seconds_since_previous_revision"]
        later = (times[1:] > times[:-1]) | ((times[1:] == times[:-1]) & (ids[1:] > ids[:-1]))
        back = np.flatnonzero(~later & ~page_first[1:]) + 1  # revisions saved before the one above them
        for page in sorted(set((np.searchsorted(first, back, "right") - 1).tolist())):
            lo, hi = first[page], last[page] + 1  # a page not in time order: since the revision saved just before
            values = seconds_since_previous_in_time(ids[lo:hi].tolist(), times[lo:hi].tolist())
            since.values[lo:hi] = [0 if v is None else v for v in values]
            since.valid[lo:hi] = [v is not None for v in values]
        # identity reverts, each page on its own
        is_revert, reverter = identity_reverts(keys, self.radius, page_first)
        reverts_columns = revert_items(ids, times, is_revert, reverter)
        is_reverted = reverts_columns["revision_is_identity_reverted"]
        # diffs of each page's visible texts, each page from the empty text: one compiled call
        diffs = page_diffs = None
        coarse = 0
        page_ids = np.repeat(np.array([h.id for h in headers], np.int64), lengths)
        if self.with_diffs:
            base_ids, page_diffs = PageDiffer(self.ops_text).next_batch(ids, out, batch.text_start, batch.text_end,
                                                                        page_first)
            coarse = int(page_diffs.counters[6].sum())
            if self.ops_text != "none":
                diffs = diff_rows(page_diffs, out, page_ids, ids, base_ids, page_diffs.base != NOT_DIFFED)
        rows = lengths.tolist()
        page_columns = {
            "page_id": page_ids,
            "page_namespace": np.repeat(np.array([h.namespace for h in headers], np.int32), lengths),
            "page_title": join([Same(h.title, k) for h, k in zip(headers, rows)], _STRING),
            "page_redirect_title": join([Same(h.redirect_title, k) for h, k in zip(headers, rows)], _STRING),
        }
        columns = {**batch_items(batch, page_columns, ids, times, sizes, strings, (anonymous, temporary, bot, user_ids),
                                 counted, diff_count_items(page_diffs, n)), **reverts_columns}
        revisions = RevisionPieces(REVISIONS, [columns[name] for name in REVISIONS.names])
        # the pages rows and each page's contributions
        users = user_tuples(user_texts, anonymous, temporary, bot, user_ids)
        reverts = np.add.reduceat(is_revert.astype(np.int64), first).tolist()
        time_list, revert_list, reverted_list = times.tolist(), is_revert.tolist(), is_reverted.tolist()
        id_list, size_list = ids.tolist(), sizes.tolist()
        page_rows, contributions = [], []
        for header, lo, hi, count, page_reverts in zip(headers, first.tolist(), (last + 1).tolist(),
                                                       lengths.tolist(), reverts):
            page_users = users[lo:hi]
            editors = {user[:3] for user in page_users if user is not None}
            page_rows.append((header.id, header.namespace, header.title, header.redirect_title, count, id_list[lo],
                              time_list[lo], id_list[hi - 1], time_list[hi - 1], user_texts[lo], len(editors),
                              max(size_list[hi - 1], 0), page_reverts))
            contributions.append(list(zip(page_users, time_list[lo:hi], revert_list[lo:hi], reverted_list[lo:hi])))
        return GroupRows(revisions, diffs, page_rows, contributions, coarse)
