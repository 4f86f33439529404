"""The ecosystem-count search (data/builder/solve_ecosystem.py): its ranking and its measure
of how far counts are from Table A's orders. The search itself is a builder tool, run by hand."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "builder"))
solve_ecosystem = pytest.importorskip("solve_ecosystem")


def test_rank_min_is_the_contract_ranking():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 6, 30) / 7.0
    expected = pd.Series(values).rank(ascending=False, method="min").astype(int).to_numpy()
    assert (solve_ecosystem.rank_min(values) == expected).all()


def _inputs(eco, overall, other):
    n = len(eco)
    return solve_ecosystem.Inputs(
        clusters=[f"c{k}" for k in range(n)], popm=np.ones(n), plan={}, named={}, s_low=np.ones(n, int),
        n_low=np.full(n, 10), n_up=np.full(n, 100), allowed={}, other_sums=np.array(other),
        eco=np.array(eco), overall=np.array(overall))


def _counts(order):
    """Counts whose three ecosystem ranks are all equal to ``order`` (1 = best)."""
    order = np.array(order)
    n_members = 100 - 10 * order          # institutions per million: population 1 m each
    return {"N": n_members, "S": n_members // 10 * (10 - order), "R": np.full(len(order), 10),
            "K": 10 - order}


def test_violation_is_zero_when_the_orders_hold():
    inp = _inputs(eco=[1, 2, 3], overall=[1, 2, 3], other=[6, 6, 6])
    total, per = solve_ecosystem.violation(inp, _counts([1, 2, 3]))
    assert total == 0 and not per.any()


def test_violation_counts_the_shortfall_in_rank_points():
    inp = _inputs(eco=[1, 2, 3], overall=[1, 2, 3], other=[6, 6, 6])
    # clusters 0 and 1 swapped: sums 6 and 3 where the order needs sum_0 <= sum_1 - 1
    total, per = solve_ecosystem.violation(inp, _counts([2, 1, 3]))
    assert total == 2 * (6 - 3 + 1)      # once in ecosystem maturity, once overall
    assert per[2] == 0 and per[0] == per[1] > 0


def test_violation_asks_equal_sums_for_a_tie():
    inp = _inputs(eco=[1, 1, 3], overall=[1, 2, 3], other=[0, 6, 6])
    total, _ = solve_ecosystem.violation(inp, _counts([1, 2, 3]))
    assert total == 3                     # the tie misses by 6 - 3 = 3; overall 3 < 12 < 15 holds


@pytest.mark.slow
def test_the_builder_takes_its_ecosystem_plan_from_a_counts_file(tmp_path):
    """The builder's plan takes members, startups, research institutions and spinouts from
    targets/ecosystem_counts.csv when it is there (here: its own plan with Karlsruhe changed)."""
    inp = solve_ecosystem.gather()
    assert solve_ecosystem.violation(inp, inp.plan)[0] == 0  # the builder's own plan meets Table A
    path = tmp_path / "ecosystem_counts.csv"
    shifted = {k: v.copy() for k, v in inp.plan.items()}
    for key, value in (("N", 11), ("S", 3), ("R", 3), ("K", 2)):  # a consistent small Karlsruhe
        shifted[key][inp.index("Karlsruhe")] = value
    solve_ecosystem.write(inp, shifted, path)
    b = solve_ecosystem.build.Builder()
    b.ecosystem_counts = path
    b.load_targets()
    b.make_plan()
    got = {k: np.array([getattr(b.plans[c], a) for c in inp.clusters])
           for k, a in (("N", "members"), ("S", "startups"), ("R", "research"), ("K", "spinouts"))}
    for k in "NSRK":
        assert (got[k] == shifted[k]).all(), k
