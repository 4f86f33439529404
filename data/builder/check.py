#!/usr/bin/env python
"""Quick comparison of the engine's run on a bundled database with the paper.

    python data/builder/check.py [--data data/bundled] [--cutoff 2025-07-31]

Prints: clusters missing / extra against Table A; quasi-clusters against Tables 7 and 8;
Table A rank mismatches; per-indicator rank mismatches against the RANK-SOLVER targets;
Table 4 values and leaders; Table 2 leaders; a few stated numbers. A builder's tool, not a
test (the fidelity suite is ``python -m quantumclusters fidelity``).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PUB = ROOT / "data" / "published"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "data" / "bundled"))
    ap.add_argument("--cutoff", default="2025-07-31")
    ap.add_argument("--brief", action="store_true")
    ap.add_argument("--targets", default=str(HERE / "targets"))
    args = ap.parse_args(argv)
    from quantumclusters import derived
    from quantumclusters.indicators import INDICATORS
    from quantumclusters.pipeline import run
    from quantumclusters.ranking import indicator_ranks
    from quantumclusters.schema import load_database

    res = run(load_database(args.data), args.cutoff, draws=100)
    ta = pd.read_csv(PUB / "table_a.csv")
    got = set(res.clusters["cluster"])
    want = set(ta["cluster"])
    print(f"clusters: {len(got)} found; missing {sorted(want - got)}; extra {sorted(got - want)}")
    q = res.quasi_clusters
    t7 = pd.read_csv(PUB / "table_7.csv")
    t8 = pd.read_csv(PUB / "table_8.csv")
    want_q = {r: 1 for r in t7["quasi_cluster"]}
    for r in t8["quasi_cluster"]:
        want_q.setdefault(r, 2)
    got_q = dict(zip(q["quasi_cluster"], q["tier"]))
    print(f"quasi: {len(got_q)} found (tier1 {sum(1 for v in got_q.values() if v == 1)}); "
          f"missing {sorted(set(want_q) - set(got_q))}; extra {sorted(set(got_q) - set(want_q))}; "
          f"wrong tier {sorted(k for k in got_q if k in want_q and int(got_q[k]) != want_q[k])}")
    print("quasi by region:", q.groupby("region").size().to_dict())
    rk = res.ranking.set_index("cluster")
    ta = ta.set_index("cluster")
    bad = []
    for c in ta.index:
        if c not in rk.index:
            continue
        for col in ("overall_label", "market_orientation_label", "collaboration_intensity_label", "ecosystem_maturity_label"):
            if str(rk.loc[c, col]) != str(ta.loc[c, col]):
                bad.append((c, col, rk.loc[c, col], ta.loc[c, col]))
    print(f"Table A label mismatches: {len(bad)} of {4 * len(ta)}")
    if not args.brief:
        for b in bad[:60]:
            print("   ", b)
    tgt = Path(args.targets) / "indicator_ranks.csv"
    ind = res.indicators.set_index("cluster")
    ir = indicator_ranks(res.indicators.set_index("cluster"))
    if tgt.exists() and ir is not None:
        t = pd.read_csv(tgt)
        if "indicator" in t.columns:
            t = t.pivot(index="cluster", columns="indicator", values="rank")
        else:
            t = t.set_index("cluster")
        ir = ir.set_index("cluster") if "cluster" in ir.columns else ir
        for i in INDICATORS:
            col = i if i in t.columns else i + "_rank"
            icol = i if i in ir.columns else i + "_rank"
            if col not in t.columns or icol not in ir.columns:
                continue
            mism = [(c, int(ir.loc[c, icol]) if pd.notna(ir.loc[c, icol]) else None, int(t.loc[c, col]))
                    for c in t.index if c in ir.index and (pd.isna(ir.loc[c, icol]) or int(ir.loc[c, icol]) != int(t.loc[c, col]))]
            print(f"  indicator {i}: {len(mism)} rank mismatches vs targets", mism[:8] if not args.brief else "")
    t4 = pd.read_csv(PUB / "table_4.csv")
    top = ind["industry_collaborations_per_tn_gdp"].sort_values(ascending=False).head(10)
    print("Table 4:")
    for (c, v), (_, r) in zip(top.items(), t4.iterrows()):
        li = derived.top_collaborators(res, c, "industry", 1)["name"].tolist()
        lr = derived.top_collaborators(res, c, "research", 1)["name"].tolist()
        ok = c == r["cluster"] and abs(v - r["industry_collaborations_per_tn_gdp"]) <= 1 and li == [r["top_industry_collaborator"]] and lr == [r["top_research_collaborator"]]
        print(f"   {'ok ' if ok else 'BAD'} {c:35s} {v:8.1f} {r['cluster']:30s} {r['industry_collaborations_per_tn_gdp']} {li} {lr}")
    t2 = pd.read_csv(PUB / "table_2.csv")
    major = derived.major_clusters(res)
    print("Table 2 major clusters:", sorted(major["cluster"]) == sorted(t2["cluster"]), len(major))
    alias = pd.read_csv(PUB / "aliases.csv")
    alias = dict(zip(alias["alias"], alias["canonical"]))
    t2 = t2.replace(alias)
    for _, r in t2.iterrows():
        if r["cluster"] not in got:
            continue
        li = derived.top_collaborators(res, r["cluster"], "industry", 3)["name"].tolist()
        lr = derived.top_collaborators(res, r["cluster"], "research", 3)["name"].tolist()
        wi = [r["industry_1"], r["industry_2"], r["industry_3"]]
        wr = [r["research_1"], r["research_2"], r["research_3"]]
        if li != wi or lr != wr:
            print("   BAD", r["cluster"], li, lr)
    tf = ind["total_funding_usd"]
    tot = tf.sum()
    print(f"total funding {tot / 1e9:.3f} bn; Bay {tf.get('San Francisco Bay Area', 0) / 1e9:.3f} "
          f"({tf.get('San Francisco Bay Area', 0) / tot:.1%}); top10 {tf.sort_values().tail(10).sum() / tot:.1%}")
    for c in ["Greater Washington", "Denver–Boulder Region", "Shenzhen–Hong Kong–Guangzhou Region", "Hefei", "Greater Paris",
              "Greater New York", "Greater Boston", "London Commuter Belt", "Greater Helsinki", "Singapore", "Seoul Metropolitan Area"]:
        if c in tf:
            print(f"   {c:38s} {tf[c] / 1e6:9.1f} m  {tf[c] / tot:.2%}")
    inv = derived.involvement_counts(res)
    print("involvement:", inv["collaborations"].to_dict(), {k: round(v, 4) for k, v in inv["share"].items()})
    fy = derived.funding_by_year(res)
    up = fy.loc[fy.index <= 2023, ["in_clusters_usd", "outside_usd"]].sum()
    print(f"funding share in clusters: up to 2023 {up['in_clusters_usd'] / up.sum():.3f}; "
          + "; ".join(f"{y} {fy.loc[y, 'share_in_clusters']:.3f}" for y in (2024, 2025) if y in fy.index))
    print("by region:", derived.funding_by_region(res)["share_in_clusters"].round(3).to_dict())
    print("types:", derived.type_shares_in_clusters(res)["share_in_clusters"].round(3).to_dict())
    c = ind["collaborations"]
    e = ind["external_share"]
    from scipy.stats import pearsonr, spearmanr
    print(f"corr collaborations vs external share: pearson {pearsonr(c, e)[0]:.3f} spearman {spearmanr(c, e)[0]:.3f}")
    for cl in ("Cambridge", "Oxford", "Toronto–Waterloo Corridor", "Bristol–Bath Region"):
        if cl in ind.index:
            row = res.clusters.set_index("cluster").loc[cl]
            print(f"   {cl}: members {row['institutions']} startups {row['startups']} research {row['research_institutions']} "
                  f"f/gdp {ind.loc[cl, 'startup_funding_to_gdp']:.4%} s/n {ind.loc[cl, 'startups_per_institution']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
