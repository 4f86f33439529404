"""Tables and words of the audit's detection-sensitivity and vintage sections (chapter 09).

The numbers come from :mod:`quantumclusters.audit` (:func:`~quantumclusters.audit.detection_sensitivity`,
:func:`~quantumclusters.audit.vintages`); this module only puts them in words a reader can act
on: one overview table of the settings, and per setting an expandable list of the clusters
that do not simply survive (:func:`detection_details`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import display
from .audit_figures import setting_label

__all__ = [
    "fate_text",
    "setting_summary",
    "detection_overview",
    "detection_details",
    "Details",
    "details",
    "top_change_words",
    "vintage_common_table",
    "vintage_entry_table",
    "ordinal",
    "DetectionFindings",
    "detection_findings",
]


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _split_offs(detail: pd.DataFrame) -> dict[str, list[str]]:
    """Baseline cluster -> the new clusters of the same setting that split off it."""
    new = detail[(detail["status"] == "new") & (detail["source"].astype(str) != "")]
    out: dict[str, list[str]] = {}
    for name, source in zip(new["cluster"], new["source"]):
        out.setdefault(str(source), []).append(str(name))
    return out


def fate_text(row: Any, split_offs: dict[str, list[str]] | None = None) -> str:
    """What became of one cluster under a setting, in words (a row of the detail frame)."""
    status, into = str(row["status"]), str(row["into"])
    share = float(row["retained_share"]) if pd.notna(row["retained_share"]) else float("nan")
    parts = (split_offs or {}).get(str(row["cluster"]), [])
    if status == "kept":
        if share >= 1.0:
            return "Still a cluster with all its members"
        text = f"Still a cluster, with {_pct(share)} of its members"
        return text + (f"; the rest form {', '.join(parts)}" if parts else "")
    if status == "renamed":
        return f"Still a cluster ({_pct(share)} of its members), now named {into}"
    if status == "merged":
        return f"Merged into {into} ({_pct(share)} of its members)"
    if status == "quasi_cluster":
        return f"No longer a cluster: its members now form the quasi-cluster {into}"
    if status == "dissolved":
        return "No longer a cluster: its members belong to no group"
    if status == "new":
        source = str(row["source"])
        return f"New cluster, split off {source}" if source else "New cluster, from institutions in no cluster before"
    return status


def setting_summary(row: Any, total: int) -> str:
    """One line for a setting: how many of ``total`` survive and what happened to the rest."""
    bits = [f"{int(row['survived'])} of {total} still clusters of their own"]
    if row["quasi_cluster"]:
        bits.append(f"{int(row['quasi_cluster'])} now quasi-clusters" if row["quasi_cluster"] > 1 else "1 now a quasi-cluster")
    if row["dissolved"]:
        bits.append(f"{int(row['dissolved'])} dissolved")
    if row["merged"]:
        bits.append(f"{int(row['merged'])} merged")
    if row["new"]:
        bits.append(f"{int(row['new'])} new")
    bits.append("top 10 changed" if row["top10_changed"] else "same top 10")
    return "; ".join(bits)


def _top_change(row: Any) -> str:
    """``"unchanged"`` or ``"2 out, 2 in"``."""
    if not row["top10_changed"]:
        return "unchanged"
    out = [x for x in str(row["top10_out"] or "").split("; ") if x]
    came = [x for x in str(row["top10_in"] or "").split("; ") if x]
    return f"{len(out)} out, {len(came)} in"


def top_change_words(row: Any) -> str:
    """The top-10 change of a setting in a sentence."""
    if not row["top10_changed"]:
        return "The top 10 is the same as in the paper's setting."
    out = str(row["top10_out"] or "").replace("; ", ", ") or "none"
    came = str(row["top10_in"] or "").replace("; ", ", ") or "none"
    return f"Top 10: {out} drop out; {came} come in."


def detection_overview(grid: pd.DataFrame, total: int) -> display.Table:
    """Every setting in one table, worded columns."""
    g = grid.sort_values(["eps_km", "min_samples"]).reset_index(drop=True)
    view = pd.DataFrame(
        {
            "Radius": [f"{e:g} km" for e in g["eps_km"]],
            "Minimum": [f"{k}" + (" (paper)" if b else "") for k, b in zip(g["min_samples"], g["baseline"])],
            "Clusters found": g["clusters"],
            f"Still clusters (of {total})": g["survived"],
            "Now quasi-clusters": g["quasi_cluster"],
            "Merged": g["merged"],
            "New": g["new"],
            "Top 10": [_top_change(r) for _, r in g.iterrows()],
            "Fewest members kept": g["min_retained"],
            "Rank agreement (ρ)": g["spearman"],
        }
    )
    return display.table(
        view,
        caption=f"What each detection setting (search radius, minimum institutions) does to the {total} clusters "
                "of the paper's setting",
        csv_name="detection_sensitivity.csv",
        formats={"Fewest members kept": "{:.0%}", "Rank agreement (ρ)": "{:.2f}"},
    )


@dataclass(frozen=True)
class Details:
    """Expandable blocks (HTML ``<details>``), one per item: a summary line, then paragraphs
    (text) and tables."""

    items: tuple[tuple[str, Any], ...]

    @staticmethod
    def _part(part: Any) -> str:
        return part.to_html() if isinstance(part, display.Table) else f"<p>{html.escape(str(part))}</p>"

    def to_html(self) -> str:
        out = ['<div class="qc-details-list">']
        for summary, body in self.items:
            parts = body if isinstance(body, tuple) else (body,)
            inner = "".join(self._part(p) for p in parts)
            out.append(
                '<details class="qc-details" style="margin:0.4em 0">'
                f'<summary style="cursor:pointer">{html.escape(summary)}</summary>{inner}</details>'
            )
        out.append("</div>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return "\n".join(summary for summary, _ in self.items)


def details(summary: str, *parts: Any) -> Details:
    """One expandable block: ``summary``, then the ``parts`` (text or tables)."""
    return Details(((summary, tuple(parts)),))


def detection_details(grid: pd.DataFrame, detail: pd.DataFrame, total: int) -> Details:
    """Per setting other than the paper's: the clusters that do not keep all their members,
    with what became of each, the share of members kept and the rank in that setting."""
    items: list[tuple[str, Any]] = []
    for _, row in grid.sort_values(["eps_km", "min_samples"]).iterrows():
        if row["baseline"]:
            continue
        e, k = float(row["eps_km"]), int(row["min_samples"])
        label = setting_label(e, k)
        d = detail[(detail["eps_km"] == e) & (detail["min_samples"] == k)]
        splits = _split_offs(d)
        changed = d[(d["status"] != "kept") | (d["retained_share"] < 1.0)]
        changed = changed.assign(_new=changed["status"] == "new").sort_values(["_new", "baseline_rank", "cluster"])
        summary = f"{label}: {setting_summary(row, total)}"
        if changed.empty:
            items.append((summary, (f"All {total} clusters are found with all their members.", top_change_words(row))))
            continue
        view = pd.DataFrame(
            {
                "Cluster": changed["cluster"].astype(str),
                "Rank (paper's setting)": changed["baseline_rank"],
                "What becomes of it": [fate_text(r, splits) for _, r in changed.iterrows()],
                "Members kept": changed["retained_share"].where(changed["status"].isin(["kept", "renamed", "merged"])),
                "Rank in this setting": changed["setting_rank"],
            }
        )
        kept_all = int(((d["status"] == "kept") & (d["retained_share"] >= 1.0)).sum())
        items.append((summary, (top_change_words(row), display.table(
            view.reset_index(drop=True),
            caption=f"Search radius {e:g} km, at least {k} institutions: the clusters that change "
                    f"(the other {kept_all} keep all their members)",
            csv_name=f"detection_{e:g}km_{k}.csv",
            formats={"Rank (paper's setting)": "{:.0f}", "Members kept": "{:.0%}", "Rank in this setting": "{:.0f}"},
        ))))
    return Details(tuple(items))


def vintage_common_table(common: pd.DataFrame, earlier: str, later: str) -> display.Table:
    """The clusters present at both cut-offs: their ranks among themselves, the movement, and
    for comparison their ranks in each full ranking."""
    c = common.sort_values(["rank_later", "cluster"], kind="stable").reset_index(drop=True)
    view = pd.DataFrame(
        {
            "Cluster": c["cluster"].astype(str),
            f"Rank at {earlier}": c["rank_earlier"],
            f"Rank at {later}": c["rank_later"],
            "Movement (+ = up)": c["movement"],
            f"Full ranking, {earlier}": c["full_rank_earlier"],
            f"Full ranking, {later}": c["full_rank_later"],
            "Movement in the full rankings": c["full_movement"],
        }
    )
    signed = lambda v: "0" if v == 0 else f"{v:+.0f}"  # noqa: E731
    return display.table(
        view,
        caption=f"Clusters present at both dates, ranked among themselves at {earlier} and at {later} "
                "(the full rankings, with entrants and exits, for comparison)",
        csv_name="vintage_movement.csv",
        formats={f"Rank at {earlier}": "{:.0f}", f"Rank at {later}": "{:.0f}", "Movement (+ = up)": signed,
                 f"Full ranking, {earlier}": "{:.0f}", f"Full ranking, {later}": "{:.0f}",
                 "Movement in the full rankings": signed},
    )


def vintage_entry_table(entrants: pd.DataFrame, exits: pd.DataFrame, earlier: str, later: str) -> display.Table:
    """Entrants (with their rank at the later date) and exits (with their rank at the
    earlier date), listed apart from the movement."""
    rows = [{"Cluster": str(c), "Change": f"New cluster by {later}", "Rank": r}
            for c, r in zip(entrants["cluster"], entrants["rank_later"])]
    rows += [{"Cluster": str(c), "Change": f"A cluster at {earlier}, no longer by {later}", "Rank": r}
             for c, r in zip(exits["cluster"], exits["rank_earlier"])]
    return display.table(
        pd.DataFrame(rows, columns=["Cluster", "Change", "Rank"]),
        caption="Entrants and exits between the two dates (rank in the ranking of the date they are present)",
        csv_name="vintage_entrants_exits.csv",
        formats={"Rank": "{:.0f}"},
    )


def ordinal(n: float) -> str:
    """``1st``, ``2nd``, ``23rd``, ``11th``."""
    k = int(n)
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


@dataclass(frozen=True)
class DetectionFindings:
    """The facts the chapter states about the detection grid (:func:`detection_findings`)."""

    total: int
    settings: int
    plateau: list[tuple[float, int]]  # (radius, minimum) settings that find the same clusters, all members
    lost_by_minimum: dict[int, tuple[int, int]]  # minimum institutions -> (fewest, most) clusters no longer clusters
    lost_at: list[tuple[float, int, str]]  # (radius, minimum, cluster) for every cluster no longer a cluster
    top_at_risk: list[tuple[str, int, int]]  # (top-10 cluster, baseline rank, settings where it is lost)
    merges: list[tuple[str, str, list[str]]]  # (cluster, into, radii in words)
    splits: list[tuple[str, list[str], list[str]]]  # (cluster, the new clusters, settings in words)
    same_top: int  # settings other than the paper's with the same top 10
    rho_min: float
    lost_sizes: list[int]  # members of every cluster lost in some setting

    def plateau_words(self) -> str:
        """``"10 km with 5 institutions, 20 km with 5 or 10"``: the plateau by radius."""
        by_radius: dict[float, list[int]] = {}
        for e, k in self.plateau:
            by_radius.setdefault(e, []).append(k)
        parts = []
        for e, ks in sorted(by_radius.items()):
            ks = sorted(ks)
            mins = " or ".join([", ".join(map(str, ks[:-1])), str(ks[-1])] if len(ks) > 1 else [str(ks[0])])
            parts.append(f"{e:g} km with {mins} institutions")
        return "; ".join(parts)


def detection_findings(
    grid: pd.DataFrame, detail: pd.DataFrame, total: int, sizes: dict[str, set[str]] | None = None
) -> DetectionFindings:
    """Summarise the grid for the chapter's prose (``sizes``: the baseline clusters' members,
    :func:`quantumclusters.audit.cluster_members`, for the sizes of the clusters lost)."""
    sizes = sizes or {}
    g = grid.sort_values(["eps_km", "min_samples"])
    others = g[~g["baseline"]]
    plateau = [(float(e), int(k)) for e, k, s, m, n in
               zip(g["eps_km"], g["min_samples"], g["survived"], g["min_retained"], g["new"])
               if s == total and m >= 1.0 and n == 0]
    lost = {}
    for k, part in g.groupby("min_samples"):
        gone = part["disappeared"]
        lost[int(k)] = (int(gone.min()), int(gone.max()))
    lost_at = [(float(e), int(k), str(c)) for e, k, c in
               detail.loc[detail["status"].isin(["quasi_cluster", "dissolved"]), ["eps_km", "min_samples", "cluster"]]
               .itertuples(index=False)]
    d = detail[detail["status"] != "new"]
    out = d[d["status"].isin(["quasi_cluster", "dissolved", "merged"]) & (d["baseline_rank"] <= 10)]
    top_at_risk = sorted(
        ((str(c), int(part["baseline_rank"].iloc[0]), len(part)) for c, part in out.groupby("cluster")),
        key=lambda t: (t[1], t[0]),
    )
    merged = d[d["status"] == "merged"]
    merges = [
        (str(c), str(into), sorted({f"{e:g} km" for e in part["eps_km"]}, key=lambda s: float(s.split()[0])))
        for (c, into), part in merged.groupby(["cluster", "into"])
    ]
    new = detail[(detail["status"] == "new") & (detail["source"].astype(str) != "")]
    splits = [
        (str(src), sorted(set(map(str, part["cluster"]))), [setting_label(e, k) for e, k in
                                                              sorted(set(zip(part["eps_km"], part["min_samples"])))])
        for src, part in new.groupby("source")
    ]
    lost_names = set(d.loc[d["status"].isin(["quasi_cluster", "dissolved"]), "cluster"])
    return DetectionFindings(
        lost_sizes=sorted(len(members) for name, members in sizes.items() if name in lost_names),
        total=total,
        settings=len(g),
        plateau=plateau,
        lost_by_minimum=lost,
        lost_at=lost_at,
        top_at_risk=top_at_risk,
        merges=merges,
        splits=splits,
        same_top=int((~others["top10_changed"]).sum()),
        rho_min=float(others["spearman"].min()) if others["spearman"].notna().any() else float("nan"),
    )
