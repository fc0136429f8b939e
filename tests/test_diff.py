"""The diff: ops rebuild the new text exactly, and the counter identities of the spec hold."""

from __future__ import annotations

import hashlib
import os

import pytest
import regex
from hypothesis import given, settings, strategies as st

from dumpproc import diff as diff_module
from dumpproc.diff import PageDiffer, apply_ops, count_words, diff, split_lines

ALPHABET = st.sampled_from(["a", "b", "é", "中", "😀", " ", "\n", "\n", "_", "-", "1", "\t", "\r", "\u2028",
                            # marks, join controls and what Python's re and Unicode class apart
                            "\u0301", "क", "ि", "्", "ท", "\u0e35", "\u0e48", "ب", "َ", "\u200d", "\u200c", "²", "\x1c", "\xa0"])
TEXT = st.text(ALPHABET, max_size=80)
LINES = st.lists(st.sampled_from(["x\n", "y\n", "z z\n", "\n", "é w\n", "last", "a_b c\n"]), max_size=30)


def check(a: str, b: str):
    result = diff(a, b)
    assert apply_ops(a, result.ops) == b
    assert result.lines_added - result.lines_removed == len(split_lines(b)) - len(split_lines(a))
    assert result.words_added - result.words_removed == count_words(b) - count_words(a)
    assert result.chars_added - result.chars_removed == len(b) - len(a)
    for counter in result[1:7]:
        assert counter >= 0
    previous_end = (0, 0)
    for a_start, a_end, b_start, b_end, text in result.ops:  # sorted, non-overlapping, consistent
        assert (a_start, b_start) >= previous_end and a_start <= a_end and b_start <= b_end
        assert (a_start, a_end) != (b_start, b_end) or text or a_start != a_end
        assert "".join(split_lines(b)[b_start:b_end]) == text
        previous_end = (a_end, b_end)
    return result


@settings(max_examples=400, deadline=None)
@given(TEXT, TEXT)
def test_random_texts(a, b):
    check(a, b)


@settings(max_examples=300, deadline=None)
@given(LINES, st.data())
def test_edited_line_lists(lines, data):
    a = "".join(lines)
    edited = list(lines)
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(edited)))
        edited[at:at + data.draw(st.integers(0, 3))] = data.draw(LINES)[:3]
    check(a, "".join(edited))


def test_generated_histories(generate):
    from conftest import SAMPLE
    from dumpproc.parse import Dump
    from dumpproc.sources import open_dump

    pairs = 0
    with open_dump(str(SAMPLE)) as stream:
        for page in Dump(stream).pages():
            previous = ""
            for revision in page:
                if revision.text is not None:
                    check(previous, revision.text)
                    previous = revision.text
                    pairs += 1
    assert pairs > 500


def test_lines_and_words_as_the_spec_defines_them():
    assert split_lines("a\nb") == ["a\n", "b"]
    assert split_lines("a\n\n") == ["a\n", "\n"]
    assert split_lines("a\rb\u2028c\n") == ["a\rb\u2028c\n"]  # only \n ends a line
    assert split_lines("") == []
    assert count_words("l'été, 2 x_y!") == len(regex.findall(r"\w+", "l'été, 2 x_y!")) == 4



