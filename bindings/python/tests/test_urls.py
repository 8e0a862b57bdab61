"""The test ids of backend urls: a password must never reach a report."""

from __future__ import annotations

from conftest import url_id


def test_ids_never_show_a_password() -> None:
    assert url_id("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"
    assert url_id("redis://app:s3cret@127.0.0.1:1/0?prefix=x") == "redis://app:***@127.0.0.1:1/0?prefix=x"
    assert url_id("redis://:pw@h:1") == "redis://:***@h:1"
    assert url_id("redis+cluster://u:p@w@a:1,b:2") == "redis+cluster://u:***@a:1,b:2"
    assert url_id("memory://") == "memory://"
