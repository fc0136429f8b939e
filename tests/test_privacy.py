"""--ips keep|hash|drop."""

from __future__ import annotations

import pytest

from dumpproc.privacy import IpPolicy


def test_keep_and_drop():
    assert IpPolicy("keep").apply("192.0.2.1") == "192.0.2.1"
    assert IpPolicy("drop").apply("192.0.2.1") is None


def test_hash_is_keyed_and_stable():
    one = IpPolicy("hash", b"k1")
    assert one.apply("192.0.2.1") == IpPolicy("hash", b"k1").apply("192.0.2.1")
    assert one.apply("192.0.2.1") != one.apply("192.0.2.2")
    assert one.apply("192.0.2.1") != IpPolicy("hash", b"k2").apply("192.0.2.1")
    assert "192.0.2.1" not in one.apply("192.0.2.1") and len(one.apply("192.0.2.1")) == 64


def test_hash_needs_a_key(monkeypatch):
    monkeypatch.delenv("DUMPPROC_IP_KEY", raising=False)
    with pytest.raises(ValueError, match="needs a key"):
        IpPolicy.from_options("hash")


def test_key_from_file_or_environment(tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text("secret\n")
    monkeypatch.setenv("DUMPPROC_IP_KEY", "secret")
    assert IpPolicy.from_options("hash", str(key_file)).apply("x") == IpPolicy.from_options("hash").apply("x")
    assert "secret" not in repr(IpPolicy.from_options("hash"))


def test_unknown_mode():
    with pytest.raises(ValueError):
        IpPolicy("scramble")
