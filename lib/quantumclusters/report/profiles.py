"""A page for every cluster and a short entry for every quasi-cluster.

The cluster profile template (``chapters/profiles/cluster.md``) is executed once per
cluster by the build runner; each page calls :func:`cluster_profile` once and shows its
pieces: where the cluster is (a map of its members by type), its ranks in the paper and
recomputed, its nine indicators with its strengths and weaknesses, its rank interval
under the audit's random choices, its partners, its money and members, and the
quasi-clusters nearby. The quasi-cluster entries (:func:`quasi_entries`) say for each
quasi-cluster what it lacks to become a cluster, by the detection's own thresholds.

Names are data. Page addresses are :func:`unique_slugs` (ASCII, unique even when two names
slug alike: ``-2``, ``-3`` … in name order), and every name is HTML-escaped wherever it
is written (:func:`html.escape` in markup, :func:`quantumclusters.report.notebook.esc`
in Markdown).
"""

from __future__ import annotations

import hashlib
import html
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..indicators import INDICATORS
from ..ranking import DIMENSIONS, indicator_ranks
from ..schema import DISCLOSED_FUNDING_KINDS
from . import style
from .explorer import DIMENSION_NAMES, INDICATOR_NAMES, Html

__all__ = [
    "PROFILE_FOLDER",
    "QUASI_PAGE",
    "NEARBY_KM",
    "slugify",
    "unique_slugs",
    "cluster_slugs",
    "quasi_slugs",
    "profile_href",
    "profile_links",
    "quasi_href",
    "members_of",
    "strengths_and_weaknesses",
    "partner_clusters",
    "top_members",
    "quasi_centres",
    "nearby_quasi_clusters",
    "funding_gap",
    "density_gap",
    "quasi_entries",
    "ClusterProfile",
    "cluster_profile",
    "quasi_region_entries",
    "profile_index",
]

#: The folder (under the book's pages) holding the cluster profiles.
PROFILE_FOLDER = "profiles"
#: The page of the quasi-cluster entries (beside the chapters).
QUASI_PAGE = "13_quasi_cluster_profiles"
#: Quasi-clusters within this distance (km, centre to centre) are "nearby".
NEARBY_KM = 150.0
EARTH_RADIUS_KM = 6371.0088
_MAX_SLUG = 60

#: Institution types in words (singular, plural) and their colour on the maps.
TYPE_WORDS: dict[str, tuple[str, str]] = {
    "university": ("university", "universities"),
    "research_institute": ("public research institution", "public research institutions"),
    "government": ("government agency", "government agencies"),
    "startup": ("startup", "startups"),
    "corporate": ("corporate", "corporates"),
}
TYPE_COLOURS: dict[str, str] = {
    "university": "#0b3d6e",
    "research_institute": "#4f86c6",
    "government": "#8c96a0",
    "startup": "#f07f1a",
    "corporate": "#2e7d32",
}


# --------------------------------------------------------------------------- slugs


def slugify(name: Any) -> str:
    """A safe page address for ``name``: ASCII letters and digits joined by ``-``, lower
    case, at most 60 characters. A name with no ASCII letter or digit (``本源量子``) gets
    ``n-`` and a short hash of the name, so it is stable and never empty."""
    spaced = "".join(ch if ch.isalnum() else " " for ch in str(name))  # dashes, slashes, tags: separators
    text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:_MAX_SLUG].strip("-")
    if not slug:
        slug = "n-" + hashlib.sha256(str(name).encode("utf-8")).hexdigest()[:8]
    return slug


def unique_slugs(names: Iterable[Any]) -> dict[str, str]:
    """``name -> slug`` for distinct names, unique: names that slug alike get ``-2``,
    ``-3`` … in the order of the names sorted (so the result does not depend on the input
    order), and a numbered slug never takes one a name already has as its own."""
    distinct = sorted({str(n) for n in names})
    base = {n: slugify(n) for n in distinct}
    taken = set()
    out: dict[str, str] = {}
    plain = set(base.values())
    for n in distinct:
        slug = base[n]
        if slug in taken:
            k = 2
            while f"{slug}-{k}" in taken or f"{slug}-{k}" in plain:
                k += 1
            slug = f"{slug}-{k}"
        taken.add(slug)
        out[n] = slug
    return out


