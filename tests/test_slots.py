"""Multi-slot revisions and the revision value rules of issue 15, end to end through ``process``.

Schema 0.11 writes a revision's slots other than ``main`` as ``<content>`` elements (Commons'
``mediainfo``). The main slot's text feeds ``revision_text_bytes``, ``revision_text_sha1`` and
the diffs; ``revision_sha1`` (the dump's, else MediaWiki's ``RevisionSlots::computeSha1``),
``revision_size`` and ``revision_slots`` cover every slot, and identity reverts compare
``revision_sha1``. The inputs are written here in the shapes MediaWiki's ``XmlDumpWriter`` and
the Data Lake's ``MediawikiDumper`` write; the sha1s they carry are computed by this module's
own reading of MediaWiki's algorithm (``_mediawiki_sha1``), not by dumpproc's.
"""

from __future__ import annotations

import hashlib
import json
import re
from xml.sax.saxutils import escape

import pyarrow.parquet as pq
import pytest

from conftest import shared_dump
from dumpproc.pipeline import Options, run
from dumpproc.privacy import IpPolicy

HEAD = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
  <siteinfo><sitename>Wikimedia Commons</sitename><dbname>slotwiki</dbname>
    <base>https://commons.wikimedia.org/wiki/Main_Page</base><generator>MediaWiki 1.45</generator>
    <case>first-letter</case>
    <namespaces><namespace key="0" case="first-letter" /><namespace key="6" case="first-letter">File</namespace>
    </namespaces></siteinfo>
"""


def _base36(text: str) -> str:
    """MediaWiki's ``SlotRecord::base36Sha1``: the SHA-1 of the UTF-8 text, base 36, 31 digits."""
    number = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    digits = ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return digits.rjust(31, "0")


def _mediawiki_sha1(slots: dict[str, str]) -> str:
    """``RevisionSlots::computeSha1``: slot sha1s by role, each folded into the one before."""
    accumulated = None
    for role in sorted(slots):
        accumulated = slots[role] if accumulated is None else _base36(accumulated + slots[role])
    return accumulated


def _text(body: str | None, with_sha1: bool, indent: str = "      ") -> str:
    if body is None:
        return f'{indent}<text bytes="-1" deleted="deleted" />\n'
    sha1 = f' sha1="{_base36(body)}"' if with_sha1 else ""
    return f'{indent}<text bytes="{len(body.encode("utf-8"))}"{sha1} xml:space="preserve">{escape(body)}</text>\n'


def revision_xml(rev_id: int, main: str | None, slots: dict[str, str] | None = None, with_sha1s: bool = True,
                 user: str = "<username>Alice</username><id>1</id>", second: int = 0) -> str:
    """A 0.11 revision: the main slot inline, other slots as ``<content>``, MediaWiki's ``<sha1>``."""
    slots = slots or {}
    parts = [f"    <revision>\n      <id>{rev_id}</id>\n      <timestamp>2024-01-01T00:{second // 60:02d}:"
             f"{second % 60:02d}Z</timestamp>\n      <contributor>{user}</contributor>\n"
             f"      <origin>{rev_id}</origin>\n      <model>wikitext</model>\n      <format>text/x-wiki</format>\n",
             _text(main, with_sha1s)]
    for role, body in slots.items():
        parts.append(f"      <content>\n        <role>{role}</role>\n        <origin>{rev_id}</origin>\n"
                     "        <model>wikibase-mediainfo</model>\n        <format>application/json</format>\n"
                     f"{_text(body, with_sha1s, '        ')}      </content>\n")
    if with_sha1s and main is not None:
        parts.append(f"      <sha1>{_mediawiki_sha1({'main': _base36(main), **{r: _base36(b) for r, b in slots.items()}})}"
                     "</sha1>\n")
    else:
        parts.append("      <sha1 />\n")
    parts.append("    </revision>\n")
    return "".join(parts)


def page_xml(page_id: int, revisions: list[str], title: str | None = None) -> str:
    title = title or f"File:P{page_id}.jpg"
    return f"  <page>\n    <title>{title}</title>\n    <ns>6</ns>\n    <id>{page_id}</id>\n{''.join(revisions)}  </page>\n"


