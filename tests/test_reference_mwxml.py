"""The revisions and content tables hold exactly what mwxml, the reference reader, reads.

Every real export in ../shared/dumps that mwxml reads (skipping cleanly when the
folder is absent), and generated dumps of every schema, go through the whole
``process`` pipeline; the Parquet read back must agree with mwxml revision for
revision: ids, page, timestamps, users, flags, sizes, sha1 values and texts.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import ipaddress
import lzma
import shutil
import subprocess

import mwxml
import pyarrow.parquet as pq
import pytest

from conftest import SHARED_DUMPS, shared_dump, shared_manifest
from dumpproc.pipeline import Options, run
from dumpproc.records import sha1_base36
from dumpproc.sources import CODECS

# MANIFEST.tsv's compression names -> dumpproc's codec names
_CODEC_OF = {"none": "xml", "bz2": "bz2", "gzip": "gzip", "xz": "xz", "zstd": "zstd", "7z": "7z", "lzma": "lzma"}
_NOT_EXPORTS = ("XML ERROR", "TRUNCATED", "fragment", "negative-test", "not XML", "invalid")
# Real exports mwxml cannot read, each checked on its own elsewhere.
_MWXML_CANNOT = {
    "RaRe-Technologies__gensim/enwiki-table-markup.xml.bz2": "no <siteinfo>; see test_parse",
}
# Real exports dumpproc refuses on purpose, each checked below.
_DUMPPROC_REFUSES = {
    # a research fixture whose revisions were renumbered from 0; MediaWiki's ids begin at 1
    "maribelacosta__wikiwho/Finger_Lakes3_dummy.xml": "<revision/id> is out of range",
}

# Files the MANIFEST marks as bad input that are exports all the same, read whole since issue 15:
# a page without <ns> in a 0.10 dump, a namespace name that is not a URI (a libxml2 warning).
_READ_DESPITE_NOTES = {
    "CyberZHG__wiki-dump-reader/zhwiki-broken-2.xml",
    "portstrom__parse_mediawiki_dump/test.xml",
}


@contextlib.contextmanager
def _open_7z(path, mode="rb"):
    """7z for the reference side, through 7-Zip itself where installed, else libarchive directly."""
    program = shutil.which("7zz") or shutil.which("7z")
    if program:
        process = subprocess.Popen([program, "e", "-so", str(path), "*.xml"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
        try:
            yield process.stdout
        finally:
            process.stdout.close()
            process.wait()
    else:
        import io

        import libarchive

        with libarchive.file_reader(str(path)) as archive:
            entry = next(e for e in archive if e.pathname.endswith(".xml"))
            yield io.BytesIO(b"".join(entry.get_blocks()))


_STDLIB_OPEN = {"none": open, "bz2": bz2.open, "gzip": gzip.open, "xz": lzma.open, "lzma": lzma.open, "7z": _open_7z}
SLOW = {"maribelacosta__wikiwho/enwiki-Anarchism-pages-meta-history.xml.7z"}


def _digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha1(text.encode("utf-8")).hexdigest()


def _is_export(row: dict) -> bool:
    if row["path"] in _READ_DESPITE_NOTES:
        return True
    return row["schema_version"] not in ("", "xsd") and not any(mark in row["notes"] for mark in _NOT_EXPORTS)


def _real_exports() -> tuple[list[str], list[str]]:
    """(exports dumpproc reads today, exports waiting for a codec that is not registered yet)."""
    registered = {codec.name for codec in CODECS}
    readable, waiting = [], []
    for row in shared_manifest():
        if not _is_export(row) or row["path"] in _MWXML_CANNOT or row["path"] in _DUMPPROC_REFUSES:
            continue
        (readable if _CODEC_OF.get(row["compression"]) in registered else waiting).append(row["path"])
    return readable, waiting


READABLE, WAITING = _real_exports()


def _is_ip(name: str) -> bool:
    """Whether a name is an IP address, as the standard library reads one."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def reference_rows(path, compression: str) -> list[tuple]:
    """The fields mwxml reads, in the revisions table's terms, in dump order."""
    opener = _STDLIB_OPEN[compression]
    rows = []
    with opener(path, "rb") as fh:
        for page in mwxml.Dump.from_file(fh):
            for rev in page:
                text = rev.text
                main = rev.slots.contents["main"] if rev.slots else None
                declared = int(main.bytes) if main is not None and main.bytes is not None else None
                if declared is not None and declared < 0:
                    declared = None  # bytes="-1" (the Data Lake's dumper, deleted texts): unknown
                is_stub = text is None and not rev.deleted.text and (declared or 0) > 0
                if rev.deleted.text or is_stub:
                    text = None
                    size = declared
                else:
                    text = text or ""
                    size = len(text.encode("utf-8"))
                # mwxml: slots.sha1 is the revision's <sha1> (all slots), the main content's its <text sha1>
                whole = (rev.slots.sha1 if rev.slots and rev.slots.sha1 else rev.sha1) or None
                one_slot = not rev.slots or len(rev.slots.contents) <= 1
                sha1 = (main.sha1 if main is not None else None) or (whole if one_slot else None)
                if not sha1:
                    sha1 = sha1_base36(text) if text is not None else None
                if whole is None and one_slot:
                    whole = sha1
                user = rev.user
                # SPEC: a contributor whose name is an IP address is anonymous, whatever its id (the Data
                # Lake's dumper writes IP editors as <username> with <id>-1); the stdlib is the judge here
                anonymous = user is not None and user.text is not None and (user.id is None or _is_ip(user.text))
                user_text = None if user is None else user.text
                if user_text == "None" and user.id is not None and user.id < 0:
                    user_text = None  # mwtypes writes str(None) for an empty <username> (a test wiki's id -1)
                rows.append((
                    rev.id,
                    page.id,
                    page.namespace,
                    page.title,
                    None if rev.parent_id in (0, -1) else rev.parent_id,  # dumpproc: 0 and -1 are no parent
                    rev.timestamp.unix(),
                    # dumpproc reads a contributor id of 0 (an imported user) or -1 (the Data Lake's dumper,
                    # for IP editors) as no user id
                    None if (user is None or anonymous or user.id in (0, -1)) else user.id,
                    user_text,
                    anonymous,
                    not rev.deleted.user,
                    bool(rev.minor),
                    None if rev.deleted.comment else (rev.comment or ""),
                    not rev.deleted.comment,
                    not rev.deleted.text,
                    size,
                    sha1,
                    whole,
                    _digest(text),
                ))
    return rows


