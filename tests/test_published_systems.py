"""The published corpus: every system integrates from both initial states, terms match formulas, the split is fixed."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.discovery.library import Library
from pipeline.systems import polynomial_rhs, sample_system, simulate_truth
from pipeline.systems_published import ODEBENCH, PUBLISHED, TUNING, VALIDATION, PublishedSystem, corpus_half
from pipeline.systems_published_extra import EXTRA
from pipeline.systems_published_more import MORE

SYSTEMS = list(PUBLISHED.values())


def test_corpus_size_and_classes() -> None:
    assert len(ODEBENCH) == 63 and len(MORE) == 46 and len(EXTRA) == 40
    assert set(PUBLISHED) == set(ODEBENCH) | set(MORE) | set(EXTRA) and len(PUBLISHED) == 149  # no name twice
    assert sum(not s.polynomial for s in ODEBENCH.values()) == 26
    assert sum(not s.polynomial for s in MORE.values()) == 26
    assert sum(not s.polynomial for s in EXTRA.values()) == 21
    assert sum(not s.polynomial for s in SYSTEMS) == 73
    assert sum(not s.polynomial for s in SYSTEMS) >= 0.4 * len(SYSTEMS)  # the issue asks for >= 40 %
    assert sum(s.chaotic for s in SYSTEMS) == 19 and sum(s.chaotic for s in EXTRA.values()) == 7
    assert {len(s.system.names) for s in SYSTEMS} == {1, 2, 3, 4}
    assert {len(s.system.names) for s in EXTRA.values()} == {1, 2, 3, 4}
    assert not any(name.startswith("odebench_") for name in (*MORE, *EXTRA))
    assert all(s.source and s.equation and s.description for s in SYSTEMS)


def test_no_system_repeats_another_with_the_same_parameters() -> None:
    seen: dict[tuple[str, tuple[float, ...]], str] = {}
    for entry in SYSTEMS:
        key = (entry.equation, entry.params)
        assert key not in seen, f"{entry.name} repeats {seen.get(key)}"
        seen[key] = entry.name


def test_split_is_disjoint_complete_and_matches_the_hash() -> None:
    assert not set(TUNING) & set(VALIDATION)
    assert set(TUNING) | set(VALIDATION) == set(PUBLISHED)
    assert all(corpus_half(name) == "tuning" for name in TUNING)
    assert all(corpus_half(name) == "validation" for name in VALIDATION)
    assert corpus_half("odebench_03_logistic") == corpus_half("odebench_03_logistic")  # pure function of the name
    assert (len(TUNING), len(VALIDATION)) == (75, 74)
    assert set(TUNING[:52]) | set(VALIDATION[:57]) == set(ODEBENCH) | set(MORE)  # EXTRA appended, nothing moved
    for half in (TUNING, VALIDATION):
        assert sum(not PUBLISHED[n].polynomial for n in half) >= 0.4 * len(half)


@pytest.mark.parametrize("entry", SYSTEMS, ids=lambda s: s.name)
def test_integrates_from_both_initial_states(entry: PublishedSystem) -> None:
    t = np.linspace(0.0, entry.system.t_end, 512)
    for x0 in (entry.system.x0, entry.system.x0_alt):
        assert x0 is not None and len(x0) == len(entry.system.names)
        x = simulate_truth(entry.system, t, x0)
        assert x.shape == (512, len(x0))
        assert np.all(np.isfinite(x))
        assert np.all(np.ptp(x, axis=0) > 1e-3), f"{entry.name} from {x0}: a state barely moves"
    frame = sample_system(entry.system, n=64, noise=0.05, multiplicative=True)
    assert list(frame.columns) == ["t", *entry.system.names]


@pytest.mark.parametrize("entry", [s for s in SYSTEMS if s.polynomial], ids=lambda s: s.name)
def test_polynomial_terms_equal_the_published_formula(entry: PublishedSystem) -> None:
    names = entry.system.names
    x = simulate_truth(entry.system, np.linspace(0.0, entry.system.t_end, 40))
    from_terms = polynomial_rhs(names, entry.system.terms)
    for state in x:
        np.testing.assert_allclose(from_terms(0.0, state), entry.rhs(0.0, state), rtol=1e-10, atol=1e-12)
    powers = np.array(
        [[a, b, c, d][: len(names)] for a in range(6) for b in range(6) for c in range(6) for d in range(6)]
    )
    powers = np.unique(powers[powers.sum(axis=1) <= entry.degree], axis=0)
    library_names = set(Library(names, powers).feature_names())
    for state_terms in entry.system.terms.values():
        assert set(state_terms) <= library_names, f"{entry.name}: terms not in the library's spelling"


def test_non_polynomial_systems_simulate_their_formula() -> None:
    for entry in SYSTEMS:
        if not entry.polynomial:
            state = np.asarray(entry.system.x0, dtype=float) + 0.1
            np.testing.assert_array_equal(entry.system.f()(0.0, state), entry.rhs(0.0, state))