def process(tmp_path, pages: list[str], name: str = "slotwiki-20260101-pages-meta-history.xml", **options):
    """Run ``process`` over one dump of ``pages``; returns (revisions by id, content by id, diffs by id, manifest)."""
    path = tmp_path / name
    path.write_text(HEAD + "".join(pages) + "</mediawiki>\n", encoding="utf-8")
    out = tmp_path / f"out-{name}"
    result = run([str(path)], Options(out=str(out), workers=1, tables=("revisions", "diffs", "content"), **options))
    assert result.ok and not result.failed, result.failed
    read = lambda table: {r["revision_id"]: r for r in pq.read_table(out / table).to_pylist()}  # noqa: E731
    return read("revisions"), read("content"), read("diffs"), result.manifest


MEDIAINFO = '{"type":"mediainfo","id":"M1","labels":{"en":{"language":"en","value":"a goddess"}}}'
MEDIAINFO2 = '{"type":"mediainfo","id":"M1","labels":{"en":{"language":"en","value":"the goddess Bhadrakali"}}}'


@pytest.mark.parametrize("with_sha1s", [True, False], ids=["sha1s-given", "sha1s-computed"])
def test_multi_slot_revision_columns(tmp_path, with_sha1s):
    main, slots = "{{Artwork}}\n[[Category:Art]]", {"mediainfo": MEDIAINFO}
    revisions, content, _, _ = process(tmp_path, [page_xml(1, [
        revision_xml(10, "{{Artwork}}", with_sha1s=with_sha1s),
        revision_xml(11, main, slots, with_sha1s=with_sha1s)])])
    one, two = revisions[10], revisions[11]
    # the main slot's, always: not the whole revision's sha1, whether the dump gives it or not
    assert two["revision_text_sha1"] == _base36(main)
    assert two["revision_text_bytes"] == len(main.encode("utf-8"))
    assert two["revision_text_bytes_diff"] == len(main) - len("{{Artwork}}")  # main slot against main slot
    assert two["revision_sha1"] == _mediawiki_sha1({"main": _base36(main), "mediainfo": _base36(MEDIAINFO)})
    assert two["revision_sha1"] != two["revision_text_sha1"]
    assert two["revision_size"] == len(main) + len(MEDIAINFO)
    assert two["revision_slots"] == ["main", "mediainfo"]
    assert (two["revision_content_model"], two["revision_content_format"]) == ("wikitext", "text/x-wiki")
    assert content[11]["revision_text"] == main
    assert content[11]["revision_content_slots"] == [("mediainfo", {
        "content_body": MEDIAINFO, "content_model": "wikibase-mediainfo", "content_format": "application/json",
        "content_sha1": _base36(MEDIAINFO), "content_size": len(MEDIAINFO)})]
    # main only: one slot, whose sha1 and size are the revision's
    assert one["revision_sha1"] == one["revision_text_sha1"] == _base36("{{Artwork}}")
    assert one["revision_size"] == one["revision_text_bytes"] == len("{{Artwork}}")
    assert one["revision_slots"] == ["main"] and content[10]["revision_content_slots"] is None


def test_slots_are_listed_main_first_then_by_role(tmp_path):
    """MediaWiki sorts the roles for the sha1 (PHP's ksort), whatever order a dump writes them in."""
    slots = {"zeta": "z", "mediainfo": MEDIAINFO, "alpha": "a"}
    xml = revision_xml(10, "text", slots)
    revisions, content, _, _ = process(tmp_path, [page_xml(1, [xml])])
    assert revisions[10]["revision_slots"] == ["main", "alpha", "mediainfo", "zeta"]
    assert [role for role, _ in content[10]["revision_content_slots"]] == ["alpha", "mediainfo", "zeta"]
    stripped = re.sub(r' sha1="[^"]*"|<sha1>[^<]*</sha1>', "", xml)
    computed, _, _, _ = process(tmp_path, [page_xml(1, [stripped])], name="slotwiki-20260102-pages-meta-history.xml")
    assert computed[10]["revision_sha1"] == revisions[10]["revision_sha1"] == _mediawiki_sha1(
        {"main": _base36("text"), **{role: _base36(body) for role, body in slots.items()}})


