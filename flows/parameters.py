"""Flow parameters that stay small: a large config travels as a reference to a file, not inline.

Prefect sends a flow run's parameters to its API as JSON and refuses more than 512 KB (HTTP 422). A
config can be larger than that once loaded: a 20k-point ``gradient.at`` list built in Python, a long
description, YAML aliases expanded. :func:`compact_parameters` (called by every deltaflow flow before
Prefect sees its arguments) writes such a config, as JSON, to
``$PREFECT_HOME/parameters/<sha256>.json`` and passes a :class:`ConfigFile` (path, hash, kind, name)
instead; :func:`flows.kinds.resolve_config` reads it back and checks the hash, so a file changed on disk
since is refused rather than run. Small configs are passed as they are (the Prefect UI shows them).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipeline.config import CONFIG_KINDS
from pipeline.errors import ConfigError

__all__ = ["INLINE_LIMIT_BYTES", "ConfigFile", "compact_parameters"]

INLINE_LIMIT_BYTES = 64 * 1024
"""Configs whose JSON is larger are passed by reference (Prefect's own limit is 512 KB for all parameters)."""


class ConfigFile(BaseModel):
    """A config written to a file by :func:`compact_parameters`: what a flow run's parameters show.

    Attributes:
        path: the JSON file (absolute).
        sha256: hex digest of its bytes.
        kind: the config's ``kind``.
        name: the config's ``name``, for the Prefect UI.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    sha256: str
    kind: str
    name: str

    def load(self) -> Any:
        """The config, validated again.

        Raises:
            ConfigError: the file is gone, changed since it was written, or no longer a valid config.
        """
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{self.path}: the config passed to this flow run cannot be read ({exc})") from exc
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise ConfigError(f"{self.path}: the config passed to this flow run changed on disk since it was written")
        if self.kind not in CONFIG_KINDS:
            raise ConfigError(f"{self.path}: unknown kind {self.kind!r}")
        return CONFIG_KINDS[self.kind].model_validate_json(data)


def _spill(config: BaseModel, data: bytes, home: Path) -> ConfigFile:
    """Write ``data`` (``config`` as JSON) under ``home/parameters`` (content-addressed, written once) and refer
    to it."""
    digest = hashlib.sha256(data).hexdigest()
    folder = home / "parameters"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.json"
    if not path.is_file():
        partial = folder / f".{digest}.{os.getpid()}.tmp"
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a concurrent run writing the same config writes the same bytes
    return ConfigFile(path=path.resolve(), sha256=digest, kind=str(config.kind), name=str(config.name))


def compact_parameters(args: tuple[Any, ...], kwargs: dict[str, Any], home: Path) -> tuple[tuple, dict[str, Any]]:
    """``args`` and ``kwargs`` with every config model larger than :data:`INLINE_LIMIT_BYTES` as JSON replaced by
    a :class:`ConfigFile` under ``home`` (Prefect's home folder)."""

    def compact(value: Any) -> Any:
        if not isinstance(value, tuple(CONFIG_KINDS.values())):
            return value
        data = value.model_dump_json().encode()
        return value if len(data) <= INLINE_LIMIT_BYTES else _spill(value, data, home)

    return tuple(compact(a) for a in args), {k: compact(v) for k, v in kwargs.items()}
