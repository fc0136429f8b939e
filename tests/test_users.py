"""The users reduce: staging totals added up per contributor, in Python for a few rows, else by Arrow."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from dumpproc import users
from dumpproc.users import USERS_STAGING


def _staging_rows(rows):
    """USERS staging rows: a contributor and its totals each."""
    import datetime

    out = []
    for (anonymous, user_id, text), (count, day, pages, made, reverted, temporary, bot) in rows:
        moment = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=day)
        out.append({"user_id": None if anonymous else user_id, "user_text": text, "user_is_anonymous": anonymous,
                    "user_is_temporary": temporary, "user_is_bot_by_name": bot, "revision_count": count,
                    "first_revision_dt": moment, "last_revision_dt": moment + datetime.timedelta(days=count),
                    "pages_edited": pages, "identity_reverts_made": made, "revisions_identity_reverted": reverted,
                    "bucket": 0})
    return out


_contributor = st.tuples(st.booleans(), st.integers(0, 5),
                         st.sampled_from(["a", "B", "Ä", "a b", "é", "ü~", "ß", "𝔘", "192.0.2.1", "2001:db8::1", ""]))
_totals = st.tuples(st.integers(1, 9), st.integers(0, 10**8), st.integers(1, 9), st.integers(0, 9),
                    st.integers(0, 9), st.booleans(), st.booleans())


@given(st.lists(st.tuples(_contributor, _totals), max_size=40))
@settings(max_examples=200, deadline=None)
def test_users_summed_in_python_are_arrows_sums_row_for_row(rows):
    """A small users reduce adds up in Python (no pyarrow.compute to import); it must be the group-by's
    table exactly: the same sums, least and greatest times, flags, and order (names by UTF-8 bytes,
    ids with nulls last)."""
    staged = pa.Table.from_pylist(_staging_rows(rows), schema=USERS_STAGING)
    keys = ["user_is_anonymous", "user_id", "user_text"]
    python = users._sum_users_in_python(staged, keys)
    assert staged.num_rows <= users.USERS_IN_PYTHON
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "USERS_IN_PYTHON", -1)
        arrow = users._sum_users(staged, keys)
    assert python.schema == arrow.schema
    assert python.to_pylist() == arrow.to_pylist()
