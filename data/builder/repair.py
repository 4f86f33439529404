"""Make the RANK-SOLVER's target ranks realisable with real populations and GDPs.

The solver (``solve_ranks.py``) finds nine indicator rankings that reproduce Table A, but it
does not know the areas' populations and GDPs, nor all the sizes the paper states
(Toronto-Waterloo has 30 institutions, Karlsruhe and Adelaide only a handful). Some of its
rankings can then not be realised by records: e.g. Toronto-Waterloo (3.4 million people, 30
institutions) third by institutions per million people, or Bristol-Bath 43rd by startup
funding relative to GDP, which would put a dozen clusters with far larger economies and far
smaller funding above it.

``repair_targets`` changes as few positions as possible **inside a dimension, keeping each
cluster's sum of the three indicator ranks of that dimension** (so every dimension score,
hence every dimension rank and overall rank of Table A, stays exactly the same) and keeps the
solver's rank facts (its allowed positions). It is a seeded simulated annealing over swaps of
two clusters in one indicator, with vectorised feasibility checks. Every change is logged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def interval_violations(values_rank: np.ndarray, lo: np.ndarray, hi: np.ndarray, gap: float) -> float:
    """Clusters where a decreasing sequence in rank order (rank 1 highest) with log-values in
    [lo, hi] and log-gap ``gap`` between neighbours cannot exist (bottom-up greedy, no reset)."""
    order = np.argsort(-values_rank, kind="stable")  # worst first
    l = lo[order]
    h = hi[order]
    k = np.arange(len(order))
    w = np.maximum.accumulate(l - k * gap) + k * gap
    excess = w - h
    return float(np.count_nonzero(excess > 1e-12) + 3.0 * np.clip(excess, 0, None).sum())


def repair_dimension(free: list[str], fixed_sum: np.ndarray, target: np.ndarray, ranks0: dict[str, np.ndarray],
                     allowed: dict[str, np.ndarray], position_rank: dict[str, np.ndarray],
                     check: Callable[[dict[str, np.ndarray]], int], seed: int, iters: int = 40000) -> dict[str, np.ndarray]:
    """Moves that keep every cluster's rank-sum: (1) swap two clusters with equal partial sums
    in two indicators; (2) a cycle of three swaps a<->b in i, a<->c in j, b<->c in k whose
    rank changes cancel. Only moves that respect the allowed positions are tried."""
    rng = np.random.default_rng(seed)
    n = len(target)
    pos = {i: np.empty(n, dtype=int) for i in free}
    for i in free:
        order = np.lexsort((np.arange(n), ranks0[i]))
        pos[i][order] = np.arange(n)
    orig = {i: pos[i].copy() for i in free}
    at = {i: np.argsort(pos[i]) for i in free}  # position -> cluster

    def rv(i: str, c: int) -> int:
        return int(position_rank[i][pos[i][c]])

    def ok(i: str, c: int) -> bool:
        return bool(allowed[i][c, pos[i][c]])

    def swap(i: str, a: int, b: int) -> None:
        pos[i][a], pos[i][b] = pos[i][b], pos[i][a]
        at[i][pos[i][a]] = a
        at[i][pos[i][b]] = b

    def undo(done: list[tuple[str, int, int]]) -> None:
        for k, u, v in reversed(done):
            swap(k, u, v)

    def cost() -> tuple[float, int]:
        r = {i: position_rank[i][pos[i]] for i in free}
        viol = check(r)
        move = sum(int(np.count_nonzero(pos[i] != orig[i])) for i in free)
        return 300.0 * viol + move, viol

    def sums_ok() -> bool:
        return bool(np.all(fixed_sum + sum(position_rank[i][pos[i]] for i in free) == target))

    cur, viol = cost()
    if viol == 0 or len(free) < 2:
        return {i: ranks0[i] for i in free}
    best, best_pos = cur, {i: pos[i].copy() for i in free}
    for it in range(iters):
        temp = 30.0 * (1 - it / iters) + 0.05
        done: list[tuple[str, int, int]] = []
        if rng.random() < 0.5:
            i, j = rng.choice(free, size=2, replace=False)
            a = int(rng.integers(0, n))
            part = position_rank[i][pos[i]] + position_rank[j][pos[j]]
            cands = np.nonzero((part == part[a]) & (np.arange(n) != a))[0]
            if len(cands) == 0:
                continue
            b = int(cands[int(rng.integers(0, len(cands)))])
            for k in (i, j):
                swap(k, a, b)
                done.append((k, a, b))
        else:
            i = free[int(rng.integers(0, len(free)))]
            a, b = (int(x) for x in rng.choice(n, size=2, replace=False))
            x = rv(i, b) - rv(i, a)
            if x == 0:
                continue
            swap(i, a, b)
            done.append((i, a, b))
            j = free[int(rng.integers(0, len(free)))]
            want = rv(j, a) - x
            cands = [c for c in range(n) if c not in (a, b) and rv(j, c) == want]
            if not cands:
                undo(done)
                continue
            c = cands[int(rng.integers(0, len(cands)))]
            swap(j, a, c)
            done.append((j, a, c))
            ks = [k for k in free if rv(k, c) - rv(k, b) == x]
            if not ks:
                undo(done)
                continue
            k = ks[int(rng.integers(0, len(ks)))]
            swap(k, b, c)
            done.append((k, b, c))
        touched = {(k, u) for k, u, v in done} | {(k, v) for k, u, v in done}
        if not all(ok(k, u) for k, u in touched) or not sums_ok():
            undo(done)
            continue
        new, _ = cost()
        if new <= cur or rng.random() < math.exp((cur - new) / temp):
            cur = new
            if new < best:
                best, best_pos = new, {k: pos[k].copy() for k in free}
        else:
            undo(done)
    return {i: position_rank[i][best_pos[i]] for i in free}


# ------------------------------------------------------------------ the builder's checks
#: European clusters (beyond the anchored top 11) that may out-fund Toronto-Waterloo and so
#: take at least 2/3 of Boston's funding each (see ``make_checks``)
EUROPE_ABOVE_TORONTO_MAX = 1
EXACT = [False]  # phase 2 of the search: check with the builder's own integer realisation
T_BY_POSITION = {1: 6.21e9, 2: 2.55e9, 3: 2.15e9, 4: 1.36e9, 5: 1.22e9, 6: 0.82e9, 7: 0.60e9, 8: 0.53e9,
                 9: 0.47e9, 10: 0.4222e9, 11: 0.4195e9, 12: 0.40e9, 20: 0.20e9, 30: 0.09e9, 38: 0.045e9, 45: 0.014e9}


def make_checks(clusters: list[str], gdp: dict[str, float], pop: dict[str, float], n_lo: dict[str, int],
                n_fixed: dict[str, int], n_named: dict[str, int], s_named: dict[str, int],
                n_counts: dict | None = None, nspin: dict | None = None) -> dict[str, Callable]:
    """Vectorised realisability checks for market orientation and ecosystem maturity."""
    n = len(clusters)
    ix = {c: k for k, c in enumerate(clusters)}
    G = np.array([gdp[c] for c in clusters])
    P = np.array([pop[c] / 1e6 for c in clusters])
    xs = np.array(sorted(T_BY_POSITION))
    t_tab = np.exp(np.interp(np.arange(1, n + 1), xs, np.log([T_BY_POSITION[x] for x in xs])))
    f_lo = np.log(12e6 / G)
    f_lo[ix["Cambridge"]] = max(f_lo[ix["Cambridge"]], math.log(0.01305))
    m_lo = np.log(2.0 / (G / 1e12))
    n_lo_arr = np.array([n_lo[c] for c in clusters], float)
    d_lo = np.log(n_lo_arr / P)
    d_hi = np.log(np.maximum(n_lo_arr, np.minimum(260.0, 60.0 + 20.0 * P)) / P)
    for c, k in n_fixed.items():
        lo_k, hi_k = (k, k) if isinstance(k, int) else k
        d_lo[ix[c]], d_hi[ix[c]] = math.log(lo_k / P[ix[c]]), math.log(hi_k / P[ix[c]])
    s_lo = np.full(n, math.log(0.02))
    s_hi = np.full(n, math.log(0.49))
    t = ix["Toronto–Waterloo Corridor"]
    import plan as planmod

    europe = np.array([c in planmod.EUROPE for c in clusters])
    s_lo[t] = s_hi[t] = math.log(14 / 30)
    for c in ("Karlsruhe", "Greater Adelaide"):
        s_lo[ix[c]], s_hi[ix[c]] = math.log(2 / 30), math.log(0.46)

    def mo(r: dict[str, np.ndarray]) -> int:
        tf = r["total_funding_usd"]
        f_hi = np.log(t_tab[np.clip(tf, 1, n) - 1] / (1.03 * G))
        bad = interval_violations(r["startup_funding_to_gdp"].astype(float), f_lo, f_hi, math.log(1.01))
        m = r["industry_collaborations_per_tn_gdp"]
        m_hi = np.where(m <= 10, 50.0, math.log(236.0))
        bad += interval_violations(m.astype(float), m_lo, m_hi, math.log(1.004))
        # Toronto-Waterloo's funding is "comparable to" Boston's (>= 2/3 of it, section 2.2):
        # every cluster ranked above Toronto then takes at least that much, and the Bay Area
        # is still "nearly twice" Europe's total only if few European clusters sit there
        above = (tf > 11) & (tf < tf[t]) & europe
        bad += 10.0 * max(0, int(np.count_nonzero(above)) - EUROPE_ABOVE_TORONTO_MAX)
        return bad

    def em(r: dict[str, np.ndarray]) -> float:
        bad = interval_violations(r["institutions_per_million"].astype(float), d_lo, d_hi, 0.0)
        s = r["startups_per_institution"]
        mask = s > 2
        bad += interval_violations(s[mask].astype(float), s_lo[mask], s_hi[mask], 0.0)
        if bad > 0 or not EXACT[0]:
            return bad + (5.0 if EXACT[0] else 0.0)
        # exact: the builder's own integer realisation of sizes and startups
        sink: list[str] = []
        members, startups = planmod.plan_members_startups(
            clusters, {c: int(r["institutions_per_million"][k]) for k, c in enumerate(clusters)},
            {c: int(s[k]) for k, c in enumerate(clusters)}, pop, n_named, s_named, None, sink)
        bad = sum(1.0 for x in sink if "not realisable" in x or "no member count" in x)
        if n_counts is not None:
            bad += planmod.spinout_feasibility(
                clusters, {c: int(r["spinouts_per_research_institution"][k]) for k, c in enumerate(clusters)},
                members, startups, n_counts, nspin)
        return bad

    return {"market_orientation": mo, "ecosystem_maturity": em}


def repair_targets(ranks_by_cluster: dict[str, dict[str, int]], clusters: list[str], dimensions: dict[str, list[str]],
                   gdp: dict[str, float], pop: dict[str, float], n_lo: dict[str, int], n_fixed: dict[str, int],
                   n_named: dict[str, int], s_named: dict[str, int],
                   log: list[str], seed: int = 20250731, n_counts: dict | None = None,
                   nspin: dict | None = None) -> dict[str, dict[str, int]]:
    """Repair market-orientation and ecosystem-maturity targets that cannot be realised (see
    the module doc). Returns ranks by cluster."""
    n = len(clusters)
    by_ind = {i: np.array([ranks_by_cluster[c][i] for c in clusters]) for inds in dimensions.values() for i in inds}
    allowed = {i: np.ones((n, n), dtype=bool) for i in by_ind}
    position_rank = {i: np.arange(1, n + 1) for i in by_ind}
    try:
        import solve_ranks as solver  # the RANK-SOLVER's facts (allowed positions, tied positions)

        code = {name: c for c, name in solver.NAMES.items()}
        for i in by_ind:
            if i in getattr(solver, "POSITION_RANK", {}):
                position_rank[i] = np.array(solver.POSITION_RANK[i])
            for k, c in enumerate(clusters):
                ok = solver.allowed_positions(i, code[c])
                allowed[i][k, :] = False
                allowed[i][k, [p - 1 for p in ok]] = True
    except Exception as exc:  # noqa: BLE001 - the solver is another helper's work in progress
        log.append(f"repair: solver facts unavailable ({exc!r}); only the sums are kept")
    # facts the paper states that the solver's list may lack (section 5.1): the Bay Area and
    # Boston are not in the top 10 by institutions per million people
    for c in ("San Francisco Bay Area", "Greater Boston"):
        allowed["institutions_per_million"][clusters.index(c), :10] = False
    checks = make_checks(clusters, gdp, pop, n_lo, n_fixed, n_named, s_named, n_counts, nspin)
    for dim, check in checks.items():
        inds = list(dimensions[dim])
        free = [i for i in inds if i != "brokerage"]
        before = check({i: by_ind[i] for i in inds})
        if before == 0:
            continue
        fixed_sum = sum((by_ind[i] for i in inds if i not in free), np.zeros(n, dtype=int))
        target = sum(by_ind[i] for i in inds)
        new, after = None, None
        EXACT[0] = False
        for attempt in range(30):
            cand = repair_dimension(free, fixed_sum, target, by_ind, allowed, position_rank, check, seed + attempt)
            v = check({**{i: by_ind[i] for i in inds}, **cand})
            if after is None or v < after:
                new, after = cand, v
            if v == 0:
                break
        if dim == "ecosystem_maturity":
            EXACT[0] = True
            start = {**by_ind, **new}
            after = check({i: start[i] for i in inds})
            for attempt in range(40):
                if after == 0:
                    break
                cand = repair_dimension(free, fixed_sum, target, start, allowed, position_rank, check,
                                        seed + 100 + attempt, iters=3000)
                v = check({**{i: start[i] for i in inds}, **cand})
                if v < after:
                    new, after = cand, v
                    start = {**by_ind, **new}
            EXACT[0] = False
        sums_ok = bool(np.all(fixed_sum + sum(new[i] for i in free) == target))
        changed = [(i, clusters[k], int(by_ind[i][k]), int(new[i][k])) for i in free for k in range(n)
                   if new[i][k] != by_ind[i][k]]
        log.append(f"repair {dim}: {before} realisability problems -> {after}; {len(changed)} indicator ranks moved; "
                   f"dimension rank-sums kept: {sums_ok}")
        for i, c, a, b in changed:
            log.append(f"    {i}: {c} {a} -> {b}")
        if sums_ok:
            by_ind.update(new)
        else:
            log.append(f"repair {dim}: not applied (sums would change)")
    return {c: {i: int(by_ind[i][k]) for i in by_ind} for k, c in enumerate(clusters)}
