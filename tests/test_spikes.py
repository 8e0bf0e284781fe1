"""Spikes: single gross samples are found, named, replaced (or refused); sharp but real features are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.data import TimeSeries, load_timeseries
from pipeline.discovery import discover
from pipeline.errors import DataError
from pipeline.spikes import apply_spike_policy, column_spikes, find_spikes

LYNX_HARE = Path(__file__).resolve().parents[1] / "data" / "hudson-bay-lynx-hare.csv"


def _decay(n: int = 300, noise: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, 10, n)
    return t, 3 * np.exp(-0.7 * t) * (1 + noise * np.random.default_rng(0).standard_normal(n))


def test_a_typo_spike_is_replaced_and_the_decay_rate_comes_back() -> None:
    t, u = _decay()
    u[151] = 30.0  # the decay is near 0.09 there
    series = TimeSeries(t=t, x=u[:, None], names=("u",), source="decay.csv")
    (spike,) = find_spikes(series)
    assert (spike.row, spike.state, spike.value) == (151, "u", 30.0) and 0.07 < spike.low < spike.high < 0.11
    kept = discover(t, u[:, None], feature_names=["u"]).terms()["u"]["u"]
    cleaned = apply_spike_policy(series, "replace")
    assert cleaned.n_samples == 300 and cleaned.x[151, 0] == pytest.approx((u[150] + u[152]) / 2)
    assert np.array_equal(np.delete(cleaned.x, 151), np.delete(u, 151))  # nothing else touched
    replaced = discover(cleaned.t, cleaned.x, feature_names=["u"]).terms()["u"]["u"]
    assert replaced == pytest.approx(-0.7, rel=0.02) and abs(kept + 0.7) > 5 * abs(replaced + 0.7)
    (note,) = cleaned.notes
    assert note.startswith("decay.csv: 1 spike") and "data row 152 of 'u' is 30" in note
    assert "it is replaced by the straight line between its neighbours" in note and "data.outliers: keep" in note


def test_raise_names_the_file_row_and_column_and_keep_changes_nothing() -> None:
    t, u = _decay()
    x = np.column_stack([u, u[::-1]])
    x[40, 1] *= -8.0
    series = TimeSeries(t=t, x=x, names=("a", "b"), source="two.csv")
    with pytest.raises(DataError, match=r"two\.csv: 1 spike .*data row 41 of 'b' .*set data\.outliers: replace"):
        apply_spike_policy(series, "raise")
    assert apply_spike_policy(series, "keep") is series


def test_two_adjacent_spikes_are_both_found_and_rows_are_those_of_the_whole_series() -> None:
    t, u = _decay()
    x = np.concatenate([u, 2 * u])[:, None]
    x[[100, 101], 0] = [25.0, -20.0]  # a two-sample glitch in trajectory "a"
    x[300 + 77, 0] = 40.0  # and one in trajectory "b"
    labels = np.repeat(["a", "b"], 300)
    series = TimeSeries(t=np.concatenate([t, t]), x=x, names=("u",), trajectory=labels, source="panel.csv")
    assert [s.row for s in find_spikes(series)] == [100, 101, 377]
    cleaned = apply_spike_policy(series, "replace")
    line = u[99] + (u[102] - u[99]) * (t[100:102] - t[99]) / (t[102] - t[99])  # between the pair's outer neighbours
    assert cleaned.x[100:102, 0] == pytest.approx(line) and cleaned.x[377, 0] == pytest.approx(u[76] + u[78])
    assert "3 spikes" in cleaned.notes[0] and "each is replaced" in cleaned.notes[0]


@pytest.mark.parametrize(
    "signal",
    [
        pytest.param(lambda t: np.exp(-(((t - 5) / 0.08) ** 2)), id="a pulse a few samples wide"),
        pytest.param(lambda t: np.abs(np.sin(3 * t)), id="kinks at each zero"),
        pytest.param(lambda t: np.where(t < 5, 0.0, 1.0), id="a step"),
        pytest.param(lambda t: np.exp(-t / 0.02), id="a stiff start"),
        pytest.param(lambda t: np.round(5 + 0.6 * np.sin(t)), id="quantised readings"),
    ],
)
def test_sharp_but_real_features_are_not_spikes(signal) -> None:
    t = np.linspace(0, 10, 512)
    for noise in (0.0, 0.01, 0.05):
        x = signal(t) * (1 + noise * np.random.default_rng(1).standard_normal(512))
        assert column_spikes(x)[0].size == 0, noise


def test_the_real_lynx_hare_record_and_a_short_series_have_no_spikes() -> None:
    series = load_timeseries(LYNX_HARE, time_column="year")
    assert find_spikes(series) == ()
    assert column_spikes(np.array([0.0, 1.0, 50.0, 1.0, 0.0]))[0].size == 0  # too short to judge


def test_a_spike_in_a_file_is_replaced_unless_a_run_config_keeps_it(tmp_path: Path) -> None:
    from flows.inputs import read_timeseries
    from pipeline.config import RunConfig

    t, u = _decay()
    u[200] = -5.0
    pd.DataFrame({"t": t, "u": u}).to_csv(tmp_path / "d.csv", index=False)
    config = RunConfig.model_validate({"name": "d", "data": {"path": str(tmp_path / "d.csv")}})
    assert config.data.outliers == "replace"
    replaced = read_timeseries(config)
    assert replaced.x[200, 0] == pytest.approx((u[199] + u[201]) / 2, rel=1e-6) and replaced.notes
    keep = config.model_copy(update={"data": config.data.model_copy(update={"outliers": "keep"})})
    assert read_timeseries(keep).x[200, 0] == -5.0 and not read_timeseries(keep).notes