# Real text, the words counted by hand: a word with combining marks (vowel signs, viramas,
# harakat, niqqud) is one word, as SPEC defines words (UTS #18's \w, marks included).
SCRIPTS = [
    ("hindi", "हिन्दी भारत की राजभाषा है।", ["हिन्दी", "भारत", "की", "राजभाषा", "है"]),
    ("bengali", "বাংলা ভাষা আমার মাতৃভাষা।", ["বাংলা", "ভাষা", "আমার", "মাতৃভাষা"]),
    ("tamil", "தமிழ் ஒரு செம்மொழி ஆகும்.", ["தமிழ்", "ஒரு", "செம்மொழி", "ஆகும்"]),
    # Thai writes no spaces between words: a run of Thai letters and marks is one word
    ("thai", "ภาษาไทย ที่นี่ น้ำ", ["ภาษาไทย", "ที่นี่", "น้ำ"]),
    ("arabic, vowelled", "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ.", ["اللُّغَةُ", "العَرَبِيَّةُ", "جَمِيلَةٌ"]),
    ("hebrew, niqqud", "בְּרֵאשִׁית בָּרָא אֱלֹהִים", ["בְּרֵאשִׁית", "בָּרָא", "אֱלֹהִים"]),
    ("persian, zero-width non-joiner", "می‌خواهم بروم", ["می‌خواهم", "بروم"]),
    ("cjk", "中文維基百科、日本語のウィキペディア。한국어 위키백과", ["中文維基百科", "日本語のウィキペディア", "한국어", "위키백과"]),
    ("latin, decomposed", "cafe\u0301 nai\u0308ve x_y 42", ["cafe\u0301", "nai\u0308ve", "x_y", "42"]),
    # emoji are not word characters, but the zero-width joiner inside a family emoji is a join
    # control, so each joiner is a word of its own; a skin tone modifier is not a word character
    ("emoji with ZWJ", "family 👨\u200d👩\u200d👧 ok 👍🏽!", ["family", "\u200d", "\u200d", "ok"]),
]


@pytest.mark.parametrize("text, words", [case[1:] for case in SCRIPTS], ids=[case[0] for case in SCRIPTS])
def test_words_in_every_script(text, words):
    assert regex.findall(r"\w+", text) == words  # the hand count is Unicode's
    assert count_words(text) == len(words)
    added = check("", text + "\n")
    assert (added.words_added, added.words_removed) == (len(words), 0)
    removed = check(text + "\n", "")
    assert (removed.words_added, removed.words_removed) == (0, len(words))
    # one word changed inside a line: one word out, one in, whatever its script
    first = words[0]
    edited = check(f"start {text} end\n", f"start {text.replace(first, first + first[-1], 1)} end\n")
    assert (edited.words_added, edited.words_removed) == (1, 1)
    assert (edited.chars_added, edited.chars_removed) == (len(first) + 1, len(first))


def test_a_mark_added_to_a_word_changes_one_word():
    # हिन्दि to हिन्दी: the last vowel sign changes; Python's re saw 3 words, and a vowel sign
    # as punctuation, so the edit counted no word at all
    result = check("हिन्दि भाषा\n", "हिन्दी भाषा\n")
    assert (result.words_added, result.words_removed) == (1, 1)
    assert (result.chars_added, result.chars_removed) == (len("हिन्दी"), len("हिन्दि"))


def test_the_kernels_classes_are_unicodes_word_and_space_properties():
    """Every code point's class in the kernels' table, against UTS #18's definition spelt out."""
    from dumpproc.diff.tokens import _classes

    table = _classes()
    every = "".join(map(chr, range(0x110000)))
    word = regex.compile(r"[\p{Alphabetic}\p{Mark}\p{Decimal_Number}\p{Connector_Punctuation}\p{Join_Control}]")
    space = regex.compile(r"\p{White_Space}")
    expected = bytearray(0x110000)
    for match in word.finditer(every):
        expected[match.start()] = 1
    for match in space.finditer(every):
        expected[match.start()] = 2
    assert table.tobytes() == bytes(expected)
    for ch in "\u093f\u094d\u0e35\u064e\u05bc\u0301\u200d\u200c_5\u0966":  # marks, joiners, digits
        assert table[ord(ch)] == 1, hex(ord(ch))
    for ch in "²½-.👍\x1c":  # other numbers, punctuation, symbols; \x1c is space to re but not Unicode
        assert table[ord(ch)] == 0, hex(ord(ch))


def test_small_edit_counts():
    result = check("intro\nThe cat sat.\nend\n", "intro\nThe dog sat down.\nend\n")
    assert result.ops == [(1, 2, 1, 2, "The dog sat down.\n")]
    assert (result.lines_added, result.lines_removed) == (1, 1)
    assert (result.words_added, result.words_removed) == (2, 1)  # dog, down / cat
    assert (result.chars_added, result.chars_removed) == (len("dog") + len(" down"), len("cat"))


def test_first_revision_is_diffed_against_nothing():
    result = check("", "a b\nc\n")
    assert result.ops == [(0, 0, 0, 2, "a b\nc\n")] and result.words_added == 3 and result.words_removed == 0


def test_identical_texts_have_no_ops():
    assert check("same\ntext", "same\ntext").ops == []


