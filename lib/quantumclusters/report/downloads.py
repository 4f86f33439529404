"""The run's result files as one download: a deterministic zip of the six CSV files that
``python -m quantumclusters rank`` writes (:func:`quantumclusters.pipeline.result_frames`)
and a Frictionless Data Package descriptor, ``datapackage.json``, describing each file's
columns (type, unit, meaning), where the numbers come from (the bundled database is partly
synthetic) and each file's size and sha256 checksum.

The build runner (:mod:`quantumclusters.report.book`) writes the zip into
``_build/downloads/`` of the book, a folder Sphinx copies to the root of the site
(``html_extra_path``); the explorer chapter links to it. Same run, same bytes: entries
sorted, timestamps fixed at 1980-01-01, permissions fixed, JSON with sorted keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ARCHIVE_NAME", "FIELD_DOCS", "csv_bytes", "datapackage", "archive_bytes", "write_downloads"]

#: File name of the zip at the root of the site.
ARCHIVE_NAME = "quantumclusters_results.zip"
_EPOCH = (1980, 1, 1, 0, 0, 0)

_RANK = ("rank (1 = best; tied clusters share the smallest rank)", "rank")
_LABEL = ("rank as printed in the paper, '=' when shared", None)
_SCORE = ("mean of ranks (lower = better)", "rank")
#: Meaning and unit of every column of the result files (unit None: none or text).
FIELD_DOCS: dict[str, tuple[str, str | None]] = {
    "institution_id": ("identifier of the institution in the institutions table", None),
    "status": ("cluster, quasi_cluster or outside", None),
    "group": ("name of the cluster or quasi-cluster the institution belongs to (empty if outside)", None),
    "cluster": ("cluster name (the metropolitan area's name)", None),
    "quasi_cluster": ("quasi-cluster name (the metropolitan area's name)", None),
    "area_id": ("identifier of the metropolitan area in the areas table", None),
    "country": ("ISO 3166-1 alpha-2 country code", None),
    "region": ("world region", None),
    "tier": ("quasi-cluster tier (1: a startup with more than USD 5 million disclosed funding; 2: otherwise)", None),
    "lat": ("latitude of the cluster's centre", "degree (WGS 84)"),
    "lon": ("longitude of the cluster's centre", "degree (WGS 84)"),
    "institutions": ("member institutions", "count"),
    "startups": ("member startups", "count"),
    "research_institutions": ("member universities and research institutes", "count"),
    "collaborations": ("collaborations with at least one partner in the group, each counted once", "count"),
    "population": ("population of the metropolitan area", "persons"),
    "gdp_usd": ("GDP of the metropolitan area", "USD (current)"),
    "total_funding_usd": ("all funding events of the members, summed", "USD"),
    "startup_funding_to_gdp": ("members' startups' venture, equity and debt funding divided by area GDP", "ratio"),
    "industry_collaborations_per_tn_gdp": ("collaborations with a startup or corporate on at least one side per USD trillion of GDP", "count per USD trillion"),
    "external_share": ("share of collaborations with exactly one partner in the cluster", "fraction (0-1)"),
    "brokerage": ("normalised betweenness centrality in the cluster-cluster collaboration graph", "fraction (0-1)"),
    "institutions_per_million": ("members per million inhabitants", "count per million persons"),
    "spinouts_per_research_institution": ("spin-out startups per member university or research institute", "ratio"),
    "startups_per_institution": ("startup members per member", "ratio"),
    "dimension": ("dimension (or overall) the row is about", None),
    "spearman_z_borda": ("Spearman rho, z-score composite vs the ranking", "correlation (-1 to 1)"),
    "spearman_pca_borda": ("Spearman rho, first principal component vs the ranking", "correlation (-1 to 1)"),
    "spearman_z_pca": ("Spearman rho, z-score composite vs first principal component", "correlation (-1 to 1)"),
    "mc_median": ("median Spearman rho of the random-weight rankings vs the ranking", "correlation (-1 to 1)"),
    "mc_p05": ("5th percentile of the Spearman rho of the random-weight rankings", "correlation (-1 to 1)"),
    "mc_share_above_0_90": ("share of random-weight rankings with Spearman rho above 0.90", "fraction (0-1)"),
    "cronbach_alpha": ("Cronbach's alpha of the dimension's three indicators (z-scores, population variances)", "coefficient"),
    "pc1_share": ("share of the variance of the dimension's indicators carried by the first principal component", "fraction (0-1)"),
    "complete_clusters": ("clusters with all three indicators of the dimension present", "count"),
    "min_rho_indicator_dimension": ("smallest Spearman rho between an indicator and its dimension's score", "correlation (-1 to 1)"),
    "weak_indicators": ("indicators whose Spearman rho with their dimension's score is below 0.3 (';'-separated)", None),
    "negative_indicators": ("indicators whose Spearman rho with their dimension's score is negative (';'-separated)", None),
    "indicator": ("indicator the row is about", None),
    "baseline_rank": ("overall rank under the paper's method", "rank"),
    "median_rank": ("median overall rank over the Monte Carlo draws of every modelling choice", "rank"),
    "p05_rank": ("5th percentile of the overall rank over the draws", "rank"),
    "p95_rank": ("95th percentile of the overall rank over the draws", "rank"),
    "share_within_5": ("share of draws in which the cluster stays within 5 places of its baseline rank", "fraction (0-1)"),
    "factor": ("modelling choice (input factor of the sensitivity analysis)", None),
    "S1": ("first-order Sobol' index of the mean absolute rank shift", "fraction of variance"),
    "S1_conf": ("half-width of the 95% bootstrap confidence interval of S1", "fraction of variance"),
    "ST": ("total-effect Sobol' index of the mean absolute rank shift", "fraction of variance"),
    "ST_conf": ("half-width of the 95% bootstrap confidence interval of ST", "fraction of variance"),
}
for _part in ("overall", "market_orientation", "collaboration_intensity", "ecosystem_maturity"):
    FIELD_DOCS[f"{_part}_rank"] = (f"{_part.replace('_', ' ')} {_RANK[0]}", _RANK[1])
    FIELD_DOCS[f"{_part}_label"] = (f"{_part.replace('_', ' ')} {_LABEL[0]}", _LABEL[1])
    FIELD_DOCS[f"{_part}_score"] = (f"{_part.replace('_', ' ')} score: {_SCORE[0]}", _SCORE[1])

_DESCRIPTIONS = {
    "assignments.csv": "Each institution: inside a cluster, a quasi-cluster or neither.",
    "clusters.csv": "The clusters found, with their area's population and GDP.",
    "indicators.csv": "The nine indicators of every cluster (higher = better; empty = cannot be computed).",
    "ranking.csv": "Overall and dimension ranks, labels and scores of every cluster.",
    "quasi_clusters.csv": "The quasi-clusters found, with their tier.",
    "robustness.csv": "Rank correlations of the ranking with alternative methods and random weights.",
    "coherence.csv": "Statistical coherence of each dimension: Cronbach's alpha, first-component share, weak indicators.",
    "correlations.csv": "Spearman correlations between the nine indicators (9 x 9).",
    "uncertainty.csv": "Each cluster's rank over Monte Carlo draws of every modelling choice: median, 5th-95th percentiles, share within 5 places.",
    "sensitivity.csv": "Sobol' first-order and total-effect indices of each modelling choice on the mean absolute rank shift.",
}


def _field_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "string"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes :func:`quantumclusters.pipeline.write_result` writes for ``frame``."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def datapackage(result: Any, files: dict[str, bytes], frames: dict[str, pd.DataFrame], bundled: bool = True) -> dict[str, Any]:
    """The Frictionless Data Package descriptor of the result files ``files`` (name -> bytes);
    ``bundled``: the run is on the book's bundled (partly synthetic) database."""
    synthetic = ""
    inst = getattr(result.db, "institutions", None)
    if inst is not None and "synthetic" in inst.columns:
        share = inst["synthetic"].astype(str).str.lower().eq("true").mean()
        synthetic = f" {share:.0%} of the institutions counted are marked synthetic."
    resources = []
    for name in sorted(files):
        data, frame = files[name], frames[name]
        fields = []
        for col in frame.columns:
            doc, unit = FIELD_DOCS.get(str(col), ("", None))
            f: dict[str, Any] = {"name": str(col), "type": _field_type(frame[col])}
            if doc:
                f["description"] = doc
            if unit:
                f["unit"] = unit
            fields.append(f)
        resources.append({
            "name": name[:-4], "path": name, "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8", "bytes": len(data),
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "description": _DESCRIPTIONS.get(name, ""), "schema": {"fields": fields},
        })
    return {
        "profile": "tabular-data-package",
        "name": "quantumclusters-results",
        "title": "Quantum Clusters, executable: the result files of one run",
        "description": (
            f"The {len(files)} result files of the quantumclusters engine (an open reproduction of ECIPE Occasional "
            f"Paper 15/2025, 'Quantum Clusters'), run at the data cut-off {pd.Timestamp(result.cutoff).date()} "
            f"with {result.draws} Monte Carlo weight draws (seed {result.seed}). " + (
                "PROVENANCE: the numbers are "
                "computed from the database bundled with the book, which is PARTLY SYNTHETIC: the areas and the "
                "institutions the paper names are real (approximately); every other institution, every funding "
                "event and every collaboration was generated so that the method reproduces the paper's published "
                "ranks. No conclusion about the real world can be drawn from these files."
                if bundled else "PROVENANCE: the numbers are computed from a user-supplied database, not the bundled one."
            ) + synthetic
        ),
        "sources": [
            {"title": "ECIPE Occasional Paper 15/2025, Quantum Clusters: Ranking the World's Deep-Tech Epicentres "
                      "(method and published tables)"},
            {"title": "The bundled database of the quantumclusters book (partly synthetic; every record carries "
                      "'synthetic' and 'source' columns)"},
        ],
        "licenses": [{"name": "MIT", "title": "MIT License"}],
        "resources": resources,
    }


