"""benchmarks/generalisation.py's second-state report: where the second initial state lies, and how it is scored."""

from __future__ import annotations

import math
from typing import Any

import pytest

from benchmarks.generalisation import alt_distance, second_state_tables
from pipeline.systems import KnownSystem
from pipeline.systems_published import PUBLISHED

DECAY = {"x": {"x": -0.5}}  # x' = -x/2: from x0 = 4 the record spans [4 e^-5, 4]


def test_a_second_state_inside_the_record_is_at_distance_zero() -> None:
    assert alt_distance(KnownSystem("decay", ("x",), (4.0,), terms=DECAY, x0_alt=(2.0,))) == 0.0


def test_a_second_state_outside_is_measured_in_record_ranges() -> None:
    low = 4.0 * math.exp(-5.0)
    distance = alt_distance(KnownSystem("decay", ("x",), (4.0,), terms=DECAY, x0_alt=(8.0,)))
    assert distance == pytest.approx(4.0 / (4.0 - low), rel=1e-3)


def _row(system: str, chaotic: bool, r2_alt: float, r2_alt_short: float | None) -> dict[str, Any]:
    row = {"system": system, "half": "tuning", "method": "deltaflow", "noise": 0.01, "chaotic": chaotic}
    row |= {"r2_alt": r2_alt} | ({} if r2_alt_short is None else {"r2_alt_short": r2_alt_short})
    return row


def test_chaotic_second_states_are_scored_by_their_short_horizon() -> None:
    rows = [
        _row("odebench_56_lorenz_chaotic", True, -0.3, 0.95),  # diverges late, as chaos does: a success
        _row("dysts_thomas", True, 0.5, None),  # an old row without the short score: the whole span decides
        _row("odebench_24_harmonic_oscillator", False, 0.5, 0.99),  # not chaotic: the whole span decides
    ]
    table = [line for line in second_state_tables(rows) if line.startswith("| tuning")]
    assert len(table) == 1
    assert "| 33.3% (1/3) |" in table[0]


def test_the_split_counts_each_system_where_its_second_state_lies() -> None:
    # odebench_24's second state lies inside its record's range, alon_negative_autoregulation's far outside
    near, far = "odebench_24_harmonic_oscillator", "alon_negative_autoregulation"
    assert alt_distance(PUBLISHED[near].system) == 0.0 and alt_distance(PUBLISHED[far].system) > 0.25
    rows = [_row(near, False, 0.99, None), _row(far, False, -5.0, None)]
    line = next(line for line in second_state_tables(rows) if line.startswith("| tuning"))
    assert line.endswith("| 50.0% (1/2) | 100.0% (1/1) | – | 0.0% (0/1) |")


def test_the_chaos_table_counts_detections_false_alarms_and_horizons() -> None:
    from benchmarks.generalisation import chaos_table

    def row(system: str, chaotic: bool, detected: bool, reported: float, true: float) -> dict[str, Any]:
        base = {"system": system, "half": "validation", "method": "deltaflow", "noise": 0.05, "chaotic": chaotic}
        return base | {"detected_chaotic": detected, "horizon_reported": reported, "horizon_true": true}

    rows = [
        row("a", True, True, 2.0, 4.0),
        row("b", True, False, 3.0, 3.0),
        row("c", False, True, 10.0, 10.0),  # a false alarm
        row("d", False, False, 10.0, 10.0),
        row("e", False, False, 10.0, 10.0),
    ]
    (line,) = [line for line in chaos_table(rows) if line.startswith("| validation")]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[2].endswith("(1/2)") and cells[3].endswith("(1/3)")  # detected 1 of 2 chaotic; 1 false alarm of 3
    assert cells[4:] == ["2.50", "3.50", "0.75"]  # medians of the chaotic rows' horizons, and of reported / true
