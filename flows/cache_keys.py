"""Cache keys no one else can compute: a user-level secret keys every cached stage result.

Prefect persists cached task results as pickles under ``PREFECT_HOME`` (``./.state``), and loading
one runs whatever it holds. A key computed from public information alone (the data, the config,
the code) lets a folder or archive shipped with a crafted ``.state/`` plant a result that the next
matching run would load. Keys here are HMACs under a secret kept outside the project folder
(``$XDG_CACHE_HOME/deltaflow/cache-key``, or ``~/.cache/...``), created on first use with mode
0600, so a planted file never matches. Where no secret can be kept, a per-process one is used:
caching then only spans one process, which is still correct.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

__all__ = ["cache_key", "secret_path"]


def secret_path() -> Path:
    """Where the user's cache secret lives (outside any project folder)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "deltaflow" / "cache-key"


@cache
def _secret() -> bytes:
    path = secret_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        value = path.read_bytes()
        if len(value) >= 32:
            return value
    except OSError:
        pass
    return secrets.token_bytes(32)


def cache_key(prefix: str, payload: bytes) -> str:
    """``prefix-<HMAC-SHA256 of payload under the user's secret>``."""
    return f"{prefix}-{hmac.new(_secret(), payload, hashlib.sha256).hexdigest()}"
