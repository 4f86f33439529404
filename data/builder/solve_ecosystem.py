#!/usr/bin/env python
"""Ecosystem-maturity counts with Karlsruhe and Greater Adelaide at two or three startups.

Section 5.3 of the paper says that in Karlsruhe and Greater Adelaide "two or three startups
constitute a large share of the total institutions present", and both rank in the top 10
by startups per institution. With DBSCAN's ``min_samples = 10`` every cluster has at least
10 members, so their ratio is at most 0.30, and the 35 clusters ranked below them must fall
under it. The builder's own ecosystem plan (``plan.make_plan``) cannot arrange that, so this
script searches the four counts of every cluster directly:

* members N and research institutions R (universities + research institutes), each chosen
  from a short list of values around the builder's own plan (one binary per value);
* startups S and spinouts K, split over those choices, so that S/N, K/R and N/population
  are linear and the integer programme (scipy ``milp``, HiGHS) stays linear.

Hard constraints: every rank fact of the three ecosystem indicators (``solve_ranks.FACTS``),
Toronto-Waterloo 14 of 30, Bristol-Bath 0.64, the exact 0.50 tie, Oxford one and Cambridge
two research institutions with several spinouts, ratios "just under 1" for ranks 6-10 of
spinouts per research institution, industry ahead of research in Figure 11's named clusters,
enough startups for each cluster's funding, and Karlsruhe / Adelaide with 10-12 members and
two or three startups. Table A enters through the ecosystem rank-sums: their order must give
Table A's ecosystem-maturity ranks, and with the other two dimensions' sums fixed, the
overall ranks. The search minimises the shortfall of those orders ("violation", in rank
points), then the change from the builder's plan.

Method: counts that meet the hard constraints with the ecosystem ranks nearest the builder's
plan (the start), then a seeded
large-neighbourhood search: free a few clusters (half drawn among those in violated orders),
fix the rest, re-solve with a node limit, keep the result when the violation does not grow.
Node limits (not time limits) keep a rerun from depending on the machine's speed; that a
rerun gives the same bytes is not yet checked.

Run:  python data/builder/solve_ecosystem.py [--iterations N] [--seed S] [--checkpoint F] [--start F]
      About 4 min to the start, then 40-60 s per iteration on 2 cores. Writes
      targets/ecosystem_counts.csv only when the violation reaches 0 (not reached so far:
      see data/README.md).
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

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

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


@dataclass
class Model:
    """The integer programme: variables, rows, and the options behind the one-hot choices."""
    inp: Inputs
    n_opts: list[list[int]]
    r_opts: list[list[int]]
    col: dict = field(default_factory=dict)
    nvar: int = 0
    rows: list = field(default_factory=list)
    lb: list = field(default_factory=list)
    ub: list = field(default_factory=list)
    cost: list = field(default_factory=list)

    def add(self, key, count: int, lb: float = 0.0, ub: float = 1.0, cost: float = 0.0) -> int:
        self.col[key] = self.nvar
        self.nvar += count
        self.lb += [lb] * count
        self.ub += [ub] * count
        self.cost += [cost] * count
        return self.col[key]

    def row(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append((coefs, lo, hi))
        self._constraints = None

    def constraints(self) -> LinearConstraint:
        """The rows as one sparse constraint (built once, reused by every re-solve)."""
        if getattr(self, "_constraints", None) is None:
            a = lil_matrix((len(self.rows), self.nvar))
            lo, hi = np.empty(len(self.rows)), np.empty(len(self.rows))
            for r, (coefs, l_, h_) in enumerate(self.rows):
                for j, v in coefs.items():
                    a[r, j] = v
                lo[r], hi[r] = l_, h_
            self._constraints = LinearConstraint(a.tocsr(), lo, hi)
        return self._constraints

    # linear expressions of one cluster's counts and ratios
    def N(self, k, s=1.0): return {self.col["y", k] + j: s * v for j, v in enumerate(self.n_opts[k])}
    def S(self, k, s=1.0): return {self.col["S", k] + j: s for j in range(len(self.n_opts[k]))}
    def R(self, k, s=1.0): return {self.col["z", k] + j: s * r for j, r in enumerate(self.r_opts[k])}
    def K(self, k, s=1.0): return {self.col["K", k] + j: s for j in range(len(self.r_opts[k]))}
    def ipm(self, k, s=1.0): return {self.col["y", k] + j: s * v / self.inp.popm[k] for j, v in enumerate(self.n_opts[k])}
    def spr(self, k, s=1.0): return {self.col["K", k] + j: s / r for j, r in enumerate(self.r_opts[k])}
    def spi(self, k, s=1.0): return {self.col["S", k] + j: s / v for j, v in enumerate(self.n_opts[k])}


def merge(*parts: dict[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for p in parts:
        for a, b in p.items():
            out[a] = out.get(a, 0.0) + b
    return out


def options(inp: Inputs, start: dict[str, np.ndarray] | None,
            narrow: bool = False) -> tuple[list[list[int]], list[list[int]]]:
    """Candidate member and research counts per cluster around the builder's plan (``narrow``:
    members as planned, except the two small clusters and Vancouver, which must leave
    Karlsruhe room in Figure 11's top 10)."""
    n_opts, r_opts = [], []
    for k, c in enumerate(inp.clusters):
        base = int(inp.plan["N"][k])
        if c == "Toronto–Waterloo Corridor":
            ns = [30]
        elif c in SMALL:
            ns = [10, 11, 12]
        elif narrow:
            ns = [40, 42] if c == "Metro Vancouver" else [base]
        else:
            ns = sorted({int(round(base * f)) for f in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5)})
            ns = [v for v in ns if inp.n_low[k] <= v <= inp.n_up[k]] or [base]
            if c in HALF_TIE:
                ns = sorted({v + v % 2 for v in ns})
            if c == BRISTOL_BATH:
                ns = [v for v in range(max(11, inp.n_low[k]), inp.n_up[k] + 1)
                      if 0.635 <= round(0.64 * v) / v < 0.645 and 0.5 * base <= v <= 1.5 * base]
        lo = max(1, int(inp.named["research"][k]), 5 if c in inp.just_under_1 else 1)
        r0 = int(inp.plan["R"][k])
        rs = {1} if c == "Oxford" else {2} if c == "Cambridge" else \
            {v for v in {int(round(r0 * f)) for f in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2)}
             | {lo, lo + 1, lo + 2} if v >= lo}
        if start is not None:
            ns = sorted(set(ns) | {int(start["N"][k])})
            rs |= {int(start["R"][k])}
        n_opts.append(ns)
        r_opts.append(sorted(rs))
    return n_opts, r_opts


