"""benchmarks/discovery.py scores a system chaotic on its record by its short horizon: which systems those are."""

from __future__ import annotations

import numpy as np

from benchmarks.discovery import N, chaotic_on_record
from pipeline.systems import SYSTEMS


def test_lorenz_is_chaotic_on_its_record_and_cycles_and_decays_are_not() -> None:
    def chaotic(name: str) -> bool:
        system = SYSTEMS[name]
        return chaotic_on_record(system, np.linspace(0.0, system.t_end, N))

    assert chaotic("lorenz")  # 10 time units: 9 Lyapunov times
    assert not chaotic("lotka_volterra")  # a nudge shifts a neutral cycle's phase: it grows only linearly
    assert not chaotic("sir")  # a nudge grows in the epidemic's exponential phase and dies away with it
    assert not chaotic("exp_decay")