def cluster_slugs(result: Any) -> dict[str, str]:
    """The page address of every cluster of the run (every cluster has a row in the ranking)."""
    return unique_slugs(result.ranking["cluster"].astype(str))


def quasi_slugs(result: Any) -> dict[str, str]:
    """The anchor of every quasi-cluster's entry (``q-`` and a unique slug)."""
    return {k: f"q-{v}" for k, v in unique_slugs(result.quasi_clusters["quasi_cluster"].astype(str)).items()}


def profile_href(result: Any, cluster: str, prefix: str = PROFILE_FOLDER + "/") -> str:
    """The link to ``cluster``'s profile from a chapter page (``prefix`` leads to the folder)."""
    return f"{prefix}{cluster_slugs(result)[str(cluster)]}.html"


def profile_links(result: Any, prefix: str = PROFILE_FOLDER + "/") -> dict[str, str]:
    """``cluster -> link`` to every profile, for the tables that link to them."""
    return {name: f"{prefix}{slug}.html" for name, slug in cluster_slugs(result).items()}


def quasi_href(result: Any, quasi_cluster: str, prefix: str = "") -> str:
    """The link to a quasi-cluster's entry from a chapter page."""
    return f"{prefix}{QUASI_PAGE}.html#{quasi_slugs(result)[str(quasi_cluster)]}"


# --------------------------------------------------------------------------- the numbers


def members_of(result: Any, group: str, status: str = "cluster") -> pd.DataFrame:
    """The institutions of a cluster (or, with ``status="quasi_cluster"``, a quasi-cluster)."""
    a = result.assignments
    ids = a.loc[(a["status"] == status) & (a["group"].astype(str) == str(group)), "institution_id"]
    inst = result.db.institutions
    return inst[inst["institution_id"].isin(set(ids))].sort_values("institution_id", kind="stable")


def _lower_first(text: str) -> str:
    """``Total funding`` -> ``total funding``; ``GDP`` and other all-capital words stay."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ranks(result: Any) -> pd.DataFrame:
    table = result.indicator_table()
    return indicator_ranks(table[list(INDICATORS)])


def strengths_and_weaknesses(result: Any, cluster: str, n: int = 3) -> tuple[list[str], list[str]]:
    """The cluster's strengths: up to ``n`` indicators where it ranks in the best third of
    the clusters ranked on it (best first); its weaknesses: up to ``n`` where it ranks in
    the worst third (worst first). Indicator keys; missing indicators are neither."""
    ranks = _ranks(result)
    row = ranks.loc[cluster]
    strong, weak = [], []
    for ind in INDICATORS:
        r = row[ind]
        ranked = int(ranks[ind].notna().sum())
        if pd.isna(r) or ranked < 3:
            continue
        if r <= ranked / 3:
            strong.append((float(r) / ranked, ind))
        elif r > 2 * ranked / 3:
            weak.append((float(r) / ranked, ind))
    strong.sort()
    weak.sort(reverse=True)
    return [i for _, i in strong[:n]], [i for _, i in weak[:n]]


def _cluster_of(result: Any) -> pd.Series:
    a = result.assignments
    inside = a[a["status"] == "cluster"]
    return pd.Series(inside["group"].astype(str).to_numpy(), index=inside["institution_id"].to_numpy())


def partner_clusters(result: Any, cluster: str, n: int = 5) -> pd.DataFrame:
    """The other clusters the cluster's members collaborate with most: ``cluster``,
    ``collaborations`` (each joining one member with a member of that cluster), ties by
    name."""
    where = _cluster_of(result)
    coll = result.db.collaborations
    ca = where.reindex(coll["institution_a"]).to_numpy()
    cb = where.reindex(coll["institution_b"]).to_numpy()
    ca = np.where(pd.isna(ca), "", ca).astype(str)
    cb = np.where(pd.isna(cb), "", cb).astype(str)
    name = str(cluster)
    other = np.where((ca == name) & (cb != name) & (cb != ""), cb, np.where((cb == name) & (ca != name) & (ca != ""), ca, ""))
    counts = pd.Series(other[other != ""]).value_counts()
    out = pd.DataFrame({"cluster": counts.index.astype(str), "collaborations": counts.to_numpy(dtype=int)})
    out = out.sort_values(["collaborations", "cluster"], ascending=[False, True], kind="stable")
    return out.head(n).reset_index(drop=True)


def top_members(result: Any, cluster: str, n: int = 8) -> pd.DataFrame:
    """The cluster's members with most collaborations (partner anywhere): ``name``,
    ``type``, ``collaborations``; ties by name."""
    from quantumclusters import derived

    members = members_of(result, cluster)
    counts = derived.institution_collaborations(result)
    out = members[["name", "type"]].assign(collaborations=counts.reindex(members["institution_id"]).to_numpy())
    out = out.sort_values(["collaborations", "name"], ascending=[False, True], kind="stable")
    return out.head(n).reset_index(drop=True)


def _great_circle_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _centre(lat: pd.Series, lon: pd.Series) -> tuple[float, float]:
    """Mean of the members' unit vectors, as (lat, lon)."""
    la, lo = np.radians(lat.to_numpy(dtype=float)), np.radians(lon.to_numpy(dtype=float))
    v = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1).mean(axis=0)
    return float(np.degrees(np.arctan2(v[2], math.hypot(v[0], v[1])))), float(np.degrees(np.arctan2(v[1], v[0])))