def test_identity_reverts_compare_every_slot(tmp_path):
    """Back to an earlier main text with other structured data is no revert; back to both is one."""
    a, b = "text A", "text B"
    revisions, _, _, _ = process(tmp_path, [page_xml(1, [
        revision_xml(1, a, {"mediainfo": MEDIAINFO}, second=1),
        revision_xml(2, b, {"mediainfo": MEDIAINFO}, second=2),
        revision_xml(3, a, {"mediainfo": MEDIAINFO2}, second=3),  # main as revision 1, mediainfo not
        revision_xml(4, b, {"mediainfo": MEDIAINFO}, second=4),  # revision 2 again, all slots: reverts 3
        revision_xml(5, b, second=5),  # revision 4's main text without its mediainfo slot
        revision_xml(6, a, {"mediainfo": MEDIAINFO}, second=6),  # revision 1 again: reverts 2 to 5
    ])])
    reverts = {rev_id: r["revision_is_identity_revert"] for rev_id, r in revisions.items()}
    assert reverts == {1: False, 2: False, 3: False, 4: True, 5: False, 6: True}
    assert revisions[3]["revision_text_sha1"] == revisions[1]["revision_text_sha1"]  # the main texts are alike
    assert revisions[3]["revision_first_identity_reverting_revision_id"] == 4
    assert [revisions[i]["revision_first_identity_reverting_revision_id"] for i in (2, 5)] == [6, 6]


def test_deleted_slots(tmp_path):
    """A deleted revision (the Data Lake's dumper: main ``bytes="-1"``, no slots), and MediaWiki's
    shape, where a deleted slot keeps its size and sha1 and loses its body."""
    deleted_slot = ('    <revision><id>3</id><timestamp>2024-01-01T00:00:03Z</timestamp>'
                    '<contributor><username>Alice</username><id>1</id></contributor>'
                    '<model>wikitext</model><format>text/x-wiki</format>'
                    f'<text bytes="4" sha1="{_base36("main")}" xml:space="preserve">main</text>'
                    '<content><role>mediainfo</role><model>wikibase-mediainfo</model><format>application/json</format>'
                    f'<text bytes="{len(MEDIAINFO)}" sha1="{_base36(MEDIAINFO)}" deleted="deleted" /></content>'
                    '<sha1 /></revision>\n')
    revisions, content, diffs, _ = process(tmp_path, [page_xml(1, [
        revision_xml(1, "main", {"mediainfo": MEDIAINFO}, second=1),
        revision_xml(2, None, second=2),
        deleted_slot,
    ])])
    gone = revisions[2]
    assert not gone["content_is_visible"] and gone["revision_slots"] == ["main"]
    assert (gone["revision_text_bytes"], gone["revision_size"], gone["revision_sha1"]) == (None, None, None)
    assert content[2]["revision_text"] is None and content[2]["revision_content_slots"] is None
    kept = revisions[3]
    assert kept["revision_size"] == 4 + len(MEDIAINFO) and kept["revision_slots"] == ["main", "mediainfo"]
    assert kept["revision_sha1"] == revisions[1]["revision_sha1"]  # computed from the sha1s the dump keeps
    assert kept["revision_is_identity_revert"] and revisions[2]["revision_is_identity_reverted"]
    assert content[3]["revision_content_slots"] == [("mediainfo", {
        "content_body": None, "content_model": "wikibase-mediainfo", "content_format": "application/json",
        "content_sha1": _base36(MEDIAINFO), "content_size": len(MEDIAINFO)})]
    assert diffs[3]["base_revision_id"] == 1  # the main text is visible: diffed against the last visible one


