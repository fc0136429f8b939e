"""Account kinds: temporary accounts by ``--temp-user-pattern``, bots by mediawiki_history's name rule."""

from __future__ import annotations

import pickle

import pytest

from dumpproc.accounts import DEFAULT_TEMP_USER_PATTERN, AccountKinds, is_bot_by_name, temp_user_pattern

# analytics-refinery-source, TestUserEventBuilder.scala: "isBotBy should correctly identify name bots"
REFINERY_NAME_BOTS = ["easyBot", "easyBot2", "easyBot3WithEnd", "noncapbot", "noncapbot2", "noncapbot3withend"]
# ... "should correctly identify no name bots" (null included)
REFINERY_NO_NAME_BOTS = ["nonbotname", "nonBotnameeither", "notEvenTricky", None]


@pytest.mark.parametrize("name", REFINERY_NAME_BOTS)
def test_the_refinery_tests_name_bots(name):
    assert is_bot_by_name(name)


@pytest.mark.parametrize("name", REFINERY_NO_NAME_BOTS)
def test_the_refinery_tests_no_name_bots(name):
    assert not is_bot_by_name(name)


@pytest.mark.parametrize("name, bot", [
    ("ClueBot NG", True), ("Bot", True), ("BOT", True), ("bOt", True), ("MyBot_2", True), ("Cydebot/test", True),
    ("Robot", True),  # "bot" at the end, whatever comes before
    ("Abbot", True),  # the rule's own false positive, which the Data Lake has too
    ("Bot-Name", True), ("Name (bot)", True),
    ("Botany", False), ("RoBOTics", False), ("Robots", False), ("Lobotomy", False), ("Bo t", False), ("", False),
    ("Boté", True),  # Java's (?i) folds ASCII only: é is not in [a-z], so it does not stop "bot"
    ("bot\u212a", True),  # KELVIN SIGN: a "k" to Python's Unicode case folding, not to Java's [^a-z]
    ("\u0392ot", False),  # GREEK CAPITAL BETA is no "b"
    ("Xbotabot9", True),  # a later "bot" may be the one: the rule searches the whole name
])
def test_bot_names_by_the_rule_as_java_applies_it(name, bot):
    assert is_bot_by_name(name) is bot


@pytest.mark.parametrize("name, temporary", [
    ("~2025-12345-67", True), ("~2026-1", True), ("~1999-", True),
    ("~25-12345-67", False),  # two digits of a year
    ("2025-12345-67", False),  # no tilde
    ("~Tilde", False), ("~2025", False), ("~2025_1", False),
    ("User ~2025-12345-67", False),  # anchored at the start
    ("~٢٠٢٥-1", False),  # [0-9] are ASCII digits (re's \d would take Arabic-Indic ones)
])
def test_default_pattern_takes_the_form_wikimedia_wikis_use(name, temporary):
    assert AccountKinds().flags(name, anonymous=False) == (temporary, False)
    assert AccountKinds(DEFAULT_TEMP_USER_PATTERN).flags(name, anonymous=False)[0] is temporary


def test_ip_editors_and_deleted_names_are_neither_temporary_nor_bots():
    everything = AccountKinds(".")  # any name at all is temporary
    assert everything.flags("~2025-12345-67Bot", anonymous=True) == (False, False)
    assert everything.flags(None, anonymous=False) == (False, False)
    assert everything.flags("~2025-12345-67Bot", anonymous=False) == (True, True)  # the two are apart


def test_another_wikis_pattern_is_searched_in_the_name():
    kinds = AccountKinds(r"^\*[0-9]+$")
    assert kinds.flags("*123", False) == (True, False)
    assert kinds.flags("~2025-12345-67", False) == (False, False)
    assert AccountKinds("tmp").flags("Xtmp", False)[0]  # re.search: unanchored finds it anywhere


@pytest.mark.parametrize("pattern", ["[", "(?P<x", "*", "a{2,1}"])
def test_an_invalid_pattern_is_a_value_error_of_one_line(pattern):
    with pytest.raises(ValueError) as raised:
        temp_user_pattern(pattern)
    message = str(raised.value)
    assert "--temp-user-pattern" in message and repr(pattern) in message and "\n" not in message
    with pytest.raises(ValueError):
        AccountKinds(pattern)


def test_account_kinds_travel_to_worker_processes():
    kinds = pickle.loads(pickle.dumps(AccountKinds(r"^\*")))
    assert kinds.flags("*1", False) == (True, False) and kinds == AccountKinds(r"^\*")
