"""--revert-radius 15 agrees with mwreverts' Detector(radius=15) fed the dump's sha1 values, revision for revision."""

from __future__ import annotations

import mwreverts
import mwxml
import pyarrow.parquet as pq
import pytest

from conftest import shared_dump
from dumpproc.records import sha1_base36
from dumpproc.pipeline import Options, run
from test_reference_mwxml import _STDLIB_OPEN

REAL = [
    ("Schuwi__wikiwho_rs/Hallo.xml", "none"),
    ("dkpro__dkpro-jwpl/aawiki-20260101-pages-meta-history.xml.7z", "7z"),
    ("wikimedia__pywikibot/article-pear.xml", "none"),
    ("wikimedia__analytics-refinery-source/MediawikiDumperOutputTest.Commonswiki.Sample.xml", "none"),
    ("wikimedia__operations-dumps/stub-history-sample.xml.gz", "gzip"),
    pytest.param("maribelacosta__wikiwho/enwiki-Anarchism-pages-meta-history.xml.7z", "7z", marks=pytest.mark.slow),
]


def expected(path, compression, radius=15):
    """revision id -> (is revert, is reverted, first reverting id, seconds to revert) by mwreverts."""
    out = {}
    with _STDLIB_OPEN[compression](path, "rb") as fh:
        for page in mwxml.Dump.from_file(fh):
            detector = mwreverts.Detector(radius=radius)
            history = []
            for rev in page:
                sha1 = (rev.slots.sha1 if rev.slots and rev.slots.sha1 else rev.sha1) or None
                if sha1 is None and not rev.deleted.text:  # schemas before 0.7: the text's own sha1
                    sha1 = sha1_base36(rev.text or "")  # mwxml reads an empty text as None
                seconds = rev.timestamp.unix()
                found = detector.process(sha1 if sha1 else ("no sha1", rev.id), (rev.id, seconds))
                out[rev.id] = [found is not None, False, None, None]
                history.append(rev.id)
                for reverted_id, reverted_seconds in (found.reverteds if found else []):
                    entry = out[reverted_id]
                    if not entry[1]:
                        entry[1:] = [True, rev.id, seconds - reverted_seconds]
    return {k: tuple(v) for k, v in out.items()}


def actual(path, tmp_path, radius=15):
    out = tmp_path / "out"
    assert run([str(path)], Options(out=str(out), workers=1, revert_radius=radius, tables=("revisions",))).ok
    rows = pq.read_table(out / "revisions").to_pylist()
    return {r["revision_id"]: (r["revision_is_identity_revert"], r["revision_is_identity_reverted"],
                               r["revision_first_identity_reverting_revision_id"],
                               r["revision_seconds_to_identity_revert"]) for r in rows}


def assert_agree(ours, theirs):
    assert ours.keys() == theirs.keys()
    wrong = [(k, ours[k], theirs[k]) for k in theirs if ours[k] != theirs[k]]
    assert not wrong, f"{len(wrong)} revisions differ, e.g. (id, dumpproc, mwreverts) {wrong[:3]}"


@pytest.mark.parametrize("relative, compression", REAL)
def test_real_history(relative, compression, tmp_path):
    path = shared_dump(relative)
    theirs = expected(path, compression)
    assert_agree(actual(path, tmp_path), theirs)


def test_real_history_has_reverts():
    path = shared_dump("Schuwi__wikiwho_rs/Hallo.xml")
    assert sum(v[0] for v in expected(path, "none").values()) > 5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_dumps_rich_in_reverts(seed, generate, tmp_path):
    path = generate(f"revertwiki-20260101-{seed}.xml", pages=15, revisions=(20, 80), revert_rate=0.35,
                    deleted_rate=0.08, text_size=300, seed=seed)
    theirs = expected(path, "none")
    assert sum(v[0] for v in theirs.values()) > 50
    assert_agree(actual(path, tmp_path), theirs)
