#!/usr/bin/env python
"""Ecosystem-maturity counts with Karlsruhe and Greater Adelaide at two or three startups.

Section 5.3 of the paper says that in Karlsruhe and Greater Adelaide "two or three startups
constitute a large share of the total institutions present", and both rank in the top 10
by startups per institution. With DBSCAN's ``min_samples = 10`` every cluster has at least
10 members, so their ratio is at most 0.30, and the 35 clusters ranked below them must fall
under it. The builder's own ecosystem plan (``plan.plan_ecosystem``) cannot arrange that, so
this script searches the four counts of every cluster directly, with OR-Tools CP-SAT:

* members N, startups S, research institutions R (universities + research institutes) and
  spinouts K of each cluster are integer variables (members 0.5-1.5 times the builder's plan);
* the three ecosystem indicators (N / population, K / R, S / N) are compared exactly, as
  integer cross products, and each cluster's rank is 1 + the number of clusters above it
  (contract section 6: ties share the smallest rank).

Rules (hard): the named institutions fit, Toronto-Waterloo 14 startups of 30, Bristol-Bath 0.64,
the exact 0.50 tie, Oxford one and Cambridge two research institutions with several spinouts,
"just under 1" for ranks 6-10 of spinouts per research institution, industry ahead of research
in Figure 11's named clusters, enough startups for each cluster's funding, and Karlsruhe /
Adelaide with 10-12 members and two or three startups. Minimised: 100 x the distance of each
rank from the positions the paper's rank facts allow (``solve_ranks.allowed_positions``) plus
the shortfall of Table A's orders: the ecosystem rank-sums must be ordered as Table A's
ecosystem-maturity ranks and, with the other two dimensions' sums fixed, the overall sums as
its overall ranks (equal where Table A prints "="). Once both are 0, an optional second phase
(``--polish``) holds them at 0 and moves the counts as little as it can from the builder's plan
(off by default: the builder cannot yet fund those counts within Annex 2's 94 %).

CP-SAT runs with ``interleave_search`` and a budget in deterministic seconds, so a rerun with
the same seed, budget and number of threads (default 2) gives the same counts on any machine;
another number of threads gives other counts.

Run:  python data/builder/solve_ecosystem.py [--seed S] [--budget B] [--rounds R] [--start F]
      Needs ``ortools`` (pinned in requirements.txt). About 2 min to gather the builder's
      plan, then the search on 2 cores: from the plan it reached 5 rank points short in about
      9 min and stalled; the committed counts came from an earlier run's best (data/README.md).
      Writes targets/ecosystem_counts.csv only when nothing is left to miss; the builder then
      uses those counts in place of its own ecosystem plan.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402
import solve_ranks  # noqa: E402
from plan import BRISTOL_BATH, HALF_TIE, member_ceiling, member_floor, startup_floor  # noqa: E402
from quantumclusters.ranking import round_significant  # noqa: E402

OUT = HERE / "targets" / "ecosystem_counts.csv"
ECOSYSTEM = ("institutions_per_million", "spinouts_per_research_institution", "startups_per_institution")
SMALL = ("Karlsruhe", "Greater Adelaide")
INDUSTRY_LED = ("Grenoble", "Munich Metropolitan Area", "Greater Helsinki", "Bristol–Bath Region", "Cambridge", "Oxford")
K_MAX = 80


def rank_min(values: np.ndarray) -> np.ndarray:
    """Contract section 6 ranks (largest = 1, ties share the smallest), 12 significant digits."""
    return pd.Series(round_significant(values)).rank(method="min", ascending=False).astype(int).to_numpy()


@dataclass
class Inputs:
    """What the search needs from the builder: its plan, the named institutions, the facts."""
    clusters: list[str]
    popm: np.ndarray
    plan: dict[str, np.ndarray]           # N, S, R, K of the builder's own plan
    named: dict[str, np.ndarray]          # startup, spinout, research, corporate, government
    s_low: np.ndarray
    n_low: np.ndarray
    n_up: np.ndarray
    allowed: dict[str, np.ndarray]        # [cluster, rank] -> allowed by the facts
    other_sums: np.ndarray                # market orientation + collaboration intensity rank-sums
    eco: np.ndarray                       # Table A ecosystem maturity rank
    overall: np.ndarray                   # Table A overall rank
    just_under_1: frozenset[str] = frozenset()  # section 5.2: spinout ratio ranks 6-10, "just under 1"

    def index(self, name: str) -> int:
        return self.clusters.index(name)


def gather() -> Inputs:
    b = build.Builder()
    b.ecosystem_counts = None  # the builder's own plan, not an earlier result of this script
    b.load_targets()
    b.make_plan()
    clusters = list(b.clusters)
    popm = np.array([float(b.area[c]["population"]) / 1e6 for c in clusters])
    plan = {k: np.array([getattr(b.plans[c], a) for c in clusters])
            for k, a in (("N", "members"), ("S", "startups"), ("R", "research"), ("K", "spinouts"))}
    cnt: dict[str, dict[str, int]] = {c: defaultdict(int) for c in clusters}
    for r in b.named.values():
        if r["area"] in cnt:
            t = r["type"]
            cnt[r["area"]]["research" if t in ("university", "research_institute") else t] += 1
            cnt[r["area"]]["spinout"] += int(t == "startup" and bool(r["spinout_of"]))
            cnt[r["area"]]["all"] += 1
    named = {k: np.array([cnt[c][k] for c in clusters])
             for k in ("startup", "spinout", "research", "corporate", "government", "all")}
    s_low = np.array([startup_floor(named["startup"][k], b.plans[c].startup_funding) for k, c in enumerate(clusters)])
    n_low = np.array([member_floor(v) for v in named["all"]])
    n_up = np.array([member_ceiling(p, lo) for p, lo in zip(popm, n_low)])
    code = {name: c for c, name in solve_ranks.NAMES.items()}
    allowed = {}
    for ind in ECOSYSTEM:
        a = np.zeros((len(clusters), len(clusters) + 1), bool)
        for k, c in enumerate(clusters):
            a[k, sorted(solve_ranks.allowed_positions(ind, code[c]))] = True
        allowed[ind] = a
    for c in ("San Francisco Bay Area", "Greater Boston"):  # section 5.1: not in Figure 11's top 10
        allowed["institutions_per_million"][clusters.index(c), :11] = False
    for c in SMALL:
        allowed["startups_per_institution"][clusters.index(c), :] = False
        allowed["startups_per_institution"][clusters.index(c), 5:11] = True
    other = [i for d, inds in build.planmod.DIMENSIONS.items() for i in inds if i not in ECOSYSTEM]
    other_sums = np.array([sum(b.ranks[c][i] for i in other) for c in clusters])
    spr = allowed["spinouts_per_research_institution"]
    just_under_1 = frozenset(c for k, c in enumerate(clusters) if set(np.flatnonzero(spr[k])) <= set(range(6, 11)))
    table = {r["cluster"]: r for r in build.read_csv(solve_ranks.TABLE_A)}
    for k in SMALL:
        n_low[clusters.index(k)] = 10
    return Inputs(clusters, popm, plan, named, s_low, n_low, n_up, allowed, other_sums,
                  np.array([int(table[c]["ecosystem_maturity_rank"]) for c in clusters]),
                  np.array([int(table[c]["overall_rank"]) for c in clusters]), just_under_1)


COUNTS = ("N", "S", "R", "K")  # members, startups, research institutions, spinouts


@dataclass
class Model:
    """The CP-SAT model: the four counts of every cluster, the three ecosystem ranks they give
    (exactly: ratios are compared as cross products of integers), and per Table A order the
    shortfall of the rank-sums (0 when the order holds)."""
    cp: Any                                  # ortools.sat.python.cp_model.CpModel
    counts: dict[str, list]                  # "N" -> one IntVar per cluster, ...
    shortfall: list = field(default_factory=list)
    fact_miss: list = field(default_factory=list)  # per cluster and indicator: rank's distance from the facts
    variables: list = field(default_factory=list)  # every variable, for a complete hint
    bounds: dict[str, tuple[int, int]] = field(default_factory=dict)


def count_bounds(inp: Inputs, k: int) -> dict[str, tuple[int, int]]:
    """The range of each count of cluster ``k``: members 0.5-1.5 times the builder's plan
    (within the member floor and ceiling), research institutions up to 1.2 times it, and the
    counts section 5 states (Toronto-Waterloo 30 members, Karlsruhe and Adelaide 10-12, Oxford
    one research institution, Cambridge two)."""
    c, nm = inp.clusters[k], inp.named
    n0, r0 = int(inp.plan["N"][k]), int(inp.plan["R"][k])
    if c == "Toronto–Waterloo Corridor":
        n = (30, 30)
    elif c in SMALL:
        n = (10, 12)
    else:
        n = (max(int(inp.n_low[k]), n0 // 2), min(int(inp.n_up[k]), math.ceil(1.5 * n0)))
    r_low = max(1, int(nm["research"][k]), 5 if c in inp.just_under_1 else 1)
    r = {"Oxford": (1, 1), "Cambridge": (2, 2)}.get(c, (r_low, max(r_low + 2, math.ceil(1.2 * r0))))
    return {"N": n, "S": (int(inp.s_low[k]), n[1]), "R": r, "K": (int(nm["spinout"][k]), K_MAX)}


def add_count_rules(inp: Inputs, m: Model) -> None:
    """The rules on one cluster's counts: the named institutions fit, and section 5's facts."""
    N, S, R, K = (m.counts[key] for key in COUNTS)
    cp, nm = m.cp, inp.named
    for k, c in enumerate(inp.clusters):
        cp.Add(S[k] - K[k] >= int(nm["startup"][k] - nm["spinout"][k]))  # named non-spinout startups
        cp.Add(S[k] + R[k] <= N[k] - int(nm["corporate"][k] + max(nm["government"][k], 1)))
        if c in HALF_TIE:                     # "all 0.50"
            cp.Add(2 * S[k] == N[k])
        if c == BRISTOL_BATH:                 # 0.64
            cp.Add(1000 * S[k] >= 635 * N[k])
            cp.Add(10000 * S[k] <= 6449 * N[k])
        if c in inp.just_under_1:             # spinouts per research institution "just under 1"
            cp.Add(5 * K[k] >= 4 * R[k])
            cp.Add(K[k] <= R[k] - 1)
        if c == "Toronto–Waterloo Corridor":  # 14 startups of 30 institutions
            cp.Add(S[k] == 14)
        if c in SMALL:                        # "two or three startups"
            cp.AddLinearConstraint(S[k], 2, 3)
        if c in ("Oxford", "Cambridge"):      # several spinouts from one or two research institutions
            cp.Add(K[k] >= 2)
    for k in (inp.index(c) for c in INDUSTRY_LED if c in inp.clusters):  # industry ahead of research
        cp.Add(N[k] - 2 * R[k] >= 2 + math.ceil(0.05 * inp.plan["N"][k]))


def add_ranks(inp: Inputs, m: Model) -> list[list]:
    """The three ecosystem indicators' ranks (contract section 6: largest first, ties share the
    smallest rank), each with its distance from the positions the paper's rank facts allow."""
    cp, n = m.cp, len(inp.clusters)
    N, S, R, K = (m.counts[key] for key in COUNTS)
    pop = [int(round(p * 1e6)) for p in inp.popm]
    ratios = {"institutions_per_million": (N, pop), "spinouts_per_research_institution": (K, R),
              "startups_per_institution": (S, N)}
    ranks = []
    for i, ind in enumerate(ECOSYSTEM):
        num, den = ratios[ind]
        cross = {}                            # cross[c, d] = num_c * den_d
        for c in range(n):
            for d in range(n):
                if c == d:
                    continue
                if isinstance(den[d], int):
                    cross[c, d] = num[c] * den[d]
                else:
                    hi = m.bounds[num[c].Name()][1] * m.bounds[den[d].Name()][1]
                    cross[c, d] = new_int(m, 0, hi, f"x{i}_{c}_{d}")
                    cp.AddMultiplicationEquality(cross[c, d], [num[c], den[d]])
        above = {}                            # above[c, d]: c's ratio larger than d's
        for c in range(n):
            for d in range(c + 1, n):
                a, b = new_bool(m, f"a{i}_{c}_{d}"), new_bool(m, f"a{i}_{d}_{c}")
                cp.Add(cross[c, d] > cross[d, c]).OnlyEnforceIf(a)
                cp.Add(cross[c, d] < cross[d, c]).OnlyEnforceIf(b)
                cp.Add(cross[c, d] == cross[d, c]).OnlyEnforceIf([a.Not(), b.Not()])
                cp.AddBoolOr([a.Not(), b.Not()])
                above[c, d], above[d, c] = a, b
        rank = []
        for k in range(n):
            v = new_int(m, 1, n, f"rank{i}_{k}")
            cp.Add(v == 1 + sum(above[d, k] for d in range(n) if d != k))
            miss = fact_distance(inp.allowed[ind][k])
            if miss.any():
                m.fact_miss.append(new_int(m, 0, int(miss.max()), f"miss{i}_{k}"))
                cp.AddElement(v, [int(x) for x in miss], m.fact_miss[-1])
            rank.append(v)
        ranks.append(rank)
    return ranks


