"""Records: MediaWiki's base-36 sha1, namespaces from titles, building from strings."""

from __future__ import annotations

import hashlib

from hypothesis import given, strategies as st

from dumpproc.parse.revision import revision_from_string
from dumpproc.records import SiteInfo, is_base36_sha1, sha1_base36, slots_sha1


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
    rev = revision_from_string(
        "<revision><id>5</id><timestamp>2001-01-15T13:15:00Z</timestamp>"
        "<contributor><ip>10.0.0.1</ip></contributor><text>hi</text></revision>", page_id=9)
    assert (rev.page_id, rev.id, rev.user_text, rev.user_is_anonymous, rev.text, rev.text_bytes) == (
        9, 5, "10.0.0.1", True, "hi", 2)


def test_slots_sha1_is_mediawikis_compute_sha1():
    """RevisionSlots::computeSha1 on the values of analytics-refinery-source's own test of its
    reimplementation (MediawikiMultiContentRevisionSha1Test), in both orders."""
    main, mediainfo = ("main", "1jkqj7lxs8l999wu3jzlmzafwh6e2h4"), ("mediainfo", "t15553qh44ewu6rrgv4xbrkpoutrvj3")
    assert slots_sha1([main, mediainfo]) == slots_sha1([mediainfo, main]) == "ie6h3mnqzrk3gi7yzvoqaqi5xeur9d3"
    assert slots_sha1([main]) == main[1]  # one slot: its own sha1
    assert slots_sha1([]) is None and slots_sha1([main, ("mediainfo", None)]) is None  # one not known


def test_revision_sha1_main_sha1_and_size():
    rev = revision_from_string(
        "<revision><id>5</id><timestamp>2001-01-15T13:15:00Z</timestamp>"
        "<contributor><ip>10.0.0.1</ip></contributor><text>hi</text>"
        "<content><role>mediainfo</role><text bytes=\"7\">{}</text></content></revision>")
    assert rev.main_sha1() == sha1_base36("hi") and rev.size() == 2 + 7 and rev.roles == ["main", "mediainfo"]
    assert rev.revision_sha1() == slots_sha1([("main", sha1_base36("hi")), ("mediainfo", sha1_base36("{}"))])
    # the dump's <sha1> is the whole revision's: the main slot's only when it is the only slot
    assert rev._replace(sha1="given").revision_sha1() == "given" and rev._replace(sha1="given").main_sha1() != "given"
    one = rev._replace(slots=(), sha1="given")
    assert one.main_sha1() == one.revision_sha1() == "given"
    assert rev._replace(text_bytes=None).size() is None
    assert rev._replace(slots=(rev.slots[0]._replace(size=None),)).size() is None


def test_is_base36_sha1():
    assert is_base36_sha1("phoiac9h4m842xq45sp7s6u21eteeq1") and is_base36_sha1("1")
    assert not is_base36_sha1("da39a3ee5e6b4b0d3255bfef95601890afd80709")  # hexadecimal: 40 digits
    assert not is_base36_sha1("PHOIAC9H4M842XQ45SP7S6U21ETEEQ1") and not is_base36_sha1("")
    assert not is_base36_sha1("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")  # 31 digits, but past 2**160


@given(st.binary(max_size=64))
def test_sha1_base36_is_the_digest_in_base_36_padded_to_31_digits(text):
    number = int.from_bytes(hashlib.sha1(text).digest(), "big")
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    assert sha1_base36(text) == digits.rjust(31, "0") == sha1_base36(memoryview(text))
    assert int(sha1_base36(text), 36) == int.from_bytes(hashlib.sha1(text).digest(), "big")