def build_model(inp: Inputs, n_opts, r_opts, *, close: bool = False) -> Model:
    """``close``: no Table A orders; minimise how far the ranks move from the builder's plan instead."""
    m = Model(inp, n_opts, r_opts)
    n = len(inp.clusters)
    ix = inp.index
    for k in range(n):
        n0, r0 = inp.plan["N"][k], max(1, inp.plan["R"][k])
        m.add(("y", k), len(n_opts[k]))
        for j, v in enumerate(n_opts[k]):
            m.cost[m.col["y", k] + j] = abs(math.log(v / n0))
        m.add(("S", k), len(n_opts[k]))
        for j, v in enumerate(n_opts[k]):
            m.ub[m.col["S", k] + j] = v
        m.add(("z", k), len(r_opts[k]))
        for j, r in enumerate(r_opts[k]):
            m.cost[m.col["z", k] + j] = abs(r - r0) if close else 0.5 * abs(math.log(r / r0))
        m.add(("K", k), len(r_opts[k]), ub=K_MAX)
    # one choice each; split counts live on the chosen option; count rules
    for k, c in enumerate(inp.clusters):
        m.row({m.col["y", k] + j: 1 for j in range(len(n_opts[k]))}, 1, 1)
        m.row({m.col["z", k] + j: 1 for j in range(len(r_opts[k]))}, 1, 1)
        for j, v in enumerate(n_opts[k]):
            m.row({m.col["S", k] + j: 1, m.col["y", k] + j: -v}, -np.inf, 0)
            if c in HALF_TIE:
                m.row({m.col["S", k] + j: 1, m.col["y", k] + j: -v / 2}, 0, 0)
            if c == BRISTOL_BATH:
                m.row({m.col["S", k] + j: 1, m.col["y", k] + j: -0.635 * v}, 0, np.inf)
                m.row({m.col["S", k] + j: 1, m.col["y", k] + j: -0.6449 * v}, -np.inf, 0)
        for j, r in enumerate(r_opts[k]):
            m.row({m.col["K", k] + j: 1, m.col["z", k] + j: -K_MAX}, -np.inf, 0)
            if c in inp.just_under_1:
                m.row({m.col["K", k] + j: 1, m.col["z", k] + j: -math.ceil(0.8 * r)}, 0, np.inf)
                m.row({m.col["K", k] + j: 1, m.col["z", k] + j: -(r - 1)}, -np.inf, 0)
        nm = inp.named
        m.row(m.S(k), inp.s_low[k], np.inf)
        m.row(m.K(k), nm["spinout"][k], np.inf)
        m.row(merge(m.K(k), m.S(k, -1)), -np.inf, -(nm["startup"][k] - nm["spinout"][k]))
        m.row(merge(m.S(k), m.R(k), m.N(k, -1)), -np.inf, -(nm["corporate"][k] + max(nm["government"][k], 1)))
        if c == "Toronto–Waterloo Corridor":
            m.row(m.S(k), 14, 14)
        if c in SMALL:
            m.row(m.S(k), 2, 3)
        if c in ("Oxford", "Cambridge"):
            m.row(m.K(k), 2, np.inf)
    for c in INDUSTRY_LED:  # startups + corporates ahead of research and government
        k = ix(c)
        m.row(merge(m.N(k), m.R(k, -2)), 2 + math.ceil(0.05 * inp.plan["N"][k]), np.inf)
    # pairwise orders per indicator: u = 1 when c ranks above d
    pairs = [(c, d) for c in range(n) for d in range(c + 1, n)]
    half = {ix(c) for c in HALF_TIE}
    rank_terms = [[dict() for _ in range(n)] for _ in ECOSYSTEM]
    rank_const = np.ones((len(ECOSYSTEM), n))
    for i, (ind, f, eps, big) in enumerate(((ECOSYSTEM[0], m.ipm, 1e-4, 200.0), (ECOSYSTEM[1], m.spr, 1e-4, 100.0),
                                            (ECOSYSTEM[2], m.spi, 1e-5, 2.0))):
        u0 = m.add(("u", i), len(pairs))
        for p, (c, d) in enumerate(pairs):
            u = u0 + p
            if ind == "startups_per_institution" and c in half and d in half:
                m.ub[u] = 0
                m.row(merge(f(c), f(d, -1)), 0, 0)
                continue
            m.row(merge(f(c), f(d, -1), {u: -big}), eps - big, np.inf)
            m.row(merge(f(d), f(c, -1), {u: big}), eps, np.inf)
            rank_const[i, c] += 1
            rank_terms[i][c][u] = rank_terms[i][c].get(u, 0) - 1
            rank_terms[i][d][u] = rank_terms[i][d].get(u, 0) + 1
        for k in range(n):
            ok = np.where(inp.allowed[ind][k])[0]
            if len(ok) < n:
                m.row(rank_terms[i][k], ok.min() - rank_const[i, k], ok.max() - rank_const[i, k])
                for r in range(ok.min(), ok.max() + 1):
                    assert r in ok or ind == "startups_per_institution", (inp.clusters[k], ind)
    e0 = m.add("E", n, lb=3, ub=135)
    for k in range(n):
        c0 = rank_const[:, k].sum()
        m.row(merge(*(rank_terms[i][k] for i in range(len(ECOSYSTEM))), {e0 + k: -1}), -c0, -c0)
    if close:  # the builder's ranks where the facts allow: each rank moved costs its distance
        plan_ranks = (rank_min(inp.plan["N"] / inp.popm), rank_min(inp.plan["K"] / inp.plan["R"]),
                      rank_min(inp.plan["S"] / inp.plan["N"]))
        for i, r0 in enumerate(plan_ranks):
            for k in range(n):
                if not rank_terms[i][k]:
                    continue
                p = m.add(("dev", i, k), 2, ub=n, cost=1.0)
                m.row(merge(rank_terms[i][k], {p: -1, p + 1: 1}), r0[k] - rank_const[i, k], r0[k] - rank_const[i, k])
        return m
    for pub, off in ((inp.eco, np.zeros(n)), (inp.overall, inp.other_sums.astype(float))):
        for c, d, tie in order_pairs(pub):
            if tie:
                s = m.add(("slack", len(m.rows)), 2, ub=60, cost=100.0)
                m.row({e0 + c: 1, e0 + d: -1, s: 1, s + 1: -1}, off[d] - off[c], off[d] - off[c])
            else:
                s = m.add(("slack", len(m.rows)), 1, ub=60, cost=100.0)
                m.row({e0 + c: 1, e0 + d: -1, s: -1}, -np.inf, off[d] - off[c] - 1)
    return m