def fact_distance(allowed: np.ndarray) -> np.ndarray:
    """For each rank 0..n, how far it is from the nearest rank the paper's facts allow
    (``allowed[r]``); rank 0 does not occur."""
    ok = np.flatnonzero(allowed[1:]) + 1
    dist = np.abs(np.arange(len(allowed))[:, None] - ok[None, :]).min(axis=1)
    dist[0] = dist.max()
    return dist


def add_orders(inp: Inputs, m: Model, ranks: list[list]) -> None:
    """Table A's orders on the ecosystem rank-sums and (with the other two dimensions' sums
    fixed) on the overall sums, each with its shortfall: a tie misses by the difference of the
    sums, an order by how far the upper sum is from being at least 1 below the lower."""
    n = len(inp.clusters)
    e = [sum(r[k] for r in ranks) for k in range(n)]
    worst = int(inp.other_sums.max() - inp.other_sums.min()) + 1
    for pub, other in ((inp.eco, np.zeros(n, int)), (inp.overall, inp.other_sums.astype(int))):
        for c, d, tie in order_pairs(pub):
            gap = e[c] - e[d] + int(other[c] - other[d])
            s = new_int(m, 0, 3 * n + worst, f"short{len(m.shortfall)}")
            if tie:
                m.cp.AddAbsEquality(s, gap)
            else:
                m.cp.Add(s >= gap + 1)
            m.shortfall.append(s)


