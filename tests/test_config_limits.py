"""Hostile configs end in one ConfigError that names the file and the limit, quickly and in little memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import MAX_CONFIG_BYTES, load_config
from pipeline.errors import ConfigError


def test_an_alias_bomb_is_refused_before_validation(tmp_path: Path) -> None:
    lines = ["name: bomb", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{k}: &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 8)]
    lines.append("description: *l7")  # 9^8 = 43 million strings once expanded
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"bomb\.yaml: more than \d+ values once YAML aliases are expanded"):
        load_config(path)


def test_a_config_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\ndescription: '" + "x" * (MAX_CONFIG_BYTES + 10) + "'\n")
    with pytest.raises(ConfigError, match=r"huge\.yaml: config file is \d+ KB; at most 256 KB"):
        load_config(path)


def test_long_wrong_values_are_abbreviated_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("name: long\ndiscovery:\n  n_folds: '" + "9" * 5000 + "z'\n")
    with pytest.raises(ConfigError, match=r"discovery\.n_folds") as caught:
        load_config(path)
    message = str(caught.value).replace(str(path), "<file>")  # the temporary folder's length is not the message's
    assert len(message) < 300 and "..." in message


def test_a_symlink_loop_in_the_data_path_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    path = tmp_path / "loop.yaml"
    path.write_text("name: loop\ndata:\n  path: a.csv\n")
    with pytest.raises(ConfigError, match=r"loop\.yaml: field 'data\.path': cannot resolve .*a\.csv"):
        load_config(path)


def test_deeply_nested_or_huge_expressions_are_config_errors() -> None:
    import numpy as np

    from pipeline.expressions import evaluate_expression

    values = {"u": np.ones(3)}
    with pytest.raises(ConfigError, match=r"characters long; at most 2000"):
        evaluate_expression("-" * 100_000 + "u", values)  # Python's parser ran out of memory (MemoryError)
    with pytest.raises(ConfigError, match=r"not valid arithmetic|nested"):
        evaluate_expression("(" * 600 + "u" + ")" * 600, values)
    assert np.allclose(evaluate_expression("-" * 200 + "u", values), 1.0)
