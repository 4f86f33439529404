"""Benchmark: load + rank a large synthetic database (issue 2, "Speed").

    python benchmarks/bench_rank.py                      # full size: 1,000,000 / 5,000,000
    python benchmarks/bench_rank.py --institutions 100000 --collaborations 500000   # quick
    python benchmarks/bench_rank.py --keep /tmp/qcb [--reuse]                      # keep / reuse the data

The synthetic database (seeded, written as CSV to a temporary folder) has institutions
around ``--cities`` city centres (sizes Zipf-like, so a few cities hold tens of thousands
of institutions), each city geocoded to a limited number of distinct sites (about
``--site-factor`` x sqrt(city size), within a few km of the centre), so that many
institutions share identical coordinates, as real geocoded data do; plus 2% scattered
institutions with unique coordinates. Collaborations are 80% within a city, 20% with a
partner in another city chosen in proportion to city size. Startups (15%) and
corporates (5%) get funding rows.

It times (wall clock and CPU) ``load_database`` and each stage of ``pipeline.run`` (via its progress hook) and
``write_result``, records peak resident memory (``resource.getrusage``, this process and
in a child process that does only that), and prints a table. Targets (issue 2): under 60 s and under 8 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TYPES = np.array(["university", "research_institute", "government", "startup", "corporate"])
TYPE_P = np.array([0.45, 0.25, 0.10, 0.15, 0.05])
COUNTRIES = np.array(["US", "CN", "DE", "FR", "GB", "CA", "AU", "JP", "IN", "FI", "NL", "IL", "KR", "BR", "ZA"])
KM_PER_DEG = 6371.0088 * np.pi / 180


def peak_rss_gb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def dense_cities(
    rng: np.random.Generator, n_inst: int, c_lat: np.ndarray, c_lon: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dense layout (issue 14): city sizes Pareto(1.2); half of each city (rounded up)
    on its centre, the rest at |N(0, 8 km)| from it in a uniform direction; coordinates
    rounded to 4 decimals (about 11 m). Returns (lat, lon, city per institution)."""
    n_cities = len(c_lat)
    weights = rng.pareto(1.2, n_cities) + 1.0
    sizes = rng.multinomial(n_inst, weights / weights.sum())
    city = np.repeat(np.arange(n_cities), sizes)
    rank_in_city = np.arange(n_inst) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    at_centre = rank_in_city < (sizes[city] + 1) // 2
    r_km = np.where(at_centre, 0.0, np.abs(rng.normal(0, 8, n_inst)))
    theta = rng.uniform(0, 2 * np.pi, n_inst)
    lat = c_lat[city] + r_km * np.sin(theta) / KM_PER_DEG
    lon = c_lon[city] + r_km * np.cos(theta) / (KM_PER_DEG * np.cos(np.radians(c_lat[city])))
    lat = np.clip(np.round(lat, 4), -90, 90)
    lon = (np.round(lon, 4) + 180) % 360 - 180
    return lat, lon, city