def order_pairs(pub: np.ndarray) -> list[tuple[int, int, bool]]:
    """The pairs a published ranking constrains: ``(c, d, True)`` for a tie (equal sums),
    ``(c, d, False)`` for c in the rank group just above d's (c's sum at least 1 smaller)."""
    n = len(pub)
    levels = sorted(set(pub.tolist()))
    below = {a: b for a, b in zip(levels, levels[1:])}
    return [(c, d, pub[c] == pub[d]) for c in range(n) for d in range(n)
            if (pub[c] == pub[d] and c < d) or below.get(pub[c]) == pub[d]]


def solve(m: Model, fixed: dict[int, dict[str, int]] | None = None, node_limit: int = 400,
          time_limit: float = 3600.0) -> dict[str, np.ndarray] | None:
    """Solve ``m`` with the clusters in ``fixed`` held at the given counts."""
    lb, ub = np.array(m.lb, float), np.array(m.ub, float)
    for k, cnt in (fixed or {}).items():
        for j, v in enumerate(m.n_opts[k]):
            on = int(v == cnt["N"])
            lb[m.col["y", k] + j] = ub[m.col["y", k] + j] = on
            lb[m.col["S", k] + j] = ub[m.col["S", k] + j] = cnt["S"] * on
        for j, r in enumerate(m.r_opts[k]):
            on = int(r == cnt["R"])
            lb[m.col["z", k] + j] = ub[m.col["z", k] + j] = on
            lb[m.col["K", k] + j] = ub[m.col["K", k] + j] = cnt["K"] * on
    res = milp(np.array(m.cost), constraints=m.constraints(), integrality=np.ones(m.nvar),
               bounds=Bounds(lb, ub), options={"node_limit": node_limit, "time_limit": time_limit,
                                                 "disp": False, "mip_rel_gap": 0})
    if res.x is None:
        return None
    x = np.round(res.x).astype(int)
    n = len(m.inp.clusters)
    return {"N": np.array([sum(v * x[m.col["y", k] + j] for j, v in enumerate(m.n_opts[k])) for k in range(n)]),
            "S": np.array([sum(x[m.col["S", k] + j] for j in range(len(m.n_opts[k]))) for k in range(n)]),
            "R": np.array([sum(r * x[m.col["z", k] + j] for j, r in enumerate(m.r_opts[k])) for k in range(n)]),
            "K": np.array([sum(x[m.col["K", k] + j] for j in range(len(m.r_opts[k]))) for k in range(n)])}


