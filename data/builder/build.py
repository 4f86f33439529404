#!/usr/bin/env python
"""Build the bundled record-level database (data/bundled/) in the contract format.

    python data/builder/build.py --out data/bundled

Deterministic (one seeded numpy Generator; byte-identical output on rerun). Writes
institutions.csv, funding.csv, collaborations.csv and areas.csv, each with the extra
columns ``synthetic`` (true/false) and ``source`` (where the record comes from).

What is real (approximate, recalled from public statistics and public company facts,
no internet was used): the areas' centres, population and GDP
(``sources/areas.csv``); the institutions the paper names, with their headquarters,
type, founding year and spin-out parent (``sources/named_institutions.csv``); the
world cities used to scatter institutions outside clusters (``sources/world_cities.csv``,
from GeoNames, CC BY 4.0). Everything else is synthesised: filler institutions, every
funding event, every collaboration and the Startup Genome ecosystem values.

The builder plans per-cluster quantities (``plan.py``) so that the engine, computing
from these records, reproduces the paper's ranking, then realises records. It never
writes a result.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import plan as planmod  # noqa: E402

SEED = 20250731
CUTOFF = dt.date(2025, 7, 31)
SOURCES = HERE / "sources"
TARGETS = HERE / "targets"
PUBLISHED = ROOT / "data" / "published"
EARTH_KM = 6371.0088
TYPES = ("university", "research_institute", "government", "startup", "corporate")
IND = ("startup", "corporate")
RES = ("university", "research_institute")

# Annex 2: share of each type's institutions located in clusters.
IN_CLUSTER_SHARE = {"university": 0.15, "research_institute": 0.31, "government": 0.46, "startup": 0.70, "corporate": 0.61}
# Figure 1: share of company funding in clusters: up to 2023, 2024, 2025 (to 31 July).
FIG1_SHARE = {"upto2023": 0.92, "2024": 0.95, "2025": 0.96}
# Annex 2 / Figure 15: share of funding in clusters by region.
REGION_SHARE = {"China": 0.99, "US": 0.98, "EU": 0.77, "UK, Canada, and Australia": 0.85}
STARTUP_FUNDING_IN_CLUSTERS = 0.94
# Figure 7 note: no Startup Genome ecosystem data for these clusters.
NO_ECOSYSTEM = {"Cambridge", "Canberra", "Greater Glasgow", "Grenoble", "Hefei", "Karlsruhe", "Oxford", "Suzhou"}
# Section 6: Tier-2 quasi-clusters with (very limited) startup activity, and without startups.
QUASI_WITH_STARTUP = {"Daejeon", "Frankfurt Metropolitan Area", "Prague", "Greater Zurich Area", "Los Alamos, NM"}
QUASI_WITHOUT_STARTUP = {"Buenos Aires", "Chennai", "Hanoi", "Rome", "Nanjing", "Sao Paulo", "Warsaw"}
# Box 1: PsiQuantum and D-Wave are the first and fourth best-funded startups; amounts fixed
# here (USD, vc/equity/debt) for the named startups that lead the funding league.
FIXED_STARTUP_FUNDING = {"psiquantum": 1.30e9, "ionq": 0.92e9, "quantinuum": 0.80e9, "dwave": 0.62e9}
OTHER_STARTUP_CAP = 0.50e9
# Where a coastal or water-centred area centre is a poor place for a cloud of fillers.
CLOUD_CENTRE = {
    "San Francisco Bay Area": (37.5000, -122.1500),
    "Greater Helsinki": (60.2100, 24.9000),
    "Tel Aviv Metropolitan Area": (32.0800, 34.8200),
    "Greater Sydney": (-33.8600, 151.1000),
    "Greater Boston": (42.3700, -71.1200),
    "Chicagoland": (41.8800, -87.7200),
    "Barcelona Metropolitan Area": (41.4000, 2.1300),
    "Valencia Metropolitan Area": (39.4800, -0.4000),
    "Greater Copenhagen": (55.6900, 12.5200),
    "Metro Vancouver": (49.2500, -123.0500),
    "Dubai": (25.1700, 55.3300),
    "Shenzhen–Hong Kong–Guangzhou Region": (22.6500, 113.9500),
    "Greater Tokyo": (35.6900, 139.7000),
    "Greater New York": (40.7800, -73.9300),
    "Greater Los Angeles": (34.0500, -118.3000),
    "Singapore": (1.3400, 103.8200),
    "Greater Geneva Bern Area": (46.2100, 6.1500),
}
REGION_OF: dict[str, str] = {}
EU27 = set("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


def region_of(iso: str) -> str:
    if iso == "US":
        return "US"
    if iso in ("CN", "HK", "MO"):
        return "China"
    if iso in EU27:
        return "EU"
    if iso in ("GB", "CA", "AU"):
        return "UK, Canada, and Australia"
    return "Rest of the World"


# --------------------------------------------------------------------------- geometry
def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def offset(lat: float, lon: float, dn_km: float, de_km: float) -> tuple[float, float]:
    return lat + dn_km / 111.195, lon + de_km / (111.195 * math.cos(math.radians(lat)))


def disc_point(rng: np.random.Generator, lat: float, lon: float, radius_km: float) -> tuple[float, float]:
    r = radius_km * math.sqrt(rng.random())
    t = 2 * math.pi * rng.random()
    return offset(lat, lon, r * math.cos(t), r * math.sin(t))


def chain_points(rng, a: tuple[float, float], b: tuple[float, float], spacing: float = 3.6) -> list[tuple[float, float]]:
    """Points every ``spacing`` km between a and b (exclusive), so that DBSCAN with eps 20 km
    and min_samples 10 finds a connected chain of core points."""
    d = float(haversine_km(a[0], a[1], b[0], b[1]))
    n = math.ceil(d / spacing) - 1
    pts = []
    for k in range(1, n + 1):
        t = k / (n + 1)
        lat = a[0] + t * (b[0] - a[0])
        lon = a[1] + t * (b[1] - a[1])
        lat, lon = offset(lat, lon, float(rng.uniform(-0.25, 0.25)), float(rng.uniform(-0.25, 0.25)))
        pts.append((lat, lon))
    return pts


def mst_edges(points: list[tuple[float, float]]) -> list[tuple[int, int, float]]:
    n = len(points)
    if n < 2:
        return []
    inside = {0}
    out = []
    while len(inside) < n:
        best = None
        for i in sorted(inside):
            for j in range(n):
                if j in inside:
                    continue
                d = float(haversine_km(points[i][0], points[i][1], points[j][0], points[j][1]))
                if best is None or d < best[2]:
                    best = (i, j, d)
        inside.add(best[1])
        out.append(best)
    return out


# ----------------------------------------------------------------------------- inputs
def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def fmt_float(x: float, nd: int = 5) -> str:
    s = f"{x:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


# ----------------------------------------------------------------------------- builder
class Builder:
    def __init__(self, seed: int = SEED, targets: Path = TARGETS):
        self.targets = Path(targets)
        # members, startups, research institutions, spinouts per cluster (solve_ecosystem.py)
        self.ecosystem_counts: Path | None = self.targets / "ecosystem_counts.csv"
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.log: list[str] = []
        self.areas = read_csv(SOURCES / "areas.csv")
        self.area = {a["name"]: a for a in self.areas}
        self.named = {r["key"]: r for r in read_csv(SOURCES / "named_institutions.csv")}
        self.cities = read_csv(SOURCES / "world_cities.csv")
        self.table_a = read_csv(PUBLISHED / "table_a.csv")
        self.clusters = [r["cluster"] for r in sorted(self.table_a, key=lambda r: (int(r["overall_rank"]), r["cluster"]))]
        self.quasi1 = [a["name"] for a in self.areas if a["kind"] == "quasi1"]
        self.quasi2 = [a["name"] for a in self.areas if a["kind"] == "quasi2"]
        self.inst: list[dict] = []
        self.funding: list[dict] = []
        self.collab: list[dict] = []
        self.key2id: dict[str, str] = {}
        self.dropped_named: list[dict] = []

    # ------------------------------------------------------------------ targets/plan
    def load_targets(self) -> None:
        t = planmod.read_targets(self.targets / "indicator_ranks.csv", self.clusters)
        e = planmod.read_edges(self.targets / "broker_edges.csv")
        if t is None:
            self.log.append("targets/indicator_ranks.csv missing: using the stand-in ranks")
            t = planmod.standin_targets(self.table_a, self.clusters)
        if e is None:
            self.log.append("targets/broker_edges.csv missing: using the stand-in graph")
            e = planmod.standin_edges(self.clusters, self.rng)
        for c in self.clusters:
            t[c].setdefault("brokerage", 0)
        import repair

        gdp = {c: float(self.area[c]["gdp_usd"]) for c in self.clusters}
        pop = {c: float(self.area[c]["population"]) for c in self.clusters}
        n_named = defaultdict(int)
        for r in self.named.values():
            n_named[r["area"]] += 1
        n_lo = {c: planmod.member_floor(n_named[c]) for c in self.clusters}
        if os.environ.get("BUILDER_NO_REPAIR"):
            self.ranks, self.edges = t, e
            return
        s_named = defaultdict(int)
        n_counts = {c: {t: 0 for t in TYPES} for c in self.clusters}
        nspin = {c: 0 for c in self.clusters}
        for r in self.named.values():
            if r["type"] == "startup":
                s_named[r["area"]] += 1
            if r["area"] in n_counts:
                n_counts[r["area"]][r["type"]] += 1
                if r["type"] == "startup" and r["spinout_of"]:
                    nspin[r["area"]] += 1
        t = repair.repair_targets(t, self.clusters, planmod.DIMENSIONS, gdp, pop, n_lo, dict(planmod.FIXED_MEMBERS),
                                  {c: n_named[c] for c in self.clusters}, {c: s_named[c] for c in self.clusters},
                                  self.log, n_counts=n_counts, nspin=nspin)
        self.ranks, self.edges = t, e

    def make_plan(self) -> None:
        counts = None
        if self.ecosystem_counts is not None and self.ecosystem_counts.exists():
            counts = {r["cluster"]: (int(r["members"]), int(r["startups"]), int(r["research_institutions"]),
                                     int(r["spinouts"])) for r in read_csv(self.ecosystem_counts)}
        self.plans, gdp = planmod.make_plan(self.clusters, self.area, self.ranks, self.edges, self.named, self.log,
                                            counts)
        self.gdp_adjusted = {c: g for c, g in gdp.items() if abs(g - float(self.area[c]["gdp_usd"])) > 1}
        planmod.plan_collaborations(self.clusters, self.plans, self.ranks, self.edges, self.rng, self.log)

    # ------------------------------------------------------------------ institutions
    def add_inst(self, *, name, type_, lat, lon, city, country, since: dt.date, spinout_of="",
                 synthetic=True, source="synthesised filler", group="", status="none", key=None, weight=1.0,
                 chain=False) -> dict:
        rec = {
            "institution_id": f"Q{len(self.inst) + 1:05d}",
            "name": name, "type": type_, "lat": lat, "lon": lon, "city": city, "country": country,
            "active_since": since, "spinout_of": spinout_of, "synthetic": synthetic, "source": source,
            "_group": group, "_status": status, "_weight": weight, "_chain": chain, "_key": key,
        }
        self.inst.append(rec)
        if key:
            self.key2id[key] = rec["institution_id"]
        return rec

    def rand_since(self, type_: str, chain: bool = False) -> dt.date:
        rng = self.rng
        if chain:
            y = int(rng.integers(1996, 2016))
        elif type_ == "startup":
            y = int(min(2025, 2008 + np.floor(17 * rng.random() ** 0.6)))
        elif type_ == "corporate":
            y = int(rng.integers(1998, 2024))
        elif type_ == "government":
            y = int(rng.integers(2000, 2023))
        else:
            y = int(rng.integers(1994, 2022))
        m = int(rng.integers(1, 13))
        d = int(rng.integers(1, 29))
        day = dt.date(y, m, d)
        return min(day, dt.date(2025, 6, 30))

    def named_source(self, r: dict) -> str:
        ref = r["paper_ref"]
        base = f"named in paper {ref}" if "not named" not in ref else f"real institution ({ref})"
        return f"{base}; HQ coordinates, type and founding year approximate (recalled, no lookup)"

    def build_clusters(self) -> None:
        rng = self.rng
        top2 = {r["cluster"]: r for r in read_csv(PUBLISHED / "table_2.csv")}
        top4 = {r["cluster"]: r for r in read_csv(PUBLISHED / "table_4.csv")}
        self.top_named: dict[str, dict[str, list[str]]] = {}
        for c in self.clusters:
            p = self.plans[c]
            a = self.area[c]
            iso = a["country"]
            named = [r for r in self.named.values() if r["area"] == c]
            # the named members that must lead Tables 2 / 4, in order
            lead_ind: list[str] = []
            lead_res: list[str] = []
            alias = {r["alias"]: r["canonical"] for r in read_csv(PUBLISHED / "aliases.csv") if r["kind"] == "institution"}
            if c in top2:
                lead_ind = [alias.get(top2[c][f"industry_{k}"], top2[c][f"industry_{k}"]) for k in (1, 2, 3)]
                lead_res = [alias.get(top2[c][f"research_{k}"], top2[c][f"research_{k}"]) for k in (1, 2, 3)]
            elif c in top4:
                lead_ind = [top4[c]["top_industry_collaborator"]]
                lead_res = [top4[c]["top_research_collaborator"]]
            self.top_named[c] = {"industry": lead_ind, "research": lead_res}
            centre = CLOUD_CENTRE.get(c, (float(a["lat"]), float(a["lon"])))
            n_total = p.members
            while True:
                anchors = [centre] + [(float(r["lat"]), float(r["lon"])) for r in named]
                chains: list[tuple[float, float]] = []
                for i, j, d in mst_edges(anchors):
                    if d > 9.0:
                        chains += chain_points(rng, anchors[i], anchors[j])
                if len(chains) <= n_total - len(named) or len(named) <= 1:
                    break
                # too few members to join a far-away named site: leave the farthest one
                # (not one the tables name) outside the cluster, at its real headquarters
                lead = set(lead_ind) | set(lead_res)
                far = max((r for r in named if r["name"] not in lead),
                          key=lambda r: float(haversine_km(centre[0], centre[1], float(r["lat"]), float(r["lon"]))))
                self.dropped_named.append(far)
                self.log.append(f"{c}: {far['name']} left outside the cluster (too few members to chain it)")
                named = [r for r in named if r is not far]
            # filler types (named members left outside count as the planned type's fillers)
            need = {
                "startup": p.startups, "corporate": p.corporates, "university": p.universities,
                "research_institute": p.institutes, "government": p.government,
            }
            for r in named:
                need[r["type"]] -= 1
            if min(need.values()) < 0:
                raise ValueError(f"{c}: plan has fewer members of a type than named ({need})")
            n_fill = sum(need.values())
            if len(chains) > n_fill:
                raise ValueError(f"{c}: {len(chains)} chain points needed but only {n_fill} fillers planned")
            for r in named:
                w = 2.0
                if r["name"] in lead_ind:
                    w = 40.0 - 8 * lead_ind.index(r["name"])
                if r["name"] in lead_res:
                    nm = r["name"]
                    w = 40.0 - 8 * (lead_res.index(nm) if nm in lead_res else 0)
                self.add_inst(
                    name=r["name"], type_=r["type"], lat=float(r["lat"]), lon=float(r["lon"]), city=r["city"],
                    country=r["country"], since=dt.date(int(r["founded"]), 1, 1), spinout_of=r["spinout_of"],
                    synthetic=False, source=self.named_source(r), group=c, status="cluster", key=r["key"], weight=w,
                )
            types: list[str] = []
            for t in TYPES:
                types += [t] * need[t]
            order = rng.permutation(len(types))
            types = [types[k] for k in order]
            counters: dict[str, int] = defaultdict(int)
            label = {"startup": "quantum startup", "corporate": "corporate quantum unit", "university": "university",
                     "research_institute": "research institute", "government": "government agency"}
            for k, t in enumerate(types):
                if k < len(chains):
                    lat, lon = chains[k]
                    chain = True
                else:
                    if rng.random() < 0.65 or len(anchors) == 1:
                        lat, lon = disc_point(rng, centre[0], centre[1], 5.0)
                    else:
                        an = anchors[1 + int(rng.integers(0, len(anchors) - 1))]
                        lat, lon = disc_point(rng, an[0], an[1], 3.0)
                    chain = False
                counters[t] += 1
                city = a["name"]
                self.add_inst(
                    name=f"{c} {label[t]} #{counters[t]}", type_=t, lat=lat, lon=lon, city=city, country=iso,
                    since=self.rand_since(t, chain), group=c, status="cluster",
                    weight=float(rng.uniform(0.4, 2.2)), chain=chain,
                    source="synthesised filler" + ("; placed on a chain joining the area's sites" if chain else ""),
                )
            # spinouts: named ones first, then filler startups from local research members
            members = [r for r in self.inst if r["_group"] == c]
            have = sum(1 for r in members if r["type"] == "startup" and r["spinout_of"])
            research_ids = [r for r in members if r["type"] in RES]
            research_ids.sort(key=lambda r: (-r["_weight"], r["institution_id"]))
            fill_startups = [r for r in members if r["type"] == "startup" and not r["spinout_of"] and r["synthetic"]]
            for k in range(p.spinouts - have):
                s = fill_startups[k]
                parent = research_ids[k % min(len(research_ids), 3)]
                s["spinout_of"] = parent["institution_id"]
                if s["active_since"] < parent["active_since"]:
                    s["active_since"] = parent["active_since"] + dt.timedelta(days=400)

    def fix_spinout_refs(self) -> None:
        for r in self.inst:
            if r["spinout_of"] and not r["spinout_of"].startswith("Q"):
                r["spinout_of"] = self.key2id[r["spinout_of"]]

    def build_quasi(self) -> None:
        """Quasi-cluster members: 5-14 institutions within ~4 km of the area centre."""
        rng = self.rng
        t7 = {r["quasi_cluster"]: r for r in read_csv(PUBLISHED / "table_7.csv")}
        # outside-cluster pools by type (Annex 2 shares)
        in_counts = {t: sum(1 for r in self.inst if r["_status"] == "cluster" and r["type"] == t) for t in TYPES}
        self.outside_need = {t: int(round(in_counts[t] * (1 - IN_CLUSTER_SHARE[t]) / IN_CLUSTER_SHARE[t])) for t in TYPES}
        used = {t: 0 for t in TYPES}
        self.quasi_tier = {}
        for q in self.quasi1 + self.quasi2:
            a = self.area[q]
            tier = 1 if q in self.quasi1 else 2
            self.quasi_tier[q] = tier
            named = [r for r in self.named.values() if r["area"] == q]
            n = int(rng.integers(6, 13))
            types = [r["type"] for r in named]
            n_start = 0 if tier == 2 and rng.random() < 0.4 else int(rng.integers(1, 3))
            if q in QUASI_WITH_STARTUP:
                n_start = max(n_start, 1)
            if q in QUASI_WITHOUT_STARTUP:
                n_start = 0
            pool = ["university"] * 5 + ["research_institute"] * 3 + ["government"] + ["corporate"]
            while len(types) < n:
                if types.count("startup") < n_start:
                    types.append("startup")
                else:
                    types.append(pool[int(rng.integers(0, len(pool)))])
            for r in named:
                self.add_inst(
                    name=r["name"], type_=r["type"], lat=float(r["lat"]), lon=float(r["lon"]), city=r["city"],
                    country=r["country"], since=dt.date(int(r["founded"]), 1, 1), spinout_of=r["spinout_of"],
                    synthetic=False, source=self.named_source(r), group=q, status="quasi", key=r["key"], weight=3.0,
                )
                used[r["type"]] += 1
            counters: dict[str, int] = defaultdict(int)
            label = {"startup": "quantum startup", "corporate": "corporate quantum unit", "university": "university",
                     "research_institute": "research institute", "government": "government agency"}
            for t in types[len(named):]:
                lat, lon = disc_point(rng, float(a["lat"]), float(a["lon"]), 4.0)
                counters[t] += 1
                used[t] += 1
                self.add_inst(
                    name=f"{q} {label[t]} #{counters[t]}", type_=t, lat=lat, lon=lon, city=q.split(",")[0],
                    country=a["country"], since=self.rand_since(t), group=q, status="quasi",
                    weight=float(rng.uniform(0.6, 2.0)),
                )
            if tier == 1:
                st = t7[q]["startup"]
                self.quasi_lead = getattr(self, "quasi_lead", {})
                self.quasi_lead[q] = st
        self.outside_left = {t: max(0, self.outside_need[t] - used[t]) for t in TYPES}

    def build_scattered(self) -> None:
        """Institutions outside clusters and quasi-clusters, at most 3 per city, cities at
        least 45 km apart and 30 km from every cluster or quasi-cluster member."""
        rng = self.rng
        for r in self.dropped_named:
            self.add_inst(
                name=r["name"], type_=r["type"], lat=float(r["lat"]), lon=float(r["lon"]), city=r["city"],
                country=r["country"], since=dt.date(int(r["founded"]), 1, 1), spinout_of=r["spinout_of"],
                synthetic=False, source=self.named_source(r), group="", status="none", key=r["key"], weight=1.0,
            )
            if self.outside_left.get(r["type"], 0) > 0:
                self.outside_left[r["type"]] -= 1
        pts = np.array([[r["lat"], r["lon"]] for r in self.inst])
        chosen: list[dict] = []
        clat = np.array([]).reshape(0)
        clon = np.array([]).reshape(0)
        need_total = sum(self.outside_left.values())
        n_cities = math.ceil(need_total / 2.2)
        quasi_names = set(self.quasi1 + self.quasi2) | set(self.clusters)
        # order: a shuffled list biased to larger cities
        cities = list(self.cities)
        keys = np.array([math.log(float(c["population"])) + rng.gumbel() * 1.2 for c in cities])
        order = np.argsort(-keys, kind="stable")
        for idx in order:
            c = cities[int(idx)]
            if c["name"] in quasi_names:
                continue
            lat, lon = float(c["lat"]), float(c["lon"])
            if len(pts) and haversine_km(lat, lon, pts[:, 0], pts[:, 1]).min() < 35.0:
                continue
            if len(clat) and haversine_km(lat, lon, clat, clon).min() < 45.0:
                continue
            chosen.append(c)
            clat = np.append(clat, lat)
            clon = np.append(clon, lon)
            if len(chosen) >= n_cities:
                break
        types: list[str] = []
        for t in TYPES:
            types += [t] * self.outside_left[t]
        types = [types[k] for k in rng.permutation(len(types))]
        per_city = [0] * len(chosen)
        k = 0
        counters: dict[str, int] = defaultdict(int)
        label = {"startup": "quantum startup", "corporate": "corporate quantum unit", "university": "university",
                 "research_institute": "research institute", "government": "government agency"}
        for t in types:
            # next city with room (max 3)
            while per_city[k % len(chosen)] >= 3:
                k += 1
            ci = k % len(chosen)
            c = chosen[ci]
            per_city[ci] += 1
            k += 1
            lat, lon = disc_point(rng, float(c["lat"]), float(c["lon"]), 3.0)
            counters[(c["name"], t)] += 1
            self.add_inst(
                name=f"{c['name']} {label[t]} #{counters[(c['name'], t)]}", type_=t, lat=lat, lon=lon,
                city=c["name"], country=c["country"], since=self.rand_since(t), group="", status="none",
                weight=float(rng.uniform(0.5, 1.5)),
                source="synthesised filler; city from GeoNames (CC BY 4.0)",
            )

    # ----------------------------------------------------------------------- funding
    YEAR_W = {2012: 0.25, 2013: 0.3, 2014: 0.4, 2015: 0.6, 2016: 0.8, 2017: 1.2, 2018: 1.8, 2019: 2.4, 2020: 2.8,
              2021: 5.0, 2022: 4.6, 2023: 4.2, 2024: 6.2, 2025: 5.2}

    def rand_date(self, since: dt.date, lo_year: int = 2012) -> dt.date:
        rng = self.rng
        start = max(since, dt.date(lo_year, 1, 1))
        years = [y for y in self.YEAR_W if y >= start.year]
        w = np.array([self.YEAR_W[y] for y in years])
        y = years[int(rng.choice(len(years), p=w / w.sum()))]
        lo = max(start, dt.date(y, 1, 1))
        hi = min(dt.date(y, 12, 31), CUTOFF)
        span = (hi - lo).days
        return lo + dt.timedelta(days=int(rng.integers(0, span + 1)))

    def add_funding(self, inst: dict, amount: float, kind: str, date: dt.date, source: str = "synthesised") -> None:
        self.funding.append({"institution_id": inst["institution_id"], "date": date, "amount_usd": float(amount),
                             "kind": kind, "synthetic": True, "source": source, "_inst": inst})

    def split_rounds(self, inst: dict, amount: float, kinds=("vc", "vc", "vc", "equity", "debt"), max_rounds: int = 5) -> None:
        rng = self.rng
        if amount <= 0:
            return
        n = 1 if amount < 3e6 else int(rng.integers(1, max_rounds + 1))
        w = rng.random(n) + 0.3
        parts = np.round(amount * w / w.sum(), -3)
        parts[-1] = amount - parts[:-1].sum()
        if parts.min() <= 0:
            parts = np.array([amount])
        dates = sorted(self.rand_date(inst["active_since"]) for _ in range(len(parts)))
        for amt, d in zip(parts, dates):
            self.add_funding(inst, float(amt), kinds[int(rng.integers(0, len(kinds)))], d)

    def build_cluster_funding(self) -> None:
        rng = self.rng
        by_group: dict[str, list[dict]] = defaultdict(list)
        for r in self.inst:
            by_group[r["_group"]].append(r)
        for c in self.clusters:
            p = self.plans[c]
            members = by_group[c]
            startups = [r for r in members if r["type"] == "startup"]
            corps = [r for r in members if r["type"] == "corporate"]
            # startup vc/equity/debt: lead startups (named) get the larger shares
            named = [r for r in startups if not r["synthetic"]]
            fill = [r for r in startups if r["synthetic"]]
            n_funded_fill = max(0, min(len(fill), int(round(0.6 * len(fill)))))
            funded = named + fill[:n_funded_fill]
            if len(funded) < 2:
                funded = startups[:2] if len(startups) >= 2 else startups
            fixed = {id(r): FIXED_STARTUP_FUNDING[r["_key"]] for r in funded if r["_key"] in FIXED_STARTUP_FUNDING}
            free = [r for r in funded if id(r) not in fixed]
            w = np.array([(8.0 if not r["synthetic"] else 1.0) * rng.uniform(0.5, 1.5) for r in free])
            if c == "Cambridge":
                # footnote 11: Cambridge Quantum Computing's pre-merger funding counts here
                w = np.array([(20.0 if r["_key"] == "cqc" else ww) for r, ww in zip(free, w)])
            left = p.startup_funding - sum(fixed.values())
            if left <= 0 or not free:
                raise ValueError(f"{c}: startup funding {p.startup_funding:.4g} leaves nothing for the other startups")
            w = w / w.sum()
            amt = left * w
            for _ in range(20):  # cap the others below the fixed leaders (Box 1)
                over = amt > OTHER_STARTUP_CAP
                if not over.any():
                    break
                excess = (amt[over] - OTHER_STARTUP_CAP).sum()
                amt[over] = OTHER_STARTUP_CAP
                room = ~over
                if not room.any():
                    raise ValueError(f"{c}: startup funding cannot stay under the cap")
                amt[room] += excess * w[room] / w[room].sum()
            top = int(np.argmax(amt))
            if amt[top] < 26e6 and p.startup_funding >= 40e6:
                rest = left - 26e6
                others = np.delete(w, top)
                amt = np.zeros(len(w))
                amt[top] = 26e6
                if len(others):
                    amt[np.arange(len(w)) != top] = rest * others / others.sum()
            amt = np.round(amt, -3)
            amt[top] += left - amt.sum()
            for r, a in zip(free, amt):
                if r["_key"] == "cqc":
                    self.cqc_rounds(r, float(a))
                else:
                    self.split_rounds(r, float(a))
            for r in funded:
                if id(r) in fixed:
                    self.fixed_rounds(r, fixed[id(r)])
            startups = [r for r in startups if id(r) not in fixed]
            other = p.total_funding - p.startup_funding
            if other > 0:
                grant_share = 0.15 if corps else 1.0
                g = round(other * grant_share, -3)
                if g > 0:
                    got = defaultdict(float)
                    for f in self.funding:
                        got[f["institution_id"]] += f["amount_usd"]
                    pool_s = [r for r in startups if got[r["institution_id"]] < 0.3e9] or startups
                    k = max(1, min(len(pool_s), int(g // 1.5e6)))
                    rec = [pool_s[int(j)] for j in sorted(rng.choice(len(pool_s), size=k, replace=False))]
                    wg = rng.random(k) + 0.2
                    parts = np.round(g * wg / wg.sum(), -3)
                    parts[0] += g - parts.sum()
                    for r, a in zip(rec, parts):
                        if a > 0:
                            self.split_rounds(r, float(a), kinds=("grant",), max_rounds=2)
                cpart = other - g
                if cpart > 0:
                    k = max(1, min(len(corps), int(cpart // 2e6)))
                    named_c = [r for r in corps if not r["synthetic"]]
                    rest_c = [r for r in corps if r["synthetic"]]
                    order = named_c + [rest_c[int(j)] for j in rng.permutation(len(rest_c))]
                    rec = order[:k]
                    wc = np.array([(6.0 if not r["synthetic"] else 1.0) * rng.uniform(0.5, 1.5) for r in rec])
                    parts = np.round(cpart * wc / wc.sum(), -3)
                    parts[0] += cpart - parts.sum()
                    for r, a in zip(rec, parts):
                        if a > 0:
                            self.split_rounds(r, float(a), kinds=("corporate",), max_rounds=3)

    def fixed_rounds(self, r: dict, amount: float) -> None:
        """Rounds of the startups whose totals Box 1 ranks (PsiQuantum: USD 13 m seed in 2016
        and USD 1.3 bn in all; D-Wave: USD 30 m equity in October 2012)."""
        key = r["_key"]
        src = "synthesised (amounts and dates shaped by the paper's Box 1)"
        if key == "psiquantum":
            plan = [(dt.date(2016, 6, 15), 13e6, "vc"), (dt.date(2019, 11, 20), 150e6, "vc"),
                    (dt.date(2020, 4, 8), 215e6, "vc"), (dt.date(2021, 7, 27), 450e6, "vc")]
            plan.append((dt.date(2025, 3, 10), amount - sum(a for _, a, _ in plan), "equity"))
        elif key == "dwave":
            plan = [(dt.date(2012, 10, 4), 30e6, "equity"), (dt.date(2015, 1, 29), 29e6, "vc"),
                    (dt.date(2017, 4, 12), 50e6, "vc"), (dt.date(2020, 9, 30), 40e6, "debt"),
                    (dt.date(2022, 8, 5), 300e6, "equity")]
            plan.append((dt.date(2025, 1, 30), amount - sum(a for _, a, _ in plan), "equity"))
        else:
            rng = self.rng
            n = 4
            w = rng.random(n) + 0.5
            parts = np.round(amount * w / w.sum(), -3)
            parts[-1] = amount - parts[:-1].sum()
            dates = sorted(self.rand_date(r["active_since"], lo_year=max(2016, r["active_since"].year)) for _ in range(n))
            plan = [(d, float(a), ("vc", "equity", "vc", "equity")[k]) for k, (d, a) in enumerate(zip(dates, parts))]
        for d, a, kind in plan:
            self.add_funding(r, float(a), kind, d, src)

    def cqc_rounds(self, r: dict, amount: float) -> None:
        dates = [dt.date(2016, 5, 10), dt.date(2018, 9, 20), dt.date(2020, 12, 7)]
        parts = [round(amount * 0.1, -3), round(amount * 0.3, -3)]
        parts.append(amount - sum(parts))
        for d, a in zip(dates, parts):
            self.add_funding(r, a, "vc", d, "synthesised (pre-merger rounds of a company the paper names)")

    def bucket(self, d: dt.date) -> str:
        return "upto2023" if d.year <= 2023 else str(d.year)

    def build_outside_funding(self) -> None:
        """Funding outside clusters: Tier-1 quasi startups (USD 5-25 m each), then the
        amounts Figure 1 (by year) and Annex 2 (by region, startups) imply."""
        rng = self.rng
        in_b = defaultdict(float)
        in_r = defaultdict(float)
        startup_in = 0.0
        for f in self.funding:
            in_b[self.bucket(f["date"])] += f["amount_usd"]
            in_r[region_of(f["_inst"]["country"])] += f["amount_usd"]
            if f["_inst"]["type"] == "startup" and f["kind"] in ("vc", "equity", "debt"):
                startup_in += f["amount_usd"]
        out_b = {b: in_b[b] * (1 - s) / s for b, s in FIG1_SHARE.items()}
        total_out = sum(out_b.values())
        out_r = {r: in_r[r] * (1 - s) / s for r, s in REGION_SHARE.items()}
        out_r["Rest of the World"] = total_out - sum(out_r.values())
        if out_r["Rest of the World"] < 0.05 * total_out:
            planmod.CONFLICTS.append(f"outside funding by region exceeds the yearly total: {out_r}; scaled down")
            k = 0.95 * total_out / sum(v for r, v in out_r.items() if r != "Rest of the World")
            out_r = {r: v * k for r, v in out_r.items()}
            out_r["Rest of the World"] = 0.05 * total_out
        startup_out = startup_in * (1 - STARTUP_FUNDING_IN_CLUSTERS) / STARTUP_FUNDING_IN_CLUSTERS
        self.log.append(f"funding in clusters by bucket {dict(in_b)}; outside by bucket {out_b}; outside by region {out_r}")
        # Tier-1 quasi lead startups
        quasi_amt = defaultdict(float)
        quasi_b = defaultdict(float)
        lead_names = set(getattr(self, "quasi_lead", {}).values())
        for r in self.inst:
            if r["_status"] == "quasi" and r["name"] in lead_names:
                lo_hi = (5.4e6, 7.5e6) if region_of(r["country"]) == "China" else (7e6, 19e6)
                a = round(float(rng.uniform(*lo_hi)), -3)
                before = len(self.funding)
                self.split_rounds(r, a, max_rounds=2)
                for f in self.funding[before:]:
                    quasi_amt[region_of(r["country"])] += f["amount_usd"]
                    quasi_b[self.bucket(f["date"])] += f["amount_usd"]
        # a few small disclosed rounds for Tier-2 quasi startups (one funded startup, < USD 3 m)
        seen_q = set()
        for r in self.inst:
            if r["_status"] == "quasi" and r["type"] == "startup" and r["name"] not in lead_names and r["_group"] not in seen_q:
                if self.quasi_tier[r["_group"]] == 2 and region_of(r["country"]) != "China" and rng.random() < 0.5:
                    seen_q.add(r["_group"])
                    a = round(float(rng.uniform(0.3e6, 2.8e6)), -3)
                    before = len(self.funding)
                    self.split_rounds(r, a, max_rounds=1)
                    for f in self.funding[before:]:
                        quasi_amt[region_of(r["country"])] += f["amount_usd"]
                        quasi_b[self.bucket(f["date"])] += f["amount_usd"]
        startup_out_left = startup_out - sum(quasi_amt.values())
        rem_r = {r: out_r[r] - quasi_amt[r] for r in out_r}
        rem_b = {b: out_b[b] - quasi_b[b] for b in out_b}
        tot = sum(rem_r.values())
        if min(rem_r.values()) < 0 or min(rem_b.values()) < 0:
            raise ValueError(f"quasi funding exceeds outside budget: {rem_r} {rem_b}")
        # recipients: scattered startups / corporates per region
        pool = defaultdict(lambda: {"startup": [], "corporate": []})
        for r in self.inst:
            if r["_status"] == "none" and r["type"] in IND:
                pool[region_of(r["country"])][r["type"]].append(r)
        su_share = max(0.0, min(1.0, startup_out_left / tot))
        for reg, amount in sorted(rem_r.items()):
            for b, bamt in sorted(rem_b.items()):
                cell = amount * bamt / tot
                for typ, share in (("startup", su_share), ("corporate", 1 - su_share)):
                    part = cell * share
                    if part <= 0:
                        continue
                    cands = pool[reg][typ] or pool[reg]["startup"] or pool[reg]["corporate"]
                    year_lo, year_hi = {"upto2023": (2012, 2023), "2024": (2024, 2024), "2025": (2025, 2025)}[b]
                    eligible = [r for r in cands if r["active_since"].year <= year_hi]
                    k = max(1, min(len(eligible), int(part // 6e6) + 1))
                    idx = rng.choice(len(eligible), size=k, replace=False)
                    ww = rng.random(k) + 0.2
                    parts = np.round(part * ww / ww.sum(), 0)
                    parts[0] += part - parts.sum()
                    for j, a in zip(idx, parts):
                        r = eligible[int(j)]
                        lo = max(r["active_since"], dt.date(year_lo, 1, 1))
                        hi = min(dt.date(year_hi, 12, 31), CUTOFF)
                        if lo > hi:
                            lo = hi
                        d = lo + dt.timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))
                        if typ == "startup":
                            kind = ("vc", "vc", "equity", "debt")[int(rng.integers(0, 4))]
                        else:
                            kind = "corporate" if r["type"] == "corporate" else "grant"
                        if a > 0:
                            self.add_funding(r, float(a), kind, d)

    # ----------------------------------------------------------------- collaborations
    def build_collaborations(self) -> None:
        rng = self.rng
        by_group: dict[str, list[dict]] = defaultdict(list)
        for r in self.inst:
            by_group[r["_group"]].append(r)
        outside = [r for r in self.inst if r["_status"] != "cluster"]
        out_by = {
            "ind": [r for r in outside if r["type"] in IND],
            "res": [r for r in outside if r["type"] in RES],
            "gov": [r for r in outside if r["type"] == "government"],
        }
        out_by["nonind"] = out_by["res"] + out_by["gov"]
        out_w = {k: np.array([(2.5 if r["_status"] == "quasi" else 1.0) * r["_weight"] for r in v]) for k, v in out_by.items()}

        def pick_out(kind: str) -> dict:
            v = out_by[kind]
            w = out_w[kind]
            return v[int(rng.choice(len(v), p=w / w.sum()))]

        def pick(members: list[dict], exclude: dict | None = None) -> dict:
            cand = [m for m in members if m is not exclude]
            w = np.array([m["_weight"] for m in cand])
            return cand[int(rng.choice(len(cand), p=w / w.sum()))]

        def add(a: dict, b: dict, source: str = "synthesised") -> None:
            lo = max(a["active_since"], b["active_since"], dt.date(2010, 1, 1))
            span = (CUTOFF - lo).days
            d = lo + dt.timedelta(days=int(span * (rng.random() ** 0.6)))
            self.collab.append({"institution_a": a["institution_id"], "institution_b": b["institution_id"], "date": d,
                                "synthetic": True, "source": source, "_a": a, "_b": b})

        cn = {c for c in self.clusters if self.area[c]["country"] == "CN"}
        # cross-cluster collaborations: research members on both sides
        done = set()
        for c in self.clusters:
            for d, x in sorted(self.plans[c].cross.items()):
                key = tuple(sorted((c, d)))
                if key in done:
                    continue
                done.add(key)
                ra = [m for m in by_group[key[0]] if m["type"] in RES]
                rb = [m for m in by_group[key[1]] if m["type"] in RES]
                for _ in range(x):
                    add(pick(ra), pick(rb))
        for c in self.clusters:
            p = self.plans[c]
            mem = by_group[c]
            ind = [m for m in mem if m["type"] in IND]
            res = [m for m in mem if m["type"] in RES]
            gov = [m for m in mem if m["type"] == "government"]
            nonind = res + gov
            I, O, M = p.internal, p.outside, p.industry
            if len(nonind) < 2:
                m_int = I
            else:
                m_int = int(round(M * I / max(1, I + O)))
            m_int = min(m_int, I, M)
            m_ext = M - m_int
            if m_ext > O:
                m_int += m_ext - O
                m_ext = O
            if m_int > I:
                raise ValueError(f"{c}: cannot place {M} industry collaborations")
            # Chinese clusters: 4% of collaborations without a research partner (section 4.1: 96%)
            no_res = int(round(0.04 * p.collaborations)) if c in cn else None
            # internal industry
            for k in range(m_int):
                a = pick(ind)
                if no_res is not None:
                    if no_res > 0:
                        b = pick([m for m in mem if m["type"] not in RES], exclude=a)
                        no_res -= 1
                    else:
                        b = pick(res)
                else:
                    b = pick(mem, exclude=a)
                add(a, b)
            for k in range(I - m_int):
                if no_res is not None:
                    if no_res > 0 and len(gov) >= 1:
                        a = pick(gov)
                        b = pick_out("gov") if len(gov) < 2 else pick(gov, exclude=a)
                        no_res -= 1
                    else:
                        a = pick(res)
                        b = pick(nonind, exclude=a) if len(nonind) > 1 else pick(res, exclude=a)
                else:
                    a = pick(nonind)
                    b = pick(nonind, exclude=a)
                add(a, b)
            for k in range(m_ext):
                if ind and rng.random() < 0.6:
                    a = pick(ind)
                    if no_res is not None and no_res > 0:
                        b = pick_out("ind")
                        no_res -= 1
                    else:
                        b = pick_out("res") if no_res is not None else pick_out(("res", "ind", "gov")[int(rng.integers(0, 3))])
                else:
                    a = pick(res) if no_res is not None else pick(nonind)
                    b = pick_out("ind")
                add(a, b)
            for k in range(O - m_ext):
                if no_res is not None and no_res > 0 and gov:
                    a = pick(gov)
                    b = pick_out("gov")
                    no_res -= 1
                else:
                    a = pick(res) if no_res is not None else pick(nonind)
                    b = pick_out("nonind") if no_res is None else pick_out("res")
                add(a, b)
        self.fix_leaders(by_group)
        self.match_table4_industry(by_group)
        # outside clusters: quasi-clusters need >= 50 collaborations with a member
        n_neither = planmod.ALL_COLLABORATIONS - len(self.collab)
        qcount = defaultdict(int)
        for x in self.collab:
            for e in (x["_a"], x["_b"]):
                if e["_status"] == "quasi":
                    qcount[e["_group"]] += 1
        quasi = self.quasi1 + self.quasi2
        scattered = [r for r in self.inst if r["_status"] == "none"]
        sw = np.array([r["_weight"] for r in scattered])
        made = 0
        for q in quasi:
            mem = by_group[q]
            want = int(rng.integers(58, 115))
            need = max(0, want - qcount[q])
            for k in range(need):
                a = pick(mem)
                if rng.random() < 0.55:
                    b = pick(mem, exclude=a)
                else:
                    b = scattered[int(rng.choice(len(scattered), p=sw / sw.sum()))]
                add(a, b)
                made += 1
        rest = n_neither - made
        if rest < 0:
            raise ValueError(f"quasi-cluster collaborations exceed the neither budget by {-rest}")
        for k in range(rest):
            i, j = rng.choice(len(scattered), size=2, replace=False, p=sw / sw.sum())
            add(scattered[int(i)], scattered[int(j)])

    def match_table4_industry(self, by_group) -> None:
        """Hold each Table 4 cluster's industry-involving collaborations at the planned count
        (Table 4's value times the area's GDP). Moving the named leaders (:meth:`fix_leaders`)
        can leave one more or one fewer; then the outside partner of one of the cluster's
        external collaborations, whose inside partner is not industry, is exchanged for an
        outside institution of the other kind that belongs to no cluster or quasi-cluster. The
        counts of collaborations, external shares and the cluster graph do not change. Its own
        seeded stream, so the draws of everything else stay as they were."""
        rng = np.random.default_rng(self.seed + 4)
        free = [r for r in self.inst if r["_status"] == "none"]
        pool = {True: [r for r in free if r["type"] in IND], False: [r for r in free if r["type"] not in IND]}
        for c in planmod.TABLE4:
            if c not in self.plans:
                continue
            ids = {m["institution_id"] for m in by_group[c]}
            mine = [x for x in self.collab if x["institution_a"] in ids or x["institution_b"] in ids]
            have = sum(1 for x in mine if x["_a"]["type"] in IND or x["_b"]["type"] in IND)
            gap = have - self.plans[c].industry
            while gap != 0:
                want_ind = gap < 0  # too few: an outside non-industry partner becomes industry
                for x in mine:
                    inside, other = ("_a", "_b") if x["institution_a"] in ids else ("_b", "_a")
                    if x[other]["institution_id"] in ids or x[inside]["type"] in IND:
                        continue
                    if x[other]["_status"] != "none" or (x[other]["type"] in IND) == want_ind:
                        continue
                    cand = [r for r in pool[want_ind] if r["active_since"] <= x["date"]]
                    if not cand:
                        continue
                    new = cand[int(rng.integers(0, len(cand)))]
                    x[other] = new
                    x["institution_a" if other == "_a" else "institution_b"] = new["institution_id"]
                    gap += 1 if want_ind else -1
                    break
                else:
                    self.log.append(f"{c}: industry collaborations off the plan by {gap}")
                    break

    def fix_leaders(self, by_group) -> None:
        """Make the members Tables 2 and 4 name the clear top collaborators: move endpoints
        from any same-class member with as many collaborations to the named one."""
        deg = defaultdict(int)
        ends = defaultdict(list)  # institution id -> list of (collab index, side)
        for k, x in enumerate(self.collab):
            for side in ("_a", "_b"):
                deg[x[side]["institution_id"]] += 1
                ends[x[side]["institution_id"]].append((k, side))
        for c in self.clusters:
            mem = by_group[c]
            for kind, types in (("industry", IND), ("research", RES)):
                lead = self.top_named[c][kind]
                if not lead:
                    continue
                cls = [m for m in mem if m["type"] in types]
                byname = {m["name"]: m for m in cls}
                if c == "San Francisco Bay Area" and kind == "research":
                    pass
                chain = [byname[n] for n in lead if n in byname]
                if len(chain) != len(lead):
                    missing = [n for n in lead if n not in byname]
                    raise ValueError(f"{c}: Table 2/4 names missing among {kind} members: {missing}")
                others = [m for m in cls if m not in chain]
                # required: deg(chain[0]) > deg(chain[1]) > ... > max(others), each by 2+
                guard = 0
                while True:
                    viol = None
                    for pos, target in enumerate(chain):
                        rivals = others + chain[pos + 1:]
                        rival = max(rivals, key=lambda m: (deg[m["institution_id"]], m["name"]), default=None)
                        if rival is not None and deg[target["institution_id"]] < deg[rival["institution_id"]] + 1:
                            viol = (target, rival)
                            break
                    if viol is None:
                        break
                    target, rival = viol
                    moved = False
                    leaders = set(self.top_named[c]["industry"]) | set(self.top_named[c]["research"])
                    pool = [m for m in mem if m["type"] not in types
                            and (kind == "industry" or m["type"] == "government")]
                    pool.sort(key=lambda m: (m["name"] in leaders, -deg[m["institution_id"]], m["institution_id"]))
                    donors = [(rival, False)] + [(m, True) for m in pool]
                    cands = []
                    for donor, fallback in donors:
                        for (k, side) in ends[donor["institution_id"]]:
                            cands.append((donor, fallback, k, side))
                    for donor, fallback, k, side in cands:
                        x = self.collab[k]
                        other = x["_b"] if side == "_a" else x["_a"]
                        if other is target:
                            continue
                        if fallback and kind == "industry" and other["type"] not in IND:
                            continue
                        self._move_end(k, side, target, ends, deg)
                        moved = True
                        break
                    if not moved and kind == "industry":
                        moved = self._swap_roles(mem, target, set(lead), deg, ends)
                    guard += 1
                    if not moved or guard > 20000:
                        raise ValueError(f"{c}: cannot make {target['name']} lead the {kind} collaborators")

    def _swap_roles(self, mem, target, leaders, deg, ends) -> bool:
        """Give ``target`` (industry) one more collaboration without changing the cluster's
        number of industry-involving collaborations: it takes the place of a non-industry
        member in a non-industry collaboration (+1), and a non-leading industry member in
        another collaboration with a non-industry partner is replaced by a non-industry
        member (-1)."""
        nonind = [m for m in mem if m["type"] not in IND]
        inds = [m for m in mem if m["type"] in IND and m["name"] not in leaders and m is not target]

        down = None
        for u in sorted(inds, key=lambda m: -deg[m["institution_id"]]):
            for (k, side) in ends[u["institution_id"]]:
                x = self.collab[k]
                other = x["_b"] if side == "_a" else x["_a"]
                if other["type"] not in IND:
                    down = (k, side, other)
                    break
            if down:
                break
        if down is None:
            return False
        up = None
        for m in sorted(nonind, key=lambda m: -deg[m["institution_id"]]):
            for (k, side) in ends[m["institution_id"]]:
                x = self.collab[k]
                other = x["_b"] if side == "_a" else x["_a"]
                if other["type"] not in IND and other is not target and k != down[0]:
                    up = (k, side)
                    break
            if up:
                break
        if up is None:
            return False
        k2, side2, other2 = down
        v = next((m for m in nonind if m is not other2), None)
        if v is None:
            return False
        self._move_end(up[0], up[1], target, ends, deg)
        self._move_end(k2, side2, v, ends, deg)
        return True

    def _move_end(self, k, side, new, ends, deg) -> None:
        """Give collaboration ``k``'s ``side`` end to ``new`` (its degree and end lists follow);
        the date moves up to when both partners are active."""
        x = self.collab[k]
        old = x[side]
        x[side] = new
        x["institution_a" if side == "_a" else "institution_b"] = new["institution_id"]
        ends[old["institution_id"]].remove((k, side))
        ends[new["institution_id"]].append((k, side))
        deg[old["institution_id"]] -= 1
        deg[new["institution_id"]] += 1
        other = x["_b"] if side == "_a" else x["_a"]
        if x["date"] < new["active_since"]:
            x["date"] = max(new["active_since"], other["active_since"])

    # ----------------------------------------------------------------------- writing
    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        # ids of funding and collaborations in date order (stable)
        self.funding.sort(key=lambda f: (f["date"], f["institution_id"], -f["amount_usd"], f["kind"]))
        self.collab.sort(key=lambda x: (x["date"], x["institution_a"], x["institution_b"]))
        tf = lambda b: "true" if b else "false"  # noqa: E731

        def w(name: str, header: list[str], rows: list[list]) -> None:
            with (out / name).open("w", encoding="utf-8", newline="") as fh:
                wr = csv.writer(fh, lineterminator="\n")
                wr.writerow(header)
                wr.writerows(rows)

        w("institutions.csv",
          ["institution_id", "name", "type", "lat", "lon", "city", "country", "active_since", "spinout_of", "synthetic", "source"],
          [[r["institution_id"], r["name"], r["type"], fmt_float(r["lat"]), fmt_float(r["lon"]), r["city"], r["country"],
            r["active_since"].isoformat(), r["spinout_of"], tf(r["synthetic"]), r["source"]] for r in self.inst])
        w("funding.csv", ["funding_id", "institution_id", "date", "amount_usd", "kind", "synthetic", "source"],
          [[f"F{k + 1:05d}", f["institution_id"], f["date"].isoformat(), fmt_float(f["amount_usd"], 2), f["kind"],
            tf(f["synthetic"]), f["source"]] for k, f in enumerate(self.funding)])
        w("collaborations.csv", ["collaboration_id", "institution_a", "institution_b", "date", "synthetic", "source"],
          [[f"C{k + 1:05d}", x["institution_a"], x["institution_b"], x["date"].isoformat(), tf(x["synthetic"]), x["source"]]
           for k, x in enumerate(self.collab)])
        rows = []
        eco = self.ecosystem_values()
        # GDP figures chosen, within the range of published estimates, to put the Table 2 line
        # (USD 750 bn) where the paper draws it (data/README.md, "Table 2 split")
        table_2_choices = {"Shanghai", "Beijing", "Chicagoland"}
        for k, a in enumerate(self.areas):
            name = a["name"]
            gdp = float(self.plans[name].gdp) if name in self.plans else float(a["gdp_usd"])
            src = f"centre, population and GDP approximate ({a['geo_note']}; recalled public statistics, c. 2021-2023, no lookup)"
            if name in self.gdp_adjusted:
                src += f"; GDP adjusted from {float(a['gdp_usd']) / 1e9:g} bn to reproduce Table 4 within rounding"
            if name in table_2_choices:
                src += "; GDP chosen relative to the USD 750 bn line of Table 2"
            if name in eco:
                src += "; ecosystem_value_usd synthesised (no Startup Genome figures available)"
            rows.append([f"A{k + 1:03d}", name, a["country"], a["lat"], a["lon"], fmt_float(float(a["population"]), 0),
                         fmt_float(gdp, 0), fmt_float(eco[name], 0) if name in eco else "", "false",
                         "true" if name in eco else "false",
                         "true" if name in self.gdp_adjusted or name in table_2_choices else "false", src])
        w("areas.csv", ["area_id", "name", "country", "lat", "lon", "population", "gdp_usd", "ecosystem_value_usd",
                        "synthetic", "ecosystem_value_synthetic", "gdp_adjusted", "source"], rows)

    def ecosystem_values(self) -> dict[str, float]:
        """Synthetic Startup Genome-like ecosystem values (share of GDP), clusters only; the
        eight clusters of the Figure 7 note are left empty."""
        rng = np.random.default_rng(SEED + 7)
        share = {
            "San Francisco Bay Area": 1.9, "Tel Aviv Metropolitan Area": 0.55, "Greater Boston": 0.30,
            "Greater New York": 0.22, "London Commuter Belt": 0.16, "Greater Los Angeles": 0.14, "Greater Austin": 0.18,
            "Beijing": 0.30, "Shanghai": 0.22, "Shenzhen–Hong Kong–Guangzhou Region": 0.20, "Hangzhou": 0.28,
            "Singapore": 0.20, "Bangalore": 0.45, "Greater Paris": 0.10, "Greater Washington": 0.05,
            "Denver–Boulder Region": 0.08, "Greater Helsinki": 0.10, "Metro Vancouver": 0.07, "Seoul Metropolitan Area": 0.09,
            "Greater Tokyo": 0.04, "Greater Sydney": 0.09, "Toronto–Waterloo Corridor": 0.10, "Greater Copenhagen": 0.12,
            "Munich Metropolitan Area": 0.10, "Berlin Metropolitan Area": 0.15, "Randstad Region": 0.07,
            "Stockholm": 0.2,
        }
        out = {}
        for c in self.clusters:
            if c in NO_ECOSYSTEM:
                continue
            s = share.get(c, float(rng.uniform(0.02, 0.09)))
            out[c] = round(s * self.plans[c].gdp, -7)
        return out

    def run(self, out: Path) -> None:
        self.load_targets()
        self.make_plan()
        self.build_clusters()
        self.build_quasi()
        self.build_scattered()
        self.fix_spinout_refs()
        self.build_cluster_funding()
        self.build_outside_funding()
        self.build_collaborations()
        self.write(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "data" / "bundled"))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--targets", default=str(TARGETS), help="folder with indicator_ranks.csv and broker_edges.csv")
    ap.add_argument("--dump-targets", help="write the ranks and edges used (e.g. the stand-in) to this folder")
    args = ap.parse_args(argv)
    b = Builder(args.seed, Path(args.targets))
    b.run(Path(args.out))
    if args.dump_targets:
        d = Path(args.dump_targets)
        d.mkdir(parents=True, exist_ok=True)
        with (d / "indicator_ranks.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["cluster"] + planmod.INDICATORS)
            for c in b.clusters:
                w.writerow([c] + [b.ranks[c][i] for i in planmod.INDICATORS])
        with (d / "broker_edges.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["cluster_a", "cluster_b"])
            w.writerows(b.edges)
    if args.verbose:
        print(f"{'cluster':38s} {'N':>4s} {'S':>3s} {'K':>3s} {'U':>3s} {'RI':>3s} {'G':>2s} {'sp':>3s} {'T(m)':>8s} {'F(m)':>8s} {'C':>5s} {'E':>5s} {'M':>4s} {'X':>3s}")
        for c in b.clusters:
            p = b.plans[c]
            print(f"{c[:38]:38s} {p.members:4d} {p.startups:3d} {p.corporates:3d} {p.universities:3d} {p.institutes:3d} "
                  f"{p.government:2d} {p.spinouts:3d} {p.total_funding / 1e6:8.1f} {p.startup_funding / 1e6:8.1f} "
                  f"{p.collaborations:5d} {p.external:5d} {p.industry:4d} {p.cross_total:3d}")
        for line in b.log:
            print(line)
    for line in planmod.CONFLICTS:
        print("CONFLICT:", line, file=sys.stderr)
    print(f"wrote {len(b.inst)} institutions, {len(b.funding)} funding events, {len(b.collab)} collaborations, "
          f"{len(b.areas)} areas to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