def test_unknown_sizes_are_null_and_give_no_difference(tmp_path):
    """``bytes="-1"`` is unknown, not a size: never in revision_text_bytes nor the next difference."""
    revisions, _, _, _ = process(tmp_path, [page_xml(1, [
        revision_xml(1, "four", second=1),
        revision_xml(2, None, second=2),  # <text bytes="-1" deleted="deleted" />
        revision_xml(3, "seven!!", second=3),
        revision_xml(4, "eight!!!", second=4),
    ])])
    assert revisions[2]["revision_text_bytes"] is None and revisions[2]["revision_text_bytes_diff"] is None
    assert revisions[3]["revision_text_bytes_diff"] is None  # not 7 - 0, nor 7 - (-1)
    assert revisions[4]["revision_text_bytes_diff"] == 1


def test_stub_text_without_bytes_is_not_in_the_dump(tmp_path):
    """``<text id="N"/>`` without text and without bytes (stub dumps) is a text not in the dump: no
    size, no sha1 unless given, null diff counters, no diffs row; never an empty text."""
    def stub(rev_id: int, text: str, sha1: str | None = None) -> str:
        return (f"    <revision><id>{rev_id}</id><timestamp>2024-01-01T00:00:0{rev_id}Z</timestamp>"
                f"<contributor><username>Alice</username><id>1</id></contributor>{text}"
                + (f"<sha1>{sha1}</sha1>" if sha1 else "<sha1 />") + "</revision>\n")
    revisions, content, diffs, _ = process(tmp_path, [page_xml(1, [
        revision_xml(1, "first text", second=1),
        stub(2, '<text id="77" />'),
        stub(3, '<text id="78" />', sha1=_base36("first text")),
        stub(4, '<text bytes="0" id="79" />'),  # a size of 0: the empty text, which the dump need not carry
        revision_xml(5, "first text", second=5),
    ])])
    for rev_id in (2, 3):
        row = revisions[rev_id]
        assert row["content_is_visible"] and row["revision_text_bytes"] is None and row["revision_size"] is None
        assert row["diff_lines_added"] is None and row["diff_chars_removed"] is None and rev_id not in diffs
        assert content[rev_id]["revision_text"] is None
    assert revisions[2]["revision_text_sha1"] is None and revisions[2]["revision_sha1"] is None
    assert revisions[3]["revision_sha1"] == revisions[3]["revision_text_sha1"] == _base36("first text")
    assert revisions[3]["revision_is_identity_revert"]  # a sha1 given is matched, text or not
    assert revisions[4]["revision_text_bytes"] == 0 and content[4]["revision_text"] == ""
    assert diffs[4]["base_revision_id"] == 1 and revisions[4]["diff_chars_removed"] == len("first text")
    assert diffs[5]["base_revision_id"] == 4


def test_hexadecimal_sha1s_are_kept_matched_and_counted(tmp_path):
    """Some old exports write hexadecimal sha1s: kept as given, still matched for reverts, counted."""
    def hexed(rev_id: int, text: str) -> str:
        return re.sub(r"<sha1>[^<]*</sha1>", f"<sha1>{hashlib.sha1(text.encode()).hexdigest()}</sha1>",
                      re.sub(r' sha1="[^"]*"', "", revision_xml(rev_id, text, second=rev_id)))
    revisions, _, _, manifest = process(tmp_path, [
        page_xml(1, [hexed(1, "a"), hexed(2, "b"), hexed(3, "a")]),
        page_xml(2, [revision_xml(4, "c", second=4)]),
    ])
    assert revisions[1]["revision_sha1"] == revisions[1]["revision_text_sha1"] == hashlib.sha1(b"a").hexdigest()
    assert revisions[3]["revision_is_identity_revert"] and revisions[2]["revision_is_identity_reverted"]
    assert [unit["sha1s_not_base36"] for unit in manifest["units"]] == [3]
    assert manifest["sha1s_not_base36"] == 3