def violation(inp: Inputs, cnt: dict[str, np.ndarray]) -> tuple[int, np.ndarray]:
    """Shortfall of Table A's ecosystem and overall orders (rank points), and its share per cluster."""
    e = rank_min(cnt["N"] / inp.popm) + rank_min(cnt["K"] / cnt["R"]) + rank_min(cnt["S"] / cnt["N"])
    n = len(e)
    per = np.zeros(n)
    for pub, score in ((inp.eco, e), (inp.overall, inp.other_sums + e)):
        for c, d, tie in order_pairs(pub):
            v = abs(score[c] - score[d]) if tie else max(0, score[c] - score[d] + 1)
            per[c] += v
            per[d] += v
    return int(per.sum() // 2), per


def search(inp: Inputs, start: dict[str, np.ndarray], iterations: int, seed: int, free: int,
           node_limit: int, checkpoint: Path | None = None, log=print) -> tuple[int, dict[str, np.ndarray]]:
    """Large-neighbourhood search from ``start``; returns the best violation and counts
    (also written to ``checkpoint`` at every improvement)."""
    n_opts, r_opts = options(inp, start)
    m = build_model(inp, n_opts, r_opts)
    rng = np.random.default_rng(seed)
    best, per = violation(inp, start)
    cur = start
    log(f"start: violation {best}")
    t0 = time.time()
    for it in range(1, iterations + 1):
        if best == 0:
            break
        bad = np.flatnonzero(per > 0)
        pick = min(len(bad), free // 2)
        chosen = set(rng.choice(bad, size=pick, replace=False, p=per[bad] / per[bad].sum()).tolist()) if pick else set()
        while len(chosen) < free:
            chosen.add(int(rng.integers(len(inp.clusters))))
        fixed = {k: {key: int(cur[key][k]) for key in "NSRK"} for k in range(len(inp.clusters)) if k not in chosen}
        out = solve(m, fixed, node_limit=node_limit)
        if out is None:
            continue
        v, p = violation(inp, out)
        if v <= best:
            if v < best:
                log(f"iteration {it} ({time.time() - t0:.0f} s): violation {best} -> {v}")
                if checkpoint is not None:
                    write(inp, out, checkpoint)
            best, per, cur = v, p, out
    return best, cur


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
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--seed", type=int, default=20250731)
    ap.add_argument("--free", type=int, default=10, help="clusters re-solved per iteration")
    ap.add_argument("--node-limit", type=int, default=400)
    ap.add_argument("--start", help="resume from a counts CSV (e.g. a --checkpoint of an earlier run)")
    ap.add_argument("--checkpoint", help="keep the best counts so far here, whatever their violation")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    inp = gather()
    if args.start:
        start = read(inp, Path(args.start))
    else:
        n_opts, r_opts = options(inp, None, narrow=True)
        start = solve(build_model(inp, n_opts, r_opts, close=True), node_limit=5000)
        if start is None:
            print("the stated facts admit no counts", file=sys.stderr)
            return 1
    checkpoint = Path(args.checkpoint) if args.checkpoint else None
    best, cnt = search(inp, start, args.iterations, args.seed, args.free, args.node_limit, checkpoint)
    if checkpoint is not None:
        write(inp, cnt, checkpoint)
    if best:
        print(f"violation {best} left: {args.out} not written", file=sys.stderr)
        return 2
    write(inp, cnt, Path(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
