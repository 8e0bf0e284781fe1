"""benchmarks/controlled.py: the excitation it drives systems with, how it scores a fit, and its table."""

from __future__ import annotations

import numpy as np

from benchmarks.controlled import FIT_TONES, HELD_OUT_TONES, excitation, run_case, table
from pipeline.systems_controlled import CONTROLLED


def test_the_excitation_peaks_at_the_published_swing_around_the_level_and_the_held_out_one_differs() -> None:
    system = CONTROLLED["cstr_van_de_vusse_klatt_engell"]  # two inputs
    t = np.linspace(0.0, system.t_end, 4096)
    level, swing = np.array(system.input_level), np.array(system.input_swing)
    for tones in (FIT_TONES, HELD_OUT_TONES):
        u = excitation(system, t, tones)
        assert u.shape == (4096, 2)
        np.testing.assert_allclose(np.max(np.abs(u - level), axis=0), swing, rtol=1e-9)
    fitted, held_out = excitation(system, t, FIT_TONES), excitation(system, t, HELD_OUT_TONES)
    assert abs(np.corrcoef(fitted[:, 0], fitted[:, 1])[0, 1]) < 0.9  # the two inputs are not one signal
    assert np.max(np.abs(fitted - held_out)) > 0.5 * swing.min()


def test_a_fit_is_scored_from_both_experiments_and_counted_in_the_table() -> None:
    """The cruise control v' = F/m - (b/m) v: deltaflow finds the law exactly from a noise-free record and it holds
    under the other input from the other speed; pysindy's defaults (threshold 0.1) drop the small drag term."""
    system = CONTROLLED["cruise_control_ctms"]
    rows = [run_case(system, 0.0, method, seed=0, cap=120.0) for method in ("deltaflow", "pysindy-default")]
    ours, theirs = rows
    assert ours["status"] == "ok" and ours["exact"] is True and ours["cautions"] == []
    assert ours["r2"] > 0.999 and ours["r2_alt"] > 0.999
    assert theirs["status"] == "ok" and theirs["exact"] is False
    lines = "\n".join(table(rows))
    assert "| deltaflow defaults | 0% | 100.0% (1/1) | 100.0% (1/1) |" in lines
    assert "| pysindy defaults (deg 2) | 0% |" in lines