def new_int(m: Model, lo: int, hi: int, name: str):
    v = m.cp.NewIntVar(lo, hi, name)
    m.bounds[name] = (lo, hi)
    m.variables.append(v)
    return v


def new_bool(m: Model, name: str):
    v = m.cp.NewBoolVar(name)
    m.variables.append(v)
    return v


def build_model(inp: Inputs, ranks: bool = True) -> Model:
    """Counts, rules, ranks and Table A's orders (as shortfalls) for all clusters (``ranks``
    False: counts and rules only)."""
    from ortools.sat.python import cp_model
    m = Model(cp_model.CpModel(), {key: [] for key in COUNTS})
    for k in range(len(inp.clusters)):
        for key, (lo, hi) in count_bounds(inp, k).items():
            m.counts[key].append(new_int(m, lo, hi, f"{key}{k}"))
    add_count_rules(inp, m)
    if ranks:
        add_orders(inp, m, add_ranks(inp, m))
    return m


def minimise_change(m: Model, inp: Inputs) -> None:
    """Objective: the counts' change from the builder's plan, each relative to its planned value."""
    change = []
    for key in COUNTS:
        for k, v in enumerate(m.counts[key]):
            planned = int(inp.plan[key][k])
            d = new_int(m, 0, 1000, f"d{key}{k}")
            m.cp.AddAbsEquality(d, v - planned)
            change.append(round(100 / max(planned, 1)) * d)
    m.cp.Minimize(sum(change))


