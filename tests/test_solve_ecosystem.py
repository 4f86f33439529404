"""The ecosystem-count search (data/builder/solve_ecosystem.py): its ranking, its measures of
how far counts are from the paper's rank facts and Table A's orders, the CP-SAT model's
agreement with both, and the committed counts file. The search itself is a builder tool, run
by hand."""
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


def test_fact_distance_is_the_distance_to_the_nearest_allowed_rank():
    allowed = np.array([False, True, False, False, True, False, False])  # ranks 1 and 4 of 6
    assert solve_ecosystem.fact_distance(allowed)[1:].tolist() == [0, 1, 1, 0, 1, 2]


def _random_counts(rng, n):
    N = rng.integers(12, 40, n)
    R = rng.integers(2, 8, n)
    S = np.minimum(rng.integers(2, 12, n), N - R - 1)
    return {"N": N, "S": S, "R": R, "K": np.minimum(rng.integers(0, 3, n), S)}


def _toy(n=7, seed=3):
    """A small problem with a known answer: Table A and two rank facts taken from hidden random
    counts; the builder's plan is other random counts."""
    rng = np.random.default_rng(seed)
    zeros = np.zeros(n, int)
    named = {key: zeros for key in ("startup", "spinout", "research", "corporate", "government", "all")}
    inp = solve_ecosystem.Inputs(
        clusters=[f"c{k}" for k in range(n)], popm=rng.uniform(0.5, 5.0, n).round(3), plan=_random_counts(rng, n),
        named=named, s_low=np.ones(n, int), n_low=np.full(n, 12), n_up=np.full(n, 60),
        allowed={ind: np.ones((n, n + 1), bool) for ind in solve_ecosystem.ECOSYSTEM},
        other_sums=rng.integers(6, 60, n), eco=zeros, overall=zeros)
    hidden = _random_counts(rng, n)
    ranks = solve_ecosystem.ecosystem_ranks(inp, hidden)
    e = sum(ranks)
    inp.eco = solve_ecosystem.rank_min(-e.astype(float))
    inp.overall = solve_ecosystem.rank_min(-(e + inp.other_sums).astype(float))
    for i, k in ((0, 0), (2, 1)):  # cluster 0's ipm rank and cluster 1's startup ratio rank
        inp.allowed[solve_ecosystem.ECOSYSTEM[i]][k, :] = False
        inp.allowed[solve_ecosystem.ECOSYSTEM[i]][k, ranks[i][k]] = True
    return inp


@pytest.mark.parametrize("seed", [3, 4])
def test_the_model_ranks_and_measures_as_the_engine(seed):
    """With every count held, the CP-SAT model's ranks are the engine's ranks of those counts,
    and its least fact distance and order shortfall are the tool's own measures."""
    pytest.importorskip("ortools")
    inp = _toy(seed=seed)
    m = solve_ecosystem.build_model(inp)
    m.cp.Minimize(100 * sum(m.fact_miss) + sum(m.shortfall))
    values = dict((v.Name(), value) for v, value in solve_ecosystem.fixed_solution(m, inp.plan))
    n = len(inp.clusters)
    ranks = solve_ecosystem.ecosystem_ranks(inp, inp.plan)
    for i, r in enumerate(ranks):
        assert [values[f"rank{i}_{k}"] for k in range(n)] == r.tolist()
    assert sum(values[v.Name()] for v in m.fact_miss) == solve_ecosystem.fact_distance_total(inp, inp.plan) > 0
    assert sum(values[v.Name()] for v in m.shortfall) == solve_ecosystem.violation(inp, inp.plan)[0] > 0


def test_the_search_meets_the_facts_and_orders_of_a_small_problem_the_same_way_twice():
    """Solved twice with the same seed and threads: the same counts (CP-SAT's interleaved,
    deterministic search), meeting every fact and order."""
    pytest.importorskip("ortools")
    inp = _toy(seed=5)
    runs = [solve_ecosystem.solve(inp, None, seed=1, budget=30.0, polish=2.0, workers=2, log=lambda _: None)
            for _ in range(2)]
    for short, cnt in runs:
        assert short == 0
        assert solve_ecosystem.fact_distance_total(inp, cnt) == 0 and solve_ecosystem.violation(inp, cnt)[0] == 0
    assert all((runs[0][1][key] == runs[1][1][key]).all() for key in solve_ecosystem.COUNTS)


@pytest.fixture(scope="module")
def builder_inputs() -> "solve_ecosystem.Inputs":
    """The builder's own plan, named institutions and facts (about 2 minutes)."""
    return solve_ecosystem.gather()


@pytest.mark.slow
def test_the_committed_counts_meet_the_facts_and_table_a(builder_inputs):
    """targets/ecosystem_counts.csv, which the builder uses: every rank fact and Table A's orders."""
    inp = builder_inputs
    cnt = solve_ecosystem.read(inp, solve_ecosystem.OUT)
    assert solve_ecosystem.fact_distance_total(inp, cnt) == 0
    assert solve_ecosystem.violation(inp, cnt)[0] == 0
    small = [inp.index(c) for c in solve_ecosystem.SMALL]
    assert set(cnt["S"][small]) <= {2, 3} and (cnt["N"][small] <= 12).all()


@pytest.mark.slow
def test_the_builder_takes_its_ecosystem_plan_from_a_counts_file(tmp_path, builder_inputs):
    """The builder's plan takes members, startups, research institutions and spinouts from
    targets/ecosystem_counts.csv when it is there (here: its own plan with Karlsruhe changed)."""
    inp = builder_inputs
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
