"""The test helpers that read SESSIONSTORE_TEST_URLS: a wrong split would silently test a
mangled url (or none) instead of the sentinel and cluster backends."""

from __future__ import annotations

from conftest import split_urls, url_id


def test_split_joins_pieces_without_a_scheme() -> None:
    got = split_urls("memory://,redis://h:1,redis+sentinel://a:1,b:2/m,redis+cluster://c:1,d:2")
    assert got == ["memory://", "redis://h:1", "redis+sentinel://a:1,b:2/m", "redis+cluster://c:1,d:2"]
    assert split_urls(" memory://  redis://h:1 ") == ["memory://", "redis://h:1"]
    assert split_urls("") == []


def test_ids_never_show_a_password() -> None:
    assert url_id("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"
    assert url_id("redis://app:s3cret@127.0.0.1:1/0?prefix=x") == "redis://app:***@127.0.0.1:1/0?prefix=x"
    assert url_id("redis://:pw@h:1") == "redis://:***@h:1"
    assert url_id("redis+cluster://u:p@w@a:1,b:2") == "redis+cluster://u:***@a:1,b:2"
    assert url_id("memory://") == "memory://"