def quasi_centres(result: Any) -> pd.DataFrame:
    """Every quasi-cluster with the centre of its members (``lat``, ``lon``)."""
    q = result.quasi_clusters
    a = result.assignments
    inside = a[a["status"] == "quasi_cluster"][["institution_id", "group"]]
    pos = inside.merge(result.db.institutions[["institution_id", "lat", "lon"]], on="institution_id")
    la, lo = np.radians(pos["lat"].to_numpy(dtype=float)), np.radians(pos["lon"].to_numpy(dtype=float))
    vec = pd.DataFrame({"group": pos["group"].astype(str).to_numpy(), "x": np.cos(la) * np.cos(lo),
                        "y": np.cos(la) * np.sin(lo), "z": np.sin(la)}).groupby("group")[["x", "y", "z"]].mean()
    vec = vec.reindex(q["quasi_cluster"].astype(str))
    lat = np.degrees(np.arctan2(vec["z"].to_numpy(), np.hypot(vec["x"].to_numpy(), vec["y"].to_numpy())))
    lon = np.degrees(np.arctan2(vec["y"].to_numpy(), vec["x"].to_numpy()))
    return q.assign(lat=lat, lon=lon).reset_index(drop=True)


def nearby_quasi_clusters(result: Any, cluster: str, km: float = NEARBY_KM) -> pd.DataFrame:
    """Quasi-clusters whose centre lies within ``km`` of the cluster's centre: their row
    with ``distance_km``, nearest first."""
    c = result.clusters.set_index("cluster").loc[cluster]
    q = quasi_centres(result)
    if not len(q):
        return q.assign(distance_km=pd.Series(dtype=float))
    q["distance_km"] = _great_circle_km(float(c["lat"]), float(c["lon"]), q["lat"], q["lon"])
    q = q[q["distance_km"] <= km]
    return q.sort_values(["distance_km", "quasi_cluster"], kind="stable").reset_index(drop=True)


def _disclosed_by_startup(result: Any, members: pd.DataFrame) -> pd.Series:
    """Disclosed funding (venture, equity, debt) of each startup member, largest first."""
    startups = members.loc[members["type"] == "startup", "institution_id"]
    f = result.db.funding
    f = f[f["institution_id"].isin(set(startups)) & f["kind"].isin(DISCLOSED_FUNDING_KINDS)]
    sums = f.groupby("institution_id")["amount_usd"].sum()
    return sums.reindex(startups.to_numpy(), fill_value=0.0).sort_values(ascending=False, kind="stable")


@dataclass(frozen=True)
class FundingGap:
    """How far a group's startups are from the cluster funding test."""

    met: bool
    largest: float  # the best-funded startup's disclosed funding
    combined: float  # all startups' disclosed funding
    funded: int  # startups with any disclosed funding
    missing_usd: float  # the least extra funding that would meet the test
    needs_second_startup: bool  # the cheaper way needs another funded startup


