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
    assert (spike.row, spike.column, spike.value) == (151, "u", 30.0) and 0.07 < spike.low < spike.high < 0.11
    kept = discover(t, u[:, None], feature_names=["u"]).terms()["u"]["u"]
    cleaned = apply_spike_policy(series, "replace")
    cubic = (-u[149] + 4 * u[150] + 4 * u[152] - u[153]) / 6  # through 2 neighbours each side, on even times
    assert cleaned.n_samples == 300 and cleaned.x[151, 0] == pytest.approx(cubic)
    assert np.array_equal(np.delete(cleaned.x, 151), np.delete(u, 151))  # nothing else touched
    replaced = discover(cleaned.t, cleaned.x, feature_names=["u"]).terms()["u"]["u"]
    assert replaced == pytest.approx(-0.7, rel=0.02) and abs(kept + 0.7) > 5 * abs(replaced + 0.7)
    (note,) = cleaned.notes
    assert note.startswith("decay.csv: 1 spike") and "data row 152 of 'u' is 30" in note
    assert f"replaced by {cubic:.4g}; each replacement is a cubic" in note and "data.outliers: keep" in note


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
    through = np.polyfit(t[[98, 99, 102, 103]], u[[98, 99, 102, 103]], 3)  # the pair's 2 outer neighbours each side
    assert cleaned.x[100:102, 0] == pytest.approx(np.polyval(through, t[100:102]), rel=1e-6)
    assert cleaned.x[377, 0] == pytest.approx((-u[75] + 4 * u[76] + 4 * u[78] - u[79]) / 3)  # trajectory "b" is 2 u
    assert cleaned.notes[0].count("replaced by") == 3 and cleaned.notes[0].startswith("panel.csv: 3 spikes")


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
        found = column_spikes(x, t)[0]
        assert not found[(found >= 3) & (found < 509)].size, noise  # a stiff start may be an end jump: said, kept


def test_a_spike_next_to_the_ends_is_replaced_and_a_jump_at_an_end_is_said_but_kept() -> None:
    t, u = _decay()
    u[3], u[-4] = 10 * u[3], 10.0  # the 4th samples from each end: judged like any other
    u[1] = 10 * u[1]  # among the first 3: an end jump
    series = TimeSeries(t=t, x=u[:, None], names=("u",), source="ends.csv")
    assert [(s.row, s.at_end) for s in find_spikes(series)] == [(1, True), (3, False), (296, False)]
    cleaned = apply_spike_policy(series, "replace")
    assert cleaned.x[1, 0] == u[1] and cleaned.x[3, 0] < 3.0 and cleaned.x[296, 0] < 0.01
    spikes, jumps = cleaned.notes
    assert spikes.startswith("ends.csv: 2 spikes") and "data row 2 of 'u'" not in spikes
    assert "data row 2 of 'u' is" in jumps and "a fast transient or a typo; left as it is" in jumps
    with pytest.raises(DataError) as raised:
        apply_spike_policy(series, "raise")
    assert "data row 4 of 'u'" in str(raised.value) and "data row 2 of 'u'" not in str(raised.value)
    only_jump = TimeSeries(t=t, x=np.where(np.arange(300) == 1, u, _decay()[1])[:, None], names=("u",), source="j")
    assert apply_spike_policy(only_jump, "raise").notes[0].startswith("j: data row 2 of 'u'")  # said, not refused


def test_a_spike_in_a_known_input_is_replaced_too_and_an_error_names_every_spike() -> None:
    t, u = _decay()
    force = np.cos(t) * (1 + 0.01 * np.random.default_rng(2).standard_normal(300))
    force[5] = 8.0
    x = np.column_stack([u, u[::-1]])
    x[10:290:20, 1] *= 20.0  # 14 spikes in b
    series = TimeSeries(t=t, x=x, names=("a", "b"), u=force[:, None], control_names=("force",), source="in.csv")
    cleaned = apply_spike_policy(series, "replace")
    assert abs(cleaned.u[5, 0] - np.cos(t[5])) < 0.05 and "data row 6 of 'force' is 8 where" in cleaned.notes[0]
    assert "15 spikes" in cleaned.notes[0] and "and 10 more" in cleaned.notes[0]
    with pytest.raises(DataError) as raised:
        apply_spike_policy(series, "raise")
    assert str(raised.value).count("data row") == 15


def test_a_sample_alone_between_two_gaps_in_time_is_not_judged() -> None:
    t = np.concatenate([np.linspace(0, 5, 100), [8.0], np.linspace(11, 16, 100)])
    x = np.sin(t) * (1 + 0.01 * np.random.default_rng(3).standard_normal(201))
    assert column_spikes(x, t)[0].size == 0
    assert column_spikes(x)[0].tolist() == [100]  # as evenly spaced samples, it would be one


def test_the_real_lynx_hare_record_has_no_spike_and_a_typo_in_it_is_bridged_by_a_curve(tmp_path: Path) -> None:
    series = load_timeseries(LYNX_HARE, time_column="year")
    assert find_spikes(series) == ()
    text = LYNX_HARE.read_text().replace("1910,7.4,27.1", "1910,7.4,271")
    (tmp_path / "typo.csv").write_text(text)
    (spike,) = find_spikes(load_timeseries(tmp_path / "typo.csv", time_column="year"))
    assert (spike.row, spike.column, spike.value) == (10, "hare", 271.0)
    bridged = apply_spike_policy(load_timeseries(tmp_path / "typo.csv", time_column="year"), "replace")
    assert abs(bridged.x[10, 1] - 27.1) < abs((25.4 + 40.3) / 2 - 27.1)  # the curve cuts the bend less than a line


def test_a_short_series_has_no_spikes() -> None:
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
    cubic = (-u[198] + 4 * u[199] + 4 * u[201] - u[202]) / 6
    assert replaced.x[200, 0] == pytest.approx(cubic, rel=1e-5) and replaced.notes
    keep = config.model_copy(update={"data": config.data.model_copy(update={"outliers": "keep"})})
    assert read_timeseries(keep).x[200, 0] == -5.0 and not read_timeseries(keep).notes
