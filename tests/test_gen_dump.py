"""The synthetic dump generator is deterministic and does what its options say."""

from __future__ import annotations

import gen_dump
import make_fixtures

from conftest import FIXTURES
from dumpproc.parse import Dump
from dumpproc.sources import open_dump


def test_bundled_fixtures_are_what_the_generator_makes(tmp_path):
    make_fixtures.main(["make_fixtures", str(tmp_path)])
    for name in make_fixtures.FIXTURES:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    options = dict(pages=5, revisions=(2, 6), text_size=300)
    gen_dump.generate(str(tmp_path / "a"), gen_dump.Options(seed=1, **options))
    gen_dump.generate(str(tmp_path / "b"), gen_dump.Options(seed=1, **options))
    gen_dump.generate(str(tmp_path / "c"), gen_dump.Options(seed=2, **options))
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() != (tmp_path / "c").read_bytes()


def _read(path):
    with open_dump(str(path)) as stream:
        dump = Dump(stream)
        return [rev for page in dump.pages() for rev in page]


def test_options_shape_the_dump(tmp_path):
    path = tmp_path / "d.xml"
    stats = gen_dump.generate(str(path), gen_dump.Options(pages=30, revisions=(5, 5), deleted_rate=0.3, ip_rate=0.5,
                                                          revert_rate=0.3, seed=9))
    revisions = _read(path)
    assert stats.pages == 30 and stats.revisions == len(revisions) == 150
    assert any(r.text_deleted for r in revisions) and any(r.user_deleted for r in revisions)
    assert any(r.comment_deleted for r in revisions)
    assert 0.3 < sum(r.user_is_anonymous for r in revisions) / 150 < 0.7
    assert stats.reverts > 0 and stats.xml_bytes == path.stat().st_size


def test_huge_revisions_and_target_size(tmp_path):
    path = tmp_path / "h.xml"
    stats = gen_dump.generate(str(path), gen_dump.Options(pages=2, revisions=(2, 2), huge=1, huge_size=2_000_000,
                                                          target_bytes=3_000_000, seed=3, deleted_rate=0))
    revisions = _read(path)
    huge = [r for r in revisions if r.id in stats.huge]
    assert len(huge) == 1 and huge[0].text_bytes >= 2_000_000
    assert stats.xml_bytes >= 3_000_000


def test_ip_mentions_put_ips_where_real_dumps_have_them(tmp_path):
    plain, mentioned = tmp_path / "plain.xml", tmp_path / "ips.xml"
    gen_dump.generate(str(plain), gen_dump.Options(pages=20, revisions=(3, 8), seed=5))
    stats = gen_dump.generate(str(mentioned), gen_dump.Options(pages=20, revisions=(3, 8), seed=5, ip_mentions=0.4))
    xml = mentioned.read_text()
    assert "<title>User talk:" in xml and "Reverted edits by [[Special:Contributions/" in xml and "Blocked " in xml
    assert "</username>\n        <id>-1</id>" in xml and "::ffff:" in xml and "%" in xml
    assert all(ip in xml for ip in stats.ips if ip in xml) and len(stats.ips) > 20
    # the same pages and revisions as without them
    assert [(r.page_id, r.id) for r in _read(plain)] == [(r.page_id, r.id) for r in _read(mentioned)]