def funding_gap(disclosed: pd.Series, params: Any) -> FundingGap:
    """The detection's funding test on startups' disclosed funding (``disclosed``, one
    value per startup): two funded startups with combined funding of at least the combined
    threshold, or one startup with at least the single threshold. ``missing_usd`` is the
    smaller of the two shortfalls."""
    values = disclosed[disclosed > 0].astype(float)
    funded = int(len(values))
    largest = float(values.max()) if funded else 0.0
    combined = float(values.sum())
    single = float(params.cluster_min_single_usd)
    pair = float(params.cluster_min_combined_usd)
    need_n = int(params.cluster_min_funded_startups)
    met = largest >= single or (funded >= need_n and combined >= pair)
    if met:
        return FundingGap(True, largest, combined, funded, 0.0, False)
    short_single = single - largest
    short_pair = max(pair - combined, 0.0)
    pair_needs_more = funded < need_n
    if short_pair < short_single:
        return FundingGap(False, largest, combined, funded, short_pair, pair_needs_more)
    return FundingGap(False, largest, combined, funded, short_single, False)


def density_gap(members: pd.DataFrame, params: Any) -> tuple[int, int]:
    """(most members within the search radius of one member, the count a cluster's core
    needs): a cluster's core needs ``min_samples`` institutions within ``eps_km``."""
    if not len(members):
        return 0, int(params.min_samples)
    lat, lon = members["lat"].to_numpy(dtype=float), members["lon"].to_numpy(dtype=float)
    d = _great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    densest = int((d <= float(params.eps_km)).sum(axis=1).max())
    return densest, int(params.min_samples)


def _type_counts_text(types: pd.Series) -> str:
    counts = types.value_counts()
    parts = []
    for t, (one, many) in TYPE_WORDS.items():
        k = int(counts.get(t, 0))
        if k:
            parts.append(f"{k} {one if k == 1 else many}")
    return ", ".join(parts) if parts else "none"


def _musd(x: float) -> str:
    if x >= 1e9:
        return f"USD {x / 1e9:,.1f} billion".replace(".0 billion", " billion")
    if x >= 1e6:
        return f"USD {x / 1e6:,.1f} million".replace(".0 million", " million")
    return f"USD {x:,.0f}"


_ENTRIES: dict[int, tuple[Any, pd.DataFrame]] = {}


def quasi_entries(result: Any) -> pd.DataFrame:
    """:func:`_quasi_entries` of ``result``, computed once per run (the quasi-cluster page
    shows one region at a time)."""
    hit = _ENTRIES.get(id(result))
    if hit is None or hit[0] is not result:
        hit = (result, _quasi_entries(result))
        _ENTRIES.clear()
        _ENTRIES[id(result)] = hit
    return hit[1].copy()


