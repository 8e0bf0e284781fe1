"""Cached stage results are keyed by a user-level secret, so a planted .state/ cache file never matches."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from flows import cache_keys


@pytest.fixture
def fresh_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cache_keys._secret.cache_clear()
    yield tmp_path / "cache" / "deltaflow" / "cache-key"
    cache_keys._secret.cache_clear()


def test_keys_need_the_users_secret_which_only_the_user_can_read(fresh_secret: Path) -> None:
    payload = b"data hash + config hash + code version"
    key = cache_keys.cache_key("discover", payload)
    assert fresh_secret.is_file() and stat.S_IMODE(fresh_secret.stat().st_mode) == 0o600
    assert key == cache_keys.cache_key("discover", payload)  # stable for this user: reruns hit the cache
    assert key != "discover-" + hashlib.sha256(payload).hexdigest()  # not computable from public inputs
    fresh_secret.write_bytes(b"x" * 32)  # another user's (or another machine's) secret
    cache_keys._secret.cache_clear()
    assert cache_keys.cache_key("discover", payload) != key


def test_without_a_writable_cache_folder_a_process_secret_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    cache_keys._secret.cache_clear()
    try:
        first = cache_keys.cache_key("differentiate", b"payload")
        assert first == cache_keys.cache_key("differentiate", b"payload")
    finally:
        cache_keys._secret.cache_clear()