@pytest.mark.parametrize("mode", ["hash", "drop"])
def test_addresses_in_slot_bodies_are_replaced(tmp_path, mode):
    body = '{"type":"mediainfo","labels":{"en":{"value":"photo by 192.0.2.7 and 2001:db8::9"}}}'
    revisions, content, _, _ = process(tmp_path, [page_xml(1, [revision_xml(1, "main", {"mediainfo": body})])],
                                       ips=IpPolicy(mode, b"key" if mode == "hash" else None))
    (role, slot), = content[1]["revision_content_slots"]
    assert "192.0.2.7" not in slot["content_body"] and "2001:db8::9" not in slot["content_body"]
    assert ("<ip>" in slot["content_body"]) == (mode == "drop")
    # sizes and sha1s stay the dump's texts', so reverts do not depend on the mode
    assert (slot["content_sha1"], slot["content_size"]) == (_base36(body), len(body))
    assert revisions[1]["revision_sha1"] == _mediawiki_sha1({"main": _base36("main"), "mediainfo": _base36(body)})


COMMONS = "wikimedia__analytics-refinery-source/MediawikiDumperOutputTest.Commonswiki.Sample.xml"


def _commons_sha1s(xml: str) -> tuple[dict[int, str], dict[int, str]]:
    """Each revision's ``<sha1>`` and its main ``<text sha1=…>``, read with regular expressions."""
    whole, main = {}, {}
    for block in re.findall(r"<revision>.*?</revision>", xml, re.S):
        rev_id = int(re.search(r"<id>(\d+)</id>", block).group(1))
        whole[rev_id] = re.search(r"<sha1>([^<]*)</sha1>", block).group(1)
        main[rev_id] = re.search(r"<text [^>]*sha1=\"([^\"]*)\"", block.split("<content>")[0]).group(1)
    return whole, main


def test_real_commons_sample_sha1s_given_and_computed(tmp_path):
    """The Data Lake's commonswiki sample: revision_sha1 is the dump's <sha1>, revision_text_sha1 its
    main <text sha1>; with every sha1 stripped, both are computed to the same values."""
    xml = shared_dump(COMMONS).read_text(encoding="utf-8")
    whole, main = _commons_sha1s(xml)
    assert len(whole) == 59 and sum(w != m for w, m in zip(whole.values(), main.values())) == 27

    def read(name: str, text: str) -> dict[int, dict]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out = tmp_path / f"out-{name}"
        assert run([str(path)], Options(out=str(out), workers=1, tables=("revisions", "content"))).ok
        content = {r["revision_id"]: r for r in pq.read_table(out / "content").to_pylist()}
        return {r["revision_id"]: {**r, "slots": content[r["revision_id"]]["revision_content_slots"]}
                for r in pq.read_table(out / "revisions").to_pylist()}

    given = read("commonswiki-20250901-given.xml", xml)
    assert {i: r["revision_sha1"] for i, r in given.items()} == whole
    assert {i: r["revision_text_sha1"] for i, r in given.items()} == main
    assert sum(r["revision_slots"] == ["main", "mediainfo"] for r in given.values()) == 27
    stripped = re.sub(r' sha1="[^"]*"', "", re.sub(r"<sha1>[^<]*</sha1>", "<sha1 />", xml))
    assert "sha1=" not in stripped and "<sha1>" not in stripped
    computed = read("commonswiki-20250901-stripped.xml", stripped)
    assert {i: r["revision_sha1"] for i, r in computed.items()} == whole
    assert {i: r["revision_text_sha1"] for i, r in computed.items()} == main
    for rev_id, row in given.items():
        declared = sum(int(b) for b in re.findall(r'bytes="(\d+)"', re.search(
            rf"<id>{rev_id}</id>.*?</revision>", xml, re.S).group(0)))
        assert row["revision_size"] == declared
        assert computed[rev_id]["slots"] == row["slots"] and computed[rev_id]["revision_size"] == declared
        assert row["revision_is_identity_revert"] == computed[rev_id]["revision_is_identity_revert"]


def test_manifest_json_has_the_count(tmp_path):
    """The count is in ``_manifest.json`` as written, per unit and for the run, 0 when none."""
    process(tmp_path, [page_xml(1, [revision_xml(1, "x")])])
    manifest = json.loads((tmp_path / "out-slotwiki-20260101-pages-meta-history.xml" / "_manifest.json").read_text())
    assert manifest["sha1s_not_base36"] == 0 and manifest["units"][0]["sha1s_not_base36"] == 0
