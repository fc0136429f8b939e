"""An error's text is one line, bounded, whatever its message and path hold."""

from __future__ import annotations

from dumpproc.errors import MESSAGE_LIMIT, PATH_LIMIT, CorruptInput, MalformedXML, one_line


def test_control_characters_and_line_breaks_are_escaped():
    error = MalformedXML("first\nsecond\r\tthird\x00\x1b[31m\x85\u2028end", path="a\nb.xml", line=3)
    text = str(error)
    assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\u2028" not in text
    assert text == "a\\nb.xml, line 3: first\\nsecond\\r\\tthird\\x00\\x1b[31m\\x85\\u2028end"
    assert text.splitlines() == [text]


def test_a_long_message_is_cut_with_an_ellipsis():
    error = CorruptInput("x" * 10_000, path="dump.xml.gz", offset=5, uncompressed_offset=7)
    text = str(error)
    message = text.split(": ", 1)[1]
    assert len(message) == MESSAGE_LIMIT and message.endswith("\u2026")
    assert text.startswith("dump.xml.gz, compressed byte 5, XML byte 7: ")


def test_a_long_path_keeps_its_file_name():
    path = "/" + "d" * 1000 + "/enwiki-20260101-pages-meta-history1.xml.bz2"
    where = str(MalformedXML("bad", path=path)).split(": ")[0]
    assert len(where) == PATH_LIMIT and where.startswith("\u2026")
    assert where.endswith("enwiki-20260101-pages-meta-history1.xml.bz2")


def test_a_message_grown_after_the_error_was_made_is_still_one_line():
    error = MalformedXML("bad")
    error.message += " (after\nrevision 5)"
    assert str(error) == "bad (after\\nrevision 5)"


def test_one_line_leaves_plain_text_alone():
    assert one_line("Caf\u00e9 \u2014 ok") == "Caf\u00e9 \u2014 ok"