def archive_bytes(result: Any, bundled: bool = True) -> bytes:
    """The zip of the result files and ``datapackage.json`` (deterministic bytes);
    ``bundled`` as in :func:`datapackage`."""
    from quantumclusters.pipeline import result_frames

    frames = result_frames(result)
    files = {name: csv_bytes(frame) for name, frame in frames.items()}
    package = json.dumps(datapackage(result, files, frames, bundled), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    entries = {**files, "datapackage.json": package.encode("utf-8")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, entries[name], compresslevel=9)
    return buf.getvalue()


def write_downloads(folder: Path, data_path: Path, cutoff: str, draws: int, seed: int, key: str) -> Path:
    """Write :data:`ARCHIVE_NAME` into ``folder`` for a run of the engine on ``data_path``;
    skipped when ``folder`` already holds the archive of the same ``key`` (a hash of the
    inputs). Returns the archive's path."""
    from quantumclusters import paths
    from quantumclusters.pipeline import run
    from quantumclusters.schema import load_database

    folder.mkdir(parents=True, exist_ok=True)
    target, stamp = folder / ARCHIVE_NAME, folder.parent / ".downloads_key"
    full_key = f"{key}:{cutoff}:{draws}:{seed}"
    if target.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == full_key:
        return target
    from .runstore import load_or_run

    result = load_or_run(data_path, cutoff, draws, seed, None,
                         lambda: run(load_database(data_path), cutoff, draws=draws, seed=seed))
    bundled = Path(data_path).resolve() == paths.bundled_dir().resolve()
    target.write_bytes(archive_bytes(result, bundled))
    stamp.write_text(full_key, encoding="utf-8")
    return target