def test_pathological_pairs_fall_back_and_stay_exact(monkeypatch):
    monkeypatch.setattr(diff_module, "WORK_BUDGET", 20_000)
    a = "".join(f"line {i}\n" for i in range(3000))
    b = "".join(f"other {i}\n" for i in range(3000))
    result = check(a, b)
    assert result.coarse >= 1 and len(result.ops) == 1  # no common lines: one hunk, kept whole
    same = "\n".join(["same"] * 5000)
    shuffled = "\n".join(["same", "diff"] * 2500)
    assert check(same, shuffled).ops  # thousands of identical lines


def test_token_counts_fall_back_to_a_multiset(monkeypatch):
    monkeypatch.setattr(diff_module, "TOKEN_MAX_EDITS", 2)
    words = [f"w{i}" for i in range(40)]
    result = check(" ".join(words) + "\n", " ".join(reversed(words)) + " x\n")
    assert result.coarse == 1
    assert (result.words_added, result.words_removed) == (1, 0)  # as a multiset only x is new


def test_page_differ_skips_deleted_texts():
    differ = PageDiffer()
    assert differ.next(1, "a\n")[0] is None
    base, result = differ.next(3, "a\nb\n")  # revision 2 had no visible text: it was never given
    assert base == 1 and result.lines_added == 1


def test_real_histories(tmp_path):
    """Every consecutive pair of the real histories in ../shared/dumps, Anarchism aside (slow)."""
    from conftest import shared_dump
    from dumpproc.parse import Dump
    from dumpproc.sources import open_dump

    for name in ["Schuwi__wikiwho_rs/Hallo.xml", "dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z",
                 "wikimedia__pywikibot/article-pear.xml", "mediawiki-client-tools__mediawiki-dump-generator/"
                 "math.miraheze.org-20231110-history.xml"]:
        path = shared_dump(name)
        with open_dump(str(path)) as stream:
            for page in Dump(stream).pages():
                differ = PageDiffer()
                previous = ""
                for revision in page:
                    if revision.text is None:
                        continue
                    _, result = differ.next(revision.id, revision.text)
                    assert apply_ops(previous, result.ops) == revision.text
                    assert result.chars_added - result.chars_removed == len(revision.text) - len(previous)
                    assert result.words_added - result.words_removed == count_words(revision.text) - count_words(previous)
                    previous = revision.text


@pytest.mark.slow
def test_anarchism_history():
    from conftest import shared_dump
    from dumpproc.parse import Dump
    from dumpproc.sources import open_dump

    path = shared_dump("maribelacosta__wikiwho/enwiki-Anarchism-pages-meta-history.xml.7z")
    pairs = 0
    with open_dump(str(path), 2) as stream:
        for page in Dump(stream).pages():
            differ = PageDiffer()
            previous, previous_words = "", 0
            for revision in page:
                if revision.text is None:
                    continue
                text = revision.text
                _, result = differ.next(revision.id, revision.text_utf8)
                words = count_words(text)
                assert apply_ops(previous, result.ops) == text
                assert result.lines_added - result.lines_removed == (
                    len(split_lines(text)) - len(split_lines(previous)))
                assert result.words_added - result.words_removed == words - previous_words
                assert result.chars_added - result.chars_removed == len(text) - len(previous)
                previous, previous_words = text, words
                pairs += 1
    assert pairs > 15_000