def dumpproc_rows(path, tmp_path) -> list[tuple]:
    """The same fields, from the Parquet that ``process`` writes, in dump order."""
    out = tmp_path / "out"
    result = run([str(path)], Options(out=str(out), workers=1, tables=("revisions", "content")))
    # every unit commits; some real exports repeat a revision id, which the run reports (duplicate_revisions)
    assert not result.failed, result.failed
    revisions = pq.read_table(out / "revisions").to_pylist()
    texts = []
    for batch in pq.ParquetFile(next((out / "content").rglob("*.parquet"))).iter_batches(batch_size=256):
        texts.extend(_digest(text) for text in batch.column("revision_text").to_pylist())
    assert len(texts) == len(revisions)
    rows = []
    for r, text in zip(revisions, texts):
        rows.append((
            r["revision_id"],
            r["page_id"],
            r["page_namespace"],
            r["page_title"],
            r["revision_parent_id"],
            int(r["revision_dt"].timestamp()),
            r["user_id"],
            r["user_text"],
            r["user_is_anonymous"],
            r["user_is_visible"],
            r["revision_minor_edit"],
            r["revision_comment"],
            r["comment_is_visible"],
            r["content_is_visible"],
            r["revision_text_bytes"],
            r["revision_text_sha1"],
            r["revision_sha1"],
            text,  # already a digest: texts are compared by their SHA-1
        ))
    return rows


def _normalise_title(ours: tuple, theirs: tuple) -> tuple:
    """mwxml replaces '_' by ' ' and, for schemas without <ns>, strips the namespace prefix."""
    title, their_title = ours[3], theirs[3]
    if title != their_title and title.replace("_", " ").endswith(their_title):
        return ours[:3] + (their_title,) + ours[4:]
    return ours


def assert_same(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs), f"dumpproc has {len(ours)} revisions, mwxml {len(theirs)}"
    fields = ("revision_id", "page_id", "namespace", "title", "parent_id", "timestamp", "user_id", "user_text", "anonymous",
              "user_visible", "minor", "comment", "comment_visible", "content_visible", "bytes", "sha1", "revision_sha1", "text")
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        mine = _normalise_title(mine, reference)
        if mine != reference:
            diffs = {f: (str(a)[:80], str(b)[:80]) for f, a, b in zip(fields, mine, reference) if a != b}
            pytest.fail(f"revision #{position} (id {reference[0]}): (dumpproc, mwxml) differ in {diffs}")


@pytest.mark.parametrize("relative", [
    pytest.param(r, marks=pytest.mark.slow) if r in SLOW else r for r in READABLE or ["(no real dumps)"]])
def test_real_dump_matches_mwxml(relative, tmp_path):
    path = shared_dump(relative)
    row = next(r for r in shared_manifest() if r["path"] == relative)
    theirs = reference_rows(path, row["compression"])
    assert len(theirs) == int(row["revisions"]), "mwxml disagrees with the MANIFEST's count"
    assert_same(dumpproc_rows(path, tmp_path), theirs)


@pytest.mark.parametrize("relative", sorted(_DUMPPROC_REFUSES))
def test_real_export_with_values_no_dump_has_is_refused(relative, tmp_path):
    path = shared_dump(relative)
    result = run([str(path)], Options(out=str(tmp_path / "out"), workers=1))
    failed, = result.failed
    assert failed["error_type"] == "MalformedXML" and _DUMPPROC_REFUSES[relative] in failed["error"]


def test_every_real_export_is_compared():
    """Every export's codec is registered: none waits."""
    if not SHARED_DUMPS.is_dir():
        pytest.skip(f"the real dumps folder {SHARED_DUMPS} is absent")
    assert len(READABLE) + len(_DUMPPROC_REFUSES) >= 90 and WAITING == []


@pytest.mark.parametrize("schema", ["0.3", "0.4", "0.5", "0.6", "0.8", "0.9", "0.10", "0.11"])
def test_generated_dump_matches_mwxml(schema, generate, tmp_path):
    path = generate(f"genwiki-20260101-{schema}.xml", pages=12, revisions=(1, 15), text_size=800,
                    schema=schema, seed=int(schema.replace(".", "")), deleted_rate=0.12, ip_rate=0.3)
    assert_same(dumpproc_rows(path, tmp_path), reference_rows(path, "none"))


def test_bundled_fixtures_match_mwxml(tmp_path):
    from conftest import FIXTURES

    for path in sorted(FIXTURES.glob("*.xml*")):
        compression = "bz2" if path.suffix == ".bz2" else "none"
        assert_same(dumpproc_rows(path, tmp_path / path.name), reference_rows(path, compression))
