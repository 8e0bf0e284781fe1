"""Artifact folders uploaded side by side arrive whole, at their relative paths; a failure is raised, not lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

from flows.uploads import UPLOAD_THREADS, upload_folder


def _folder(root: Path, n_files: int) -> dict[str, bytes]:
    files = {f"plots/p{i}.png" if i % 2 else f"f{i}.txt": bytes([i]) * (i + 1) for i in range(n_files)}
    files["a/b/deep.json"] = b"{}"
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return files


def test_every_file_arrives_at_its_relative_path(tmp_path: Path) -> None:
    files = _folder(tmp_path / "src", 3 * UPLOAD_THREADS)
    upload_folder(LocalArtifactRepository(str(tmp_path / "store")), tmp_path / "src")
    stored = {p.relative_to(tmp_path / "store").as_posix(): p.read_bytes()
              for p in (tmp_path / "store").rglob("*") if p.is_file()}  # fmt: skip
    assert stored == files


def test_a_store_that_cannot_be_written_raises_after_the_other_uploads(tmp_path: Path) -> None:
    _folder(tmp_path / "src", 6)
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "plots").write_text("a file where the folder should be")
    with pytest.raises(OSError):
        upload_folder(LocalArtifactRepository(str(tmp_path / "store")), tmp_path / "src")
    assert (tmp_path / "store" / "a" / "b" / "deep.json").read_bytes() == b"{}"  # the others were stored