def _quasi_entries(result: Any) -> pd.DataFrame:
    """One row per quasi-cluster: ``quasi_cluster``, ``region``, ``tier``, ``institutions``,
    ``collaborations``, ``members`` (by type, in words), ``largest_startup`` and
    ``largest_startup_usd`` (its disclosed funding), ``densest`` and ``core_needed``
    (:func:`density_gap`), the :class:`FundingGap` fields, ``anchor``; in region order,
    then by name."""
    from quantumclusters.regions import REGIONS

    params = result.params
    anchors = quasi_slugs(result)
    names = result.db.institutions.set_index("institution_id")["name"]
    rows = []
    for _, q in result.quasi_clusters.iterrows():
        members = members_of(result, q["quasi_cluster"], "quasi_cluster")
        disclosed = _disclosed_by_startup(result, members)
        gap = funding_gap(disclosed, params)
        densest, needed = density_gap(members, params)
        top = disclosed.index[0] if len(disclosed) and disclosed.iloc[0] > 0 else None
        rows.append({
            "quasi_cluster": str(q["quasi_cluster"]), "region": q["region"], "tier": int(q["tier"]),
            "institutions": int(q["institutions"]), "collaborations": int(q["collaborations"]),
            "members": _type_counts_text(members["type"]),
            "largest_startup": None if top is None else str(names.get(top, top)),
            "largest_startup_usd": 0.0 if top is None else float(disclosed.iloc[0]),
            "densest": densest, "core_needed": needed,
            "funding_met": gap.met, "funding_missing_usd": gap.missing_usd,
            "needs_second_startup": gap.needs_second_startup, "funded_startups": gap.funded,
            "anchor": anchors[str(q["quasi_cluster"])],
        })
    out = pd.DataFrame(rows)
    if not len(out):
        return out
    order = {r: i for i, r in enumerate(REGIONS)}
    out["_o"] = out["region"].map(order).fillna(len(order))
    return out.sort_values(["_o", "quasi_cluster"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _gap_sentence(row: pd.Series, params: Any) -> str:
    """What a quasi-cluster lacks to be a cluster, in words (HTML-safe: numbers only)."""
    lacks = []
    if row["densest"] < row["core_needed"]:
        more = row["core_needed"] - row["densest"]
        lacks.append(
            f"density: at most {row['densest']} of its institutions lie within {params.eps_km:g} km of one of them, "
            f"{more} fewer than a cluster needs"
        )
    if not row["funding_met"]:
        text = f"startup funding: {_musd(row['funding_missing_usd'])} more disclosed funding"
        if row["needs_second_startup"]:
            text += " and a second funded startup"
        lacks.append(text)
    if not lacks:
        return ("It meets the cluster thresholds on density and funding taken one by one; it stays a "
                "quasi-cluster because the two are not met by the same group of institutions.")
    return "It lacks " + "; and ".join(lacks) + "."


def quasi_region_entries(result: Any, region: str) -> Html:
    """The entries of one region's quasi-clusters, as HTML (every name escaped)."""
    entries = quasi_entries(result)
    if len(entries):
        entries = entries[entries["region"] == region]
    if not len(entries):
        return Html('<p class="qc-quasi-none">No quasi-cluster in this region in this run.</p>')
    out = ['<div class="qc-quasi-entries">']
    for _, r in entries.iterrows():
        startup = ("no startup with disclosed funding" if pd.isna(r["largest_startup"]) else
                   f"{html.escape(r['largest_startup'])}, {_musd(r['largest_startup_usd'])}")
        out.append(
            f'<section class="qc-quasi" id="{html.escape(r["anchor"])}">'
            f'<h3>{html.escape(r["quasi_cluster"])} <span class="qc-tier">Tier {r["tier"]}</span></h3>'
            "<dl>"
            f"<dt>Members</dt><dd>{r['institutions']}: {html.escape(r['members'])}</dd>"
            f"<dt>Collaborations</dt><dd>{r['collaborations']:,}</dd>"
            f"<dt>Best-funded startup</dt><dd>{startup}</dd>"
            f"<dt>To be a cluster</dt><dd>{html.escape(_gap_sentence(r, result.params))}</dd>"
            "</dl></section>"
        )
    out.append("</div>")
    return Html("\n".join(out))


# --------------------------------------------------------------------------- figures


def _nice_km(span_km: float) -> float:
    """A round scale-bar length of about a quarter of ``span_km``."""
    target = max(span_km / 4.0, 0.5)
    exp = 10 ** math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * exp <= target:
            return float(m * exp)
    return float(exp)


def _locator(fig: Figure, ax: Any, window: tuple[float, float, float, float], coslat: float) -> None:
    """A small map under the legend: the region around the cluster with country borders, the
    main map's window drawn as a rectangle."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Rectangle

    from . import maps, plots

    lon0, lon1, lat0, lat1 = window
    clat, clon = (lat0 + lat1) / 2, (lon0 + lon1) / 2
    half_lat = 7.0
    half_lon = half_lat / coslat * 1.25
    box = (clon - half_lon, clon + half_lon, clat - half_lat, clat + half_lat)
    inset = ax.inset_axes([1.04, 0.0, 0.5, 0.46])
    inset.set_facecolor(maps.SEA)
    rings = [r for r in maps.load_countries() if r[:, 0].max() >= box[0] and r[:, 0].min() <= box[1]
             and r[:, 1].max() >= box[2] and r[:, 1].min() <= box[3]]
    inset.add_collection(PolyCollection(rings, facecolors=maps.LAND, edgecolors=maps.BORDER, linewidths=0.5))
    inset.add_patch(Rectangle((lon0, lat0), lon1 - lon0, lat1 - lat0, fill=False, edgecolor=plots.ORANGE, lw=1.4))
    inset.set_xlim(box[0], box[1])
    inset.set_ylim(box[2], box[3])
    inset.set_aspect(1.0 / coslat)
    inset.set_xticks([])
    inset.set_yticks([])
    for side in inset.spines.values():
        side.set_visible(True)
        side.set_color(maps.BORDER)


def member_map(result: Any, cluster: str) -> Figure:
    """The cluster's members by type on country outlines, with a scale bar (offline)."""
    from . import figures, maps, plots

    m = members_of(result, cluster)
    c = result.clusters.set_index("cluster").loc[cluster]
    lat_c, lon_c = float(c["lat"]), float(c["lon"])
    lats = np.append(m["lat"].to_numpy(dtype=float), lat_c)
    lons = np.append(m["lon"].to_numpy(dtype=float), lon_c)
    coslat = max(math.cos(math.radians(lat_c)), 0.2)
    half_lat = max((lats.max() - lats.min()) / 2 * 1.2, 0.15)
    half_lon = max((lons.max() - lons.min()) / 2 * 1.25, half_lat / coslat * 1.3)
    half_lat = max(half_lat, half_lon * coslat / 1.6)
    mid_lat, mid_lon = (lats.max() + lats.min()) / 2, (lons.max() + lons.min()) / 2
    lat0, lat1, lon0, lon1 = mid_lat - half_lat, mid_lat + half_lat, mid_lon - half_lon, mid_lon + half_lon

    fig = plots.new_figure((7.6, 5.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor(maps.SEA)
    from matplotlib.collections import PolyCollection

    rings = [r for r in maps.load_countries() if r[:, 0].max() >= lon0 - 2 and r[:, 0].min() <= lon1 + 2
             and r[:, 1].max() >= lat0 - 2 and r[:, 1].min() <= lat1 + 2]
    ax.add_collection(PolyCollection(rings, facecolors=maps.LAND, edgecolors=maps.BORDER, linewidths=0.8, zorder=1))
    for t, (one, many) in TYPE_WORDS.items():
        sel = m[m["type"] == t]
        if len(sel):
            ax.scatter(sel["lon"], sel["lat"], s=34, color=TYPE_COLOURS[t], edgecolors="white", linewidths=0.6,
                       alpha=0.9, zorder=4, label=f"{many.capitalize()} ({len(sel)})")
    ax.scatter([lon_c], [lat_c], s=90, marker="+", color=plots.INK, linewidths=1.4, zorder=5, label="Area centre")
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / coslat)
    ax.set_xticks([])
    ax.set_yticks([])
    span_km = (lon1 - lon0) * 111.32 * coslat
    bar = _nice_km(span_km)
    x0 = lon0 + (lon1 - lon0) * 0.05
    y0 = lat0 + (lat1 - lat0) * 0.06
    x1 = x0 + bar / (111.32 * coslat)
    ax.plot([x0, x1], [y0, y0], color=plots.INK, lw=2.5, solid_capstyle="butt", zorder=6)
    ax.text((x0 + x1) / 2, y0 + (lat1 - lat0) * 0.02, f"{bar:g} km", ha="center", va="bottom", fontsize=9,
            color=plots.INK, zorder=6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9, title="Members by type",
              title_fontsize=9.5, alignment="left")
    _locator(fig, ax, (lon0, lon1, lat0, lat1), coslat)
    ax.set_title(f"Where the members of {style.wrap(str(cluster), 48)} are")
    return figures.draws_on(
        fig, "institutions", "areas",
        alt=f"Map of the {len(m)} member institutions of {cluster}, coloured by type, with a scale bar of "
            f"{bar:g} km, and a small map of the country borders around it.",
    )


def money_and_members_figure(result: Any, cluster: str) -> Figure:
    """Two small charts side by side: the members' funding (every kind) per year, and the
    members by type."""
    from matplotlib.ticker import MaxNLocator

    from . import figures, plots

    m = members_of(result, cluster)
    f = result.db.funding
    f = f[f["institution_id"].isin(set(m["institution_id"]))]
    per_year = f.groupby(pd.to_datetime(f["date"]).dt.year)["amount_usd"].sum().sort_index()
    fig = plots.new_figure((8.6, 3.0))
    ax, bx = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
    if len(per_year):
        first, last = int(per_year.index.min()), int(per_year.index.max())
        per_year = per_year.reindex(range(first, last + 1), fill_value=0.0)
        ax.bar(per_year.index.astype(int), per_year.to_numpy() / 1e6, color=plots.BLUE, width=0.75)
        ax.set_ylabel("USD million")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.set_xlim(first - 0.6, last + 0.6)
    else:
        plots._empty(ax, "no funding recorded")
    ax.set_title("Funding of the members by year")

    counts = m["type"].value_counts()
    labels = ["Universities", "Research institutes", "Government", "Startups", "Corporates"]
    values = [int(counts.get(t, 0)) for t in TYPE_WORDS]
    y = np.arange(len(values))[::-1]
    bx.barh(y, values, color=[TYPE_COLOURS[t] for t in TYPE_WORDS], height=0.65)
    bx.set_yticks(y, labels)
    bx.tick_params(axis="y", length=0)
    top = max(values) if values and max(values) > 0 else 1
    for yi, v in zip(y, values):
        bx.text(v + top * 0.02, yi, f"{v}", va="center", ha="left", fontsize=9)
    bx.set_xlim(0, top * 1.2)
    bx.set_title("Members by type")
    fig.supxlabel(" ", fontsize=12)  # room for the disclosure mark under the axes
    return figures.draws_on(
        fig, "institutions", "funding",
        alt=f"Two bar charts: the funding of the members of {cluster} by year, and its members by type.",
    )


# --------------------------------------------------------------------------- the page


def _fmt_value(value: Any, ind: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    v = float(value)
    if ind == "total_funding_usd":
        return _musd(v)
    if ind == "external_share":
        return f"{v:.0%}"
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else (f"{v:,.2f}" if a >= 1 else f"{v:.3g}")


def _rank_text(rank: Any, of: int) -> str:
    return "–" if rank is None or pd.isna(rank) else f"{int(rank)} of {of}"


@dataclass(frozen=True)
class ClusterProfile:
    """The pieces of one cluster's page (each is shown by one cell of the template)."""

    cluster: str
    intro: str  # Markdown, names escaped
    map: Figure
    ranks: Any  # a display table: the paper's ranks beside the recomputed ones
    indicators: Any  # a display table: value, rank and median of the nine indicators
    strengths: str  # Markdown
    uncertainty: str  # Markdown
    partners: Html
    members: Any  # a display table
    money: Figure  # funding by year and members by type
    nearby: Html


def _published_ranks(cluster: str) -> dict[str, str] | None:
    from .published import table_a

    t = table_a()
    row = t[t["cluster"].astype(str) == cluster]
    if not len(row):
        return None
    r = row.iloc[0]
    return {k: str(r[f"{k}_label"]) for k in ("overall", *DIMENSIONS)}


def _link_list(rows: list[tuple[str, str | None, str]]) -> str:
    items = []
    for name, href, extra in rows:
        label = html.escape(name)
        if href:
            label = f'<a href="{html.escape(href, quote=True)}">{label}</a>'
        items.append(f"<li>{label}{html.escape(extra)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def cluster_profile(result: Any, cluster: str) -> ClusterProfile:
    """Everything one cluster's page shows, computed from the run."""
    from . import display
    from .notebook import esc
    from quantumclusters.regions import country_name

    cluster = str(cluster)
    clusters = result.clusters.set_index(result.clusters["cluster"].astype(str))
    if cluster not in clusters.index:
        raise KeyError(f"no cluster named {cluster!r} in this run")
    c = clusters.loc[cluster]
    ranking = result.ranking.set_index(result.ranking["cluster"].astype(str)).loc[cluster]
    n = len(result.ranking)
    members = members_of(result, cluster)
    country = country_name(c["country"]) if isinstance(c["country"], str) and len(c["country"]) == 2 else c["country"]
    intro = (
        f"**{esc(cluster)}** ({esc(country)}, {esc(c['region'])}) is ranked **{esc(ranking['overall_label'])}** "
        f"of {n} clusters in this run. It has {len(members):,} member institutions: "
        f"{esc(_type_counts_text(members['type']))}."
    )

    # ranks: the paper beside the recomputation
    paper = _published_ranks(cluster)
    rows = []
    for key, title in (("overall", "Overall"), *DIMENSION_NAMES.items()):
        rows.append({"Ranking": title, "In the paper": (paper or {}).get(key, "not ranked"),
                     "Recomputed": str(ranking[f"{key}_label"])})
    ranks_table = display.table(pd.DataFrame(rows), caption=f"Ranks of {cluster}: the paper and the recomputation",
                                csv_name="cluster_ranks.csv")

    # the nine indicators
    values = result.indicator_table()
    ranks = _ranks(result)
    rows = []
    for dim, inds in DIMENSIONS.items():
        for ind in inds:
            ranked = int(ranks[ind].notna().sum())
            rows.append({"Dimension": DIMENSION_NAMES[dim], "Indicator": INDICATOR_NAMES[ind],
                         "Value": _fmt_value(values.at[cluster, ind], ind),
                         "Rank": _rank_text(ranks.at[cluster, ind], ranked),
                         "Median of all clusters": _fmt_value(values[ind].median(), ind)})
    ind_table = display.table(pd.DataFrame(rows), caption=f"The nine indicators of {cluster}",
                              csv_name="cluster_indicators.csv")
    strong, weak = strengths_and_weaknesses(result, cluster)

    def named(inds: list[str]) -> str:
        bits = [f"{_lower_first(INDICATOR_NAMES[i])} ({_ordinal(int(ranks.at[cluster, i]))})" for i in inds]
        return bits[0] if len(bits) == 1 else ", ".join(bits[:-1]) + " and " + bits[-1]

    s_text = (f"**Strengths** (where it ranks in the best third): {esc(named(strong))}." if strong else
              "**Strengths**: none of its indicators ranks in the best third of the clusters.")
    w_text = (f"**Weaknesses** (where it ranks in the worst third): {esc(named(weak))}." if weak else
              "**Weaknesses**: none of its indicators ranks in the worst third of the clusters.")
    strengths = s_text + "\n\n" + w_text

    # rank uncertainty (the audit's Monte Carlo)
    audit = getattr(result, "audit", None)
    u = None if audit is None else audit.uncertainty
    if u is not None and cluster in set(u["cluster"].astype(str)):
        r = u[u["cluster"].astype(str) == cluster].iloc[0]
        uncertainty = (
            f"Under {result.draws:,} random alternative calculations (other weights, other ways of scaling "
            f"and of averaging the indicators; see the audit in the chapter *Beyond the paper*), the "
            f"cluster's median rank is **{r['median_rank']:g}**; nine in ten of them place it between "
            f"**{r['p05_rank']:g}** and **{r['p95_rank']:g}**, and {r['share_within_5']:.0%} keep it within "
            f"five places of its rank of {int(r['baseline_rank'])}."
        )
    else:
        uncertainty = "The rank interval was not computed in this run."

    # partners and members
    links = profile_links(result, prefix="")
    partners = partner_clusters(result, cluster)
    if len(partners):
        items = [(str(p), links.get(str(p)), f": {int(k):,} collaboration{'' if int(k) == 1 else 's'}") for p, k in
                 zip(partners["cluster"], partners["collaborations"])]
        partners_html = Html('<div class="qc-partners">' + _link_list(items) + "</div>")
    else:
        partners_html = Html("<p>No collaboration with another cluster in this run.</p>")
    top = top_members(result, cluster)
    top_view = pd.DataFrame({"Institution": top["name"].astype(str),
                             "Type": [TYPE_WORDS.get(t, (t, t))[0] for t in top["type"]],
                             "Collaborations": top["collaborations"].astype(int)})
    members_table = display.table(top_view, caption=f"Members of {cluster} with most collaborations",
                                  csv_name="cluster_top_members.csv")

    # quasi-clusters nearby
    near = nearby_quasi_clusters(result, cluster)
    if len(near):
        items = [(str(q["quasi_cluster"]), quasi_href(result, q["quasi_cluster"], prefix="../"),
                  f": Tier {int(q['tier'])}, {q['distance_km']:.0f} km away, {int(q['institutions'])} institutions")
                 for _, q in near.iterrows()]
        nearby = Html('<div class="qc-nearby">' + _link_list(items) + "</div>")
    else:
        nearby = Html(f"<p>No quasi-cluster lies within {NEARBY_KM:.0f} km of this cluster's centre.</p>")

    return ClusterProfile(
        cluster=cluster, intro=intro, map=member_map(result, cluster), ranks=ranks_table, indicators=ind_table,
        strengths=strengths, uncertainty=uncertainty, partners=partners_html, members=members_table,
        money=money_and_members_figure(result, cluster),
        nearby=nearby,
    )


def profile_index(result: Any) -> Html:
    """Every cluster in rank order, each linking to its profile (for the profiles' front page)."""
    links = profile_links(result)
    r = result.ranking.sort_values(["overall_rank", "cluster"], kind="stable")
    items = [f'<li><a href="{html.escape(links[str(n)], quote=True)}">{html.escape(str(n))}</a> '
             f'<span class="qc-rank">{html.escape(str(lbl))}</span></li>'
             for n, lbl in zip(r["cluster"].astype(str), r["overall_label"])]
    return Html('<ol class="qc-profile-index">' + "".join(items) + "</ol>")