def order_pairs(pub: np.ndarray) -> list[tuple[int, int, bool]]:
    """The pairs a published ranking constrains: ``(c, d, True)`` for a tie (equal sums),
    ``(c, d, False)`` for c in the rank group just above d's (c's sum at least 1 smaller)."""
    n = len(pub)
    levels = sorted(set(pub.tolist()))
    below = {a: b for a, b in zip(levels, levels[1:])}
    return [(c, d, pub[c] == pub[d]) for c in range(n) for d in range(n)
            if (pub[c] == pub[d] and c < d) or below.get(pub[c]) == pub[d]]


def fixed_solution(m: Model, cnt: dict[str, np.ndarray], keys: tuple[str, ...] = COUNTS,
                   clusters: list[int] | None = None) -> list[tuple[Any, int]]:
    """A complete solution of ``m`` (every variable's value, for a hint) with the counts of
    ``clusters`` (default: all) held at ``cnt`` and the rest free, at the least objective;
    ValueError if the held counts break a rule."""
    from ortools.sat.python import cp_model
    held = m.cp.clone()
    for key in keys:
        for k in clusters if clusters is not None else range(len(m.counts[key])):
            held.Add(held.get_int_var_from_proto_index(m.counts[key][k].Index()) == int(cnt[key][k]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 60.0
    if solver.Solve(held) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ValueError("the held counts break a rule of the paper")
    return [(v, int(solver.Value(held.get_int_var_from_proto_index(v.Index())))) for v in m.variables]


def run(m: Model, hint: list[tuple[Any, int]], *, seed: int, budget: float, workers: int, lns: bool = False,
        log=print) -> dict[str, np.ndarray]:
    """Solve ``m`` (its objective set) from ``hint``; deterministic for a given seed, budget
    (in CP-SAT's deterministic seconds) and number of workers (``interleave_search``), whatever
    the machine."""
    from ortools.sat.python import cp_model
    for v, value in hint:
        m.cp.AddHint(v, value)
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers, p.interleave_search, p.random_seed = workers, True, seed
    p.max_deterministic_time = budget
    p.use_lns_only = lns  # large-neighbourhood search from the (complete) hint
    t0 = time.time()

    class Progress(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            log(f"  objective {self.ObjectiveValue():.0f} ({time.time() - t0:.0f} s)")

    status = solver.Solve(m.cp, Progress())
    log(f"  {solver.StatusName(status)} after {solver.deterministic_time:.0f} deterministic s "
        f"({time.time() - t0:.0f} s)")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # not with a complete hint
        raise RuntimeError(f"CP-SAT found no solution ({solver.StatusName(status)})")
    return {key: np.array([solver.Value(v) for v in m.counts[key]]) for key in COUNTS}


def solve(inp: Inputs, start: dict[str, np.ndarray] | None, *, seed: int, budget: float, polish: float,
          workers: int, rounds: int = 1, checkpoint: Path | None = None,
          log=print) -> tuple[int, dict[str, np.ndarray]]:
    """Counts meeting every rule, every rank fact and Table A's orders; returns the remaining
    misses (rank-fact distance + order shortfall, 0 = done) and the counts.

    Phase 1 minimises 100 x the rank-fact distance + the order shortfall by large-neighbourhood
    search, in up to ``rounds`` rounds of ``budget`` (each saved to ``checkpoint``), from ``start`` or else from the counts nearest the builder's plan that meet the
    rules (the plan itself gives Karlsruhe 13 startups, among others). Phase 2, once both are
    0, makes them rules and moves the counts as little as it can from the builder's plan (each
    count's change relative to its planned value)."""
    if start is None:  # the plan breaks some rules (Karlsruhe's startups, ...): the counts nearest it that do not
        rules = build_model(inp, ranks=False)
        minimise_change(rules, inp)
        start = run(rules, [], seed=seed, budget=60.0, workers=workers, log=log)
    cnt, left = start, -1
    for r in range(rounds):  # each round restarts the search from the best counts so far, with a new seed
        m = build_model(inp)
        m.cp.Minimize(100 * sum(m.fact_miss) + sum(m.shortfall))
        log(f"phase 1, round {r + 1}: the paper's rank facts and Table A's orders")
        cnt = run(m, fixed_solution(m, cnt), seed=seed + r, budget=budget, workers=workers, lns=True, log=log)
        left = fact_distance_total(inp, cnt) + violation(inp, cnt)[0]
        if checkpoint is not None:
            write(inp, cnt, checkpoint)
        if not left:
            break
    if left or not polish:
        return left, cnt
    log("phase 2: nearest the builder's plan")
    m = build_model(inp)
    for v in m.fact_miss + m.shortfall:
        m.cp.Add(v == 0)
    minimise_change(m, inp)
    return 0, run(m, fixed_solution(m, cnt), seed=seed, budget=polish, workers=workers, lns=True, log=log)


def ecosystem_ranks(inp: Inputs, cnt: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The three ecosystem indicators' ranks the engine gives these counts."""
    return [rank_min(cnt["N"] / inp.popm), rank_min(cnt["K"] / cnt["R"]), rank_min(cnt["S"] / cnt["N"])]


def fact_distance_total(inp: Inputs, cnt: dict[str, np.ndarray]) -> int:
    """How far, in rank points, the counts' ecosystem ranks are from the paper's rank facts."""
    return int(sum(fact_distance(inp.allowed[ind][k])[r[k]]
                   for ind, r in zip(ECOSYSTEM, ecosystem_ranks(inp, cnt)) for k in range(len(inp.clusters))))


def violation(inp: Inputs, cnt: dict[str, np.ndarray]) -> tuple[int, np.ndarray]:
    """Shortfall of Table A's ecosystem and overall orders (rank points), and its share per cluster."""
    e = sum(ecosystem_ranks(inp, cnt))
    n = len(e)
    per = np.zeros(n)
    for pub, score in ((inp.eco, e), (inp.overall, inp.other_sums + e)):
        for c, d, tie in order_pairs(pub):
            v = abs(score[c] - score[d]) if tie else max(0, score[c] - score[d] + 1)
            per[c] += v
            per[d] += v
    return int(per.sum() // 2), per


def write(inp: Inputs, cnt: dict[str, np.ndarray], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["cluster", "members", "startups", "research_institutions", "spinouts"])
        for k, c in enumerate(inp.clusters):
            w.writerow([c, int(cnt["N"][k]), int(cnt["S"][k]), int(cnt["R"][k]), int(cnt["K"][k])])


def read(inp: Inputs, path: Path) -> dict[str, np.ndarray]:
    rows = {r["cluster"]: r for r in build.read_csv(path)}
    cols = (("N", "members"), ("S", "startups"), ("R", "research_institutions"), ("K", "spinouts"))
    return {k: np.array([int(rows[c][col]) for c in inp.clusters]) for k, col in cols}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20250731)
    ap.add_argument("--budget", type=float, default=300.0,
                    help="phase 1 limit per round, in CP-SAT deterministic seconds")
    ap.add_argument("--rounds", type=int, default=20, help="phase 1 rounds at most (each a new seed)")
    ap.add_argument("--checkpoint", help="phase 1's best counts after each round (to --start a later run)")
    ap.add_argument("--polish", type=float, default=0.0,
                    help="phase 2 limit, in CP-SAT deterministic seconds (default 0: skip phase 2, whose "
                         "counts the builder cannot yet fund: see data/README.md)")
    ap.add_argument("--workers", type=int, default=2, help="threads (part of the result's recipe, like the seed)")
    ap.add_argument("--start", help="start phase 1 from a counts CSV (e.g. an earlier --out)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    inp = gather()
    start = read(inp, Path(args.start)) if args.start else None
    short, cnt = solve(inp, start, seed=args.seed, budget=args.budget, polish=args.polish, workers=args.workers,
                       rounds=args.rounds, checkpoint=Path(args.checkpoint) if args.checkpoint else None)
    if short:
        print(f"shortfall {short} left: {args.out} not written", file=sys.stderr)
        return 2
    write(inp, cnt, Path(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
