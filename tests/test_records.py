"""Records: MediaWiki's base-36 sha1, namespaces from titles, building from strings."""

from __future__ import annotations

from hypothesis import given, strategies as st

from dumpproc.records import Revision, SiteInfo, sha1_base36


def test_sha1_of_empty_text_is_mediawikis():
    assert sha1_base36("") == "phoiac9h4m842xq45sp7s6u21eteeq1"


@given(st.text())
def test_sha1_base36_round_trips_to_the_hex_digest(text):
    import hashlib

    value = sha1_base36(text)
    assert len(value) == 31 and value == value.lower()
    assert int(value, 36) == int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)


def test_namespace_of_title_prefix():
    site = SiteInfo.empty()._replace(namespaces={0: "", 1: "Talk", 2: "User", 3: "User talk"})
    assert site.namespace_of("User talk:Bob") == 3
    assert site.namespace_of("user_talk:Bob") == 3
    assert site.namespace_of("Talk:A:B") == 1
    assert site.namespace_of("Pear: a fruit") == 0
    assert site.namespace_of("Plain") == 0


def test_revision_from_string():
    rev = Revision.from_string(
        "<revision><id>5</id><timestamp>2001-01-15T13:15:00Z</timestamp>"
        "<contributor><ip>10.0.0.1</ip></contributor><text>hi</text></revision>", page_id=9)
    assert (rev.page_id, rev.id, rev.user_text, rev.user_is_anonymous, rev.text, rev.text_bytes) == (
        9, 5, "10.0.0.1", True, "hi", 2)