def gentle_cities(
    rng: np.random.Generator, n_inst: int, c_lat: np.ndarray, c_lon: np.ndarray, site_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gentle layout (module docstring): Zipf-like sizes, sqrt-many sites per city, 2%
    scattered institutions (city -1). Returns (lat, lon, city per institution)."""
    n_cities = len(c_lat)
    weights = 1.0 / np.arange(1, n_cities + 1) ** 0.9
    n_scattered = int(0.02 * n_inst)
    sizes = rng.multinomial(n_inst - n_scattered, weights / weights.sum())
    city_of = np.repeat(np.arange(n_cities), sizes)
    # sites per city: about site_factor * sqrt(size), a few km around the centre
    n_sites = np.maximum(1, np.ceil(site_factor * np.sqrt(sizes))).astype(int)
    site_start = np.concatenate([[0], np.cumsum(n_sites)[:-1]])
    site_city = np.repeat(np.arange(n_cities), n_sites)
    r_km = np.abs(rng.normal(0, 5, len(site_city)))
    theta = rng.uniform(0, 2 * np.pi, len(site_city))
    s_lat = c_lat[site_city] + r_km * np.sin(theta) / KM_PER_DEG
    s_lon = c_lon[site_city] + r_km * np.cos(theta) / (KM_PER_DEG * np.cos(np.radians(c_lat[site_city])))
    pick = site_start[city_of] + (rng.random(len(city_of)) * n_sites[city_of]).astype(int)
    lat = np.round(np.concatenate([s_lat[pick], np.degrees(np.arcsin(rng.uniform(-0.7, 0.9, n_scattered)))]), 5)
    lon = np.round(np.concatenate([s_lon[pick], rng.uniform(-180, 180, n_scattered)]), 5)
    lon = (lon + 180) % 360 - 180
    lat = np.clip(lat, -90, 90)
    city_all = np.concatenate([city_of, np.full(n_scattered, -1)])
    return lat, lon, city_all


def generate(
    n_inst: int, n_coll: int, n_cities: int, site_factor: float, seed: int, dense: bool = False
) -> dict[str, pd.DataFrame]:
    """The four tables of a synthetic database (see the module docstring)."""
    rng = np.random.default_rng(seed)
    # city centres, uniform on the sphere between 45 S and 65 N
    z = rng.uniform(np.sin(np.radians(-45)), np.sin(np.radians(65)), n_cities)
    c_lat = np.degrees(np.arcsin(z))
    c_lon = rng.uniform(-180, 180, n_cities)
    if dense:
        lat, lon, city_all = dense_cities(rng, n_inst, c_lat, c_lon)
    else:
        lat, lon, city_all = gentle_cities(rng, n_inst, c_lat, c_lon, site_factor)
    n = len(lat)
    order = rng.permutation(n)  # file order differs from id order
    ids = np.char.add("i", np.char.zfill(np.arange(n).astype(str), 7))
    types = rng.choice(TYPES, size=n, p=TYPE_P)
    country = COUNTRIES[np.where(city_all >= 0, city_all, rng.integers(0, n_cities, n)) % len(COUNTRIES)]
    days = rng.integers(0, 20 * 365, n)
    active = (np.datetime64("2005-01-01") + days.astype("timedelta64[D]")).astype(str)
    research = np.flatnonzero(np.isin(types, ["university", "research_institute"]))
    spin = np.full(n, "", dtype=object)
    startups = np.flatnonzero(types == "startup")
    has_parent = startups[rng.random(len(startups)) < 0.3]
    spin[has_parent] = ids[rng.choice(research, len(has_parent))]
    institutions = pd.DataFrame(
        {
            "institution_id": ids,
            "name": np.char.add("Institution ", ids),
            "type": types,
            "lat": lat,
            "lon": lon,
            "city": np.where(city_all >= 0, np.char.add("City ", city_all.astype(str)), ""),
            "country": country,
            "active_since": active,
            "spinout_of": spin,
        }
    ).iloc[order]

    # funding: startups (60% funded, 1-4 rounds) and corporates (commitments)
    funded = np.flatnonzero(np.isin(types, ["startup", "corporate"]))
    funded = funded[rng.random(len(funded)) < 0.6]
    rounds = rng.integers(1, 5, len(funded))
    f_inst = np.repeat(funded, rounds)
    kind = np.where(
        types[f_inst] == "startup",
        rng.choice(["vc", "equity", "debt", "grant"], len(f_inst), p=[0.6, 0.15, 0.1, 0.15]),
        "corporate",
    )
    f_days = rng.integers(0, 20 * 365, len(f_inst))
    funding = pd.DataFrame(
        {
            "funding_id": np.char.add("f", np.arange(len(f_inst)).astype(str)),
            "institution_id": ids[f_inst],
            "date": (np.datetime64("2005-06-01") + f_days.astype("timedelta64[D]")).astype(str),
            "amount_usd": np.round(rng.lognormal(np.log(3e6), 1.2, len(f_inst)), 2),
            "kind": kind,
        }
    )

    # collaborations: 80% inside a city, 20% to a partner chosen by city size
    by_city = np.argsort(city_all, kind="stable")
    city_sorted = city_all[by_city]
    first = np.searchsorted(city_sorted, np.arange(n_cities))
    count = np.searchsorted(city_sorted, np.arange(n_cities), side="right") - first
    a = rng.integers(0, n, n_coll)
    local = (rng.random(n_coll) < 0.8) & (city_all[a] >= 0)
    ca = np.where(city_all[a] >= 0, city_all[a], 0)
    b_local = by_city[first[ca] + (rng.random(n_coll) * count[ca]).astype(int)]
    b_far = rng.integers(0, n, n_coll)
    b = np.where(local, b_local, b_far)
    same = a == b
    b[same] = (b[same] + 1) % n
    c_days = rng.integers(0, 20 * 365, n_coll)
    collaborations = pd.DataFrame(
        {
            "collaboration_id": np.char.add("c", np.arange(n_coll).astype(str)),
            "institution_a": ids[a],
            "institution_b": ids[b],
            "date": (np.datetime64("2005-06-01") + c_days.astype("timedelta64[D]")).astype(str),
        }
    )
    # active_since must not matter for validity; collaborations may predate it (allowed)

    areas = pd.DataFrame(
        {
            "area_id": np.char.add("a", np.arange(n_cities).astype(str)),
            "name": np.char.add("Area ", np.arange(n_cities).astype(str)),
            "country": COUNTRIES[np.arange(n_cities) % len(COUNTRIES)],
            "lat": np.round(c_lat, 5),
            "lon": np.round(c_lon, 5),
            "population": np.round(rng.uniform(2e5, 2e7, n_cities)),
            "gdp_usd": np.round(rng.uniform(1e10, 2e12, n_cities)),
            "ecosystem_value_usd": "",
        }
    )
    return {"institutions": institutions, "funding": funding, "collaborations": collaborations, "areas": areas}


def write_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def timed_run(data: Path, out: Path, draws: int) -> dict:
    """Load + rank + write in this process; returns timings and peak RSS (run in a child
    process so that the generator's memory is not counted)."""
    from quantumclusters.pipeline import run, write_result
    from quantumclusters.schema import load_database

    timings: list[tuple[str, float, float]] = []  # (stage, wall seconds, CPU seconds)

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    w0, c0 = clock()
    db = load_database(data)
    w1, c1 = clock()
    timings.append(("load_database (read + validate)", w1 - w0, c1 - c0))
    marks: list[tuple[str, float, float]] = []
    result = run(db, "2025-07-31", draws=draws, progress=lambda s, d, t: marks.append((s, *clock())))
    for (stage, wa, ca), (_, wb, cb) in zip(marks, marks[1:]):
        timings.append((f"run: {stage}", wb - wa, cb - ca))
    w2, c2 = clock()
    timings.append(("run (total)", w2 - w1, c2 - c1))
    write_result(result, out)
    w3, c3 = clock()
    timings.append(("write_result", w3 - w2, c3 - c2))
    total, total_cpu = w3 - w0, c3 - c0
    return {
        "timings": timings,
        "total": total,
        "total_cpu": total_cpu,
        "peak_rss_gb": peak_rss_gb(),
        "institutions": len(db.institutions),
        "collaborations": len(db.collaborations),
        "funding": len(db.funding),
        "areas": len(db.areas),
        "counted_institutions": len(result.db.institutions),
        "counted_collaborations": len(result.db.collaborations),
        "clusters": len(result.clusters),
        "quasi_clusters": len(result.quasi_clusters),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--institutions", type=int, default=1_000_000)
    parser.add_argument("--collaborations", type=int, default=5_000_000)
    parser.add_argument("--cities", type=int, default=3000)
    parser.add_argument("--site-factor", type=float, default=2.0, help="distinct sites per city ~ factor * sqrt(size)")
    parser.add_argument(
        "--dense", action="store_true", help="dense layout: Pareto(1.2) cities, half on the centre, ~500k distinct points"
    )
    parser.add_argument("--draws", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20250731)
    parser.add_argument("--keep", type=Path, default=None, help="write the database and results here (kept)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: reuse a database generated there before (no generation)"
    )
    parser.add_argument("--timed-run", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.timed_run is not None:  # child process: load + rank + write, report as JSON
        print(json.dumps(timed_run(args.timed_run / "data", args.timed_run / "out", args.draws)))
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="qc-bench-"))
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        if args.reuse and args.keep is not None and (data / "institutions.csv").exists():
            coords = pd.read_csv(data / "institutions.csv", usecols=["lat", "lon"])
            n_distinct = coords.drop_duplicates().shape[0]
        else:
            tables = generate(
                args.institutions, args.collaborations, args.cities, args.site_factor, args.seed, dense=args.dense
            )
            write_csvs(tables, data)
            n_distinct = tables["institutions"][["lat", "lon"]].drop_duplicates().shape[0]
            del tables
        t_gen = time.perf_counter() - t0
        load_before = os.getloadavg()
        child = subprocess.run(
            [sys.executable, __file__, "--timed-run", str(work), "--draws", str(args.draws)],
            check=True,
            capture_output=True,
            text=True,
        )
        rep = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    print(f"synthetic database: {rep['institutions']:,} institutions ({n_distinct:,} distinct coordinates), "
          f"{rep['collaborations']:,} collaborations, {rep['funding']:,} funding rows, {rep['areas']:,} areas "
          f"({'reused' if args.reuse else 'generated and written'} in {t_gen:.1f} s, not timed)")
    print(f"counted at 2025-07-31: {rep['counted_institutions']:,} institutions, "
          f"{rep['counted_collaborations']:,} collaborations -> {rep['clusters']:,} clusters, "
          f"{rep['quasi_clusters']:,} quasi-clusters; Monte Carlo draws: {args.draws:,}; cores: {os.cpu_count()}")
    print()
    print(f"| {'stage':<34} | {'wall s':>8} | {'CPU s':>8} |")
    print(f"|{'-' * 36}|{'-' * 10}|{'-' * 10}|")
    for stage, wall, cpu in rep["timings"]:
        print(f"| {stage:<34} | {wall:8.2f} | {cpu:8.2f} |")
    print(f"| {'load + rank + write (total)':<34} | {rep['total']:8.2f} | {rep['total_cpu']:8.2f} |")
    audit = [(wall, cpu) for stage, wall, cpu in rep["timings"] if stage == "run: audit"]
    if audit:  # the Annex 1 audit came after issue 14's target: shown apart as well
        wall, cpu = audit[0]
        label = "total without the audit"
        print(f"| {label:<34} | {rep['total'] - wall:8.2f} | {rep['total_cpu'] - cpu:8.2f} |")
    print()
    load = os.getloadavg()
    print(f"load average before the run (1, 5, 15 min): {load_before[0]:.1f}, {load_before[1]:.1f}, "
          f"{load_before[2]:.1f}; when done: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} "
          f"on {os.cpu_count()} cores (other processes slow the wall-clock figures; the CPU column is this run's own work)")
    print(f"peak RSS of the load + rank + write process: {rep['peak_rss_gb']:.2f} GB")
    ok = rep["total"] < 60 and rep["peak_rss_gb"] < 8
    print("targets (< 60 s, < 8 GB):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
