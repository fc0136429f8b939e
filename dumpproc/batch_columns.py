"""A ``records.RevisionBatch``'s columns as the tables want them: contributors, sha1s, strings.

Shared by ``tables.PageAssembler`` (a page's batches one at a time) and ``grouped.PageGroup``
(many short pages at once): ``contributors`` (who is anonymous, a temporary account, a bot by
name, each name judged once), ``batch_strings`` (the revert keys and the string columns, copied
out of the reader's buffer by two compiled calls, ``columnar``) and, for the sha1s MediaWiki
does not write (old exports' hexadecimal ones), ``sha1s_as_given`` with the record path's rules.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .accounts import AccountKinds
from .columnar import DIGEST, KEY_BYTES, gather_columns, sha1_columns
from .diff import NOT_DIFFED
from .pieces import Masked, Same, Strings
from .privacy import is_ip_name
from .records import RevisionBatch, digest_base36, is_base36_sha1, sha1_base36
from .stats import sha1_key

#: names whose flags a unit keeps (``contributors``' ``names``), before it starts again
NAMES_KEPT = 8_192


def contributors(batch: RevisionBatch, names: dict, accounts: AccountKinds):
    """A batch's contributors: (user texts as str, anonymous, temporary, bot by name, user ids as
    ``Masked``). A registered contributor named by an address is an IP; each name's flags are
    worked out once (``names``, kept across pages, started again past ``NAMES_KEPT``)."""
    n = len(batch)
    user_texts = batch.strings("user_text")
    if len(names) > NAMES_KEPT:
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


def sha1s_as_given(batch: RevisionBatch) -> tuple[Strings, Strings, list, int]:
    """The main and the revision sha1 columns, the revert keys (Python: a digest, a sha1 as given,
    or None) and how many sha1s are kept as given, by the record path's rules one by one."""
    sha1s = batch.strings("sha1")
    text_sha1s = batch.strings("text_sha1")
    main_sha1s = []
    keys = []  # what reverts compare, of the revision's sha1 (its <sha1>, else the main slot's)
    not_base36 = 0
    for i in range(len(batch)):
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
                not_base36 += 1
            keys.append(sha1_key(main, None) if sha1 is None else sha1_key(sha1, base36))
        main_sha1s.append(main)
    revision_sha1s = [s if s is not None else m for s, m in zip(sha1s, main_sha1s)]
    return Strings.of(main_sha1s), Strings.of(revision_sha1s), keys, not_base36


#: the diffs counters' columns of the revisions table, in ``diff.COUNTERS``' order
DIFF_COUNT_COLUMNS = ("diff_lines_added", "diff_lines_removed", "diff_words_added", "diff_words_removed",
                      "diff_chars_added", "diff_chars_removed")


def counter_items(sizes: np.ndarray, times: np.ndarray, counts: np.ndarray, previous_bytes: int | None,
                  previous_us: int | None, page_first: np.ndarray | None = None) -> dict:
    """The counters' columns of a batch in dump order (``stats.PageCounters``' values): the row
    before the first is the page's ``previous_bytes`` and ``previous_us`` (None: none), and a
    revision that starts a page (``page_first``) has no previous one."""
    n = len(sizes)
    known = sizes >= 0
    previous_sizes, previous_known, previous_times = np.roll(sizes, 1), np.roll(known, 1), np.roll(times, 1)
    previous_sizes[0] = -1 if previous_bytes is None else previous_bytes
    previous_known[0] = previous_bytes is not None
    previous_times[0] = 0 if previous_us is None else previous_us
    since_valid = np.ones(n, np.bool_)
    since_valid[0] = previous_us is not None
    if page_first is not None:
        previous_known &= ~page_first
        since_valid &= ~page_first
    return {"revision_text_bytes_diff": Masked(sizes - previous_sizes, known & previous_known),
            "page_revision_count": counts,
            "page_seconds_since_previous_revision": Masked((times - previous_times) // 1_000_000, since_valid)}


def revert_items(ids: np.ndarray, times: np.ndarray, is_revert: np.ndarray, reverter: np.ndarray) -> dict:
    """The identity revert columns, from ``columnar.identity_reverts``' arrays."""
    is_reverted = reverter >= 0
    at = np.where(is_reverted, reverter, 0)
    return {"revision_is_identity_revert": is_revert,
            "revision_is_identity_reverted": is_reverted,
            "revision_first_identity_reverting_revision_id": Masked(ids[at], is_reverted),
            "revision_seconds_to_identity_revert": Masked((times[at] - times) // 1_000_000, is_reverted)}


def batch_items(batch: RevisionBatch, page: dict, ids: np.ndarray, times: np.ndarray, sizes: np.ndarray, strings,
                people, counted: dict, diff_counts: list) -> dict:
    """The revisions columns of a batch but the revert ones, by name: ``page`` the page columns'
    items, ``ids``, ``times`` and ``sizes`` the batch's as contiguous arrays, ``strings`` ``batch_strings``' six, ``people`` ``contributors``' (anonymous, temporary,
    bot, user ids), ``counted`` ``counter_items``', ``diff_counts`` the six diff counters."""
    comment, model, format_, user_column, main, revision_sha1 = strings
    anonymous, temporary, bot, user_ids = people
    n = len(batch)
    size_column = Masked(sizes, sizes >= 0)
    return {
        **page,
        "revision_id": ids,
        "revision_parent_id": Masked(np.ascontiguousarray(batch.parent_ids, np.int64), batch.parent_ids != 0),
        "revision_dt": times,
        "revision_minor_edit": np.ascontiguousarray(batch.minor, np.bool_),
        "revision_comment": comment,
        "revision_text_bytes": size_column,
        "revision_text_sha1": main,
        "revision_sha1": revision_sha1,
        "revision_size": size_column,
        "revision_slots": Same(("main",), n),
        "revision_content_model": model,
        "revision_content_format": format_,
        "user_id": user_ids,
        "user_text": user_column,
        "user_is_anonymous": anonymous,
        "user_is_temporary": temporary,
        "user_is_bot_by_name": bot,
        "user_is_visible": ~batch.user_deleted,
        "comment_is_visible": ~batch.comment_deleted,
        "content_is_visible": ~batch.text_deleted,
        **counted,
        **dict(zip(DIFF_COUNT_COLUMNS, diff_counts)),
    }


def diff_count_items(page_diffs, n: int) -> list:
    """The six diff counters of a batch's revisions (``diff.PageDiffs``; None: not diffed), null
    where a revision was not diffed."""
    if page_diffs is None:
        return [Masked(np.zeros(n, np.int64), np.zeros(n, np.bool_))] * 6
    shown = page_diffs.base != NOT_DIFFED
    return [Masked(page_diffs.counters[k].copy(), shown) for k in range(6)]