def test_the_class_table_is_kept_in_the_cache_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    """A later run reads the table from the kernels' cache folder instead of building it; a cut,
    flipped or unreadable file there is built again, never trusted."""
    from dumpproc.diff import tokens

    monkeypatch.setenv("DUMPPROC_CACHE_DIR", str(tmp_path))
    built = tokens._class_tables()
    path = tokens._table_path()
    assert path is not None and path.startswith(str(tmp_path))
    assert tokens._load_class_tables().tobytes() == built.tobytes()  # built, then kept
    assert open(path, "rb").read() == built.tobytes() + hashlib.sha1(built.tobytes()).digest()
    monkeypatch.setattr(tokens, "_class_tables", lambda: pytest.fail("built again though kept"))
    assert tokens._load_class_tables().tobytes() == built.tobytes()
    monkeypatch.undo()
    monkeypatch.setenv("DUMPPROC_CACHE_DIR", str(tmp_path))
    with open(path, "r+b") as file:
        file.truncate(1000)  # a cut file: built again and kept whole
    assert tokens._load_class_tables().tobytes() == built.tobytes()
    assert os.path.getsize(path) == 0x110000 + 20
    with open(path, "r+b") as file:
        file.seek(ord("a"))
        file.write(b"\x00")  # one class flipped, the size right: built again, never trusted
    assert tokens._load_class_tables().tobytes() == built.tobytes()
    assert open(path, "rb").read() == built.tobytes() + hashlib.sha1(built.tobytes()).digest()
    os.unlink(path)
    os.mkdir(path)  # unreadable, and no room to keep another (root reads any mode): built, not kept
    assert tokens._load_class_tables().tobytes() == built.tobytes()
    assert os.path.isdir(path) and not [name for name in os.listdir(os.path.dirname(path)) if name.endswith(".tmp")]


def _joined(ops):
    """Ops with those that touch made one, as the diff gives them."""
    out = [ops[0]]
    for a_start, a_end, b_start, b_end in ops[1:]:
        if (a_start, b_start) == out[-1][1::2]:
            out[-1] = (out[-1][0], a_end, out[-1][2], b_end)
        else:
            out.append((a_start, a_end, b_start, b_end))
    return out


@pytest.mark.parametrize("width", [1, 7, 8, 9, 15, 16, 17, 23])
def test_lines_match_whatever_their_length_and_offset(width):
    """Lines are hashed eight bytes at a time from their start: every line of any length matches its
    equal wherever it starts in either text (a shifted copy), a line that differs in any one byte,
    its last included, does not, and the last line may lack its \\n. Both ends differ, so that the
    lines are aligned by their hashes, not trimmed as a common prefix or suffix."""
    rng = __import__("random").Random(width)
    lines = ["".join(rng.choice("abé中 ") for _ in range(rng.randint(0, width))) + "\n" for _ in range(12)]
    a = "".join(lines)
    for at in range(len(lines)):
        head = "Q" * (at % 9 + 1) + "\n"  # every line of a moved by 2 to 10 bytes (all offsets mod 8)
        result = check(a, head + a + "R\n")
        assert [op[:4] for op in result.ops] == [(0, 0, 0, 1), (12, 12, 13, 14)]
        encoded = lines[at].encode()
        for byte in range(len(encoded) - 1):  # one byte of one line changed: that line alone
            changed = encoded[:byte] + (b"Z" if encoded[byte:byte + 1] != b"Z" else b"Y") + encoded[byte + 1:]
            b = head + "".join(lines[:at] + [changed.decode("utf-8", "replace")] + lines[at + 1:]) + "R\n"
            assert [op[:4] for op in check(a, b).ops] == _joined([(0, 0, 0, 1), (at, at + 1, at + 1, at + 2),
                                                                  (12, 12, 13, 14)])
    unended = a + "tail without a line end"
    assert [op[:4] for op in check(unended, "Q\n" + unended + "!").ops] == [(0, 0, 0, 1), (12, 13, 13, 14)]
    assert [op[:4] for op in check(unended, "Q\n" + unended).ops] == [(0, 0, 0, 1)]


@pytest.mark.parametrize("a, b, counts", [
    ("hello worlds\n", "hello worldz\n", (1, 1, 6, 6)),  # the shared head backs up to the word's start
    ("naïve café\n", "naïve cafè\n", (1, 1, 4, 4)),  # the shared bytes end inside é / è (C3 A9, C3 A8)
    ("a b   c\n", "a b   d\n", (1, 1, 1, 1)),  # shared up to a run of spaces
    ("x " * 500 + "hindi हिन्दि\n", "x " * 500 + "hindi हिन्दी\n", (1, 1, 6, 6)),  # marks are word characters
    ("same\n", "same!\n", (0, 0, 1, 0)),
    ("__init__ x\n", "__init__ y\n", (1, 1, 1, 1)),
])
def test_the_changed_tokens_of_a_long_shared_line(a, b, counts):
    result = check(a, b)
    assert (result.words_added, result.words_removed, result.chars_added, result.chars_removed) == counts
