"""One run of the method: cut-off, detection, indicators, ranking, robustness
(contract sections 2-8), the audit (issue 15: coherence, uncertainty, Sobol' sensitivity;
:mod:`quantumclusters.audit`), and the output files: the six of section 8 and the audit's
four (:data:`OUTPUT_FILES`).

>>> from quantumclusters.schema import load_database
>>> result = run(load_database("data/bundled"), "2025-07-31")      # doctest: +SKIP
>>> write_result(result, "out/")                                      # doctest: +SKIP

Output files are byte-deterministic: rows sorted, floats in full precision (shortest
round-trip representation), UTF-8, ``"\\n"`` line endings, fixed column order.
"""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .audit import DEFAULT_SOBOL_N, Audit, audit as run_audit
from .detection import Detection, Params, detect, encode
from .indicators import INDICATORS, compute_indicators
from .paths import OUTPUT_FILES
from .ranking import rank_clusters
from .robustness import DEFAULT_DRAWS, DEFAULT_SEED, Scheme, robustness
from .schema import Database, apply_cutoff, parse_cutoff

__all__ = [
    "STAGES",
    "ProgressCallback",
    "Result",
    "OUTPUT_FILES",
    "ASSIGNMENT_COLUMNS",
    "CLUSTER_COLUMNS",
    "QUASI_CLUSTER_COLUMNS",
    "run",
    "result_frames",
    "audit_frames",
    "write_result",
]

#: The stages :func:`run` reports to its ``progress`` callback, in order.
STAGES: tuple[str, ...] = ("cut-off", "detection", "indicators", "ranking", "robustness", "audit")
#: ``progress(stage, done, total)``: called before each stage (done = stages finished so
#: far) and once at the end with ``stage == "done"``.
ProgressCallback = Callable[[str, int, int], None]

ASSIGNMENT_COLUMNS: tuple[str, ...] = ("institution_id", "status", "group")
CLUSTER_COLUMNS: tuple[str, ...] = (
    "cluster",
    "area_id",
    "country",
    "region",
    "lat",
    "lon",
    "institutions",
    "startups",
    "research_institutions",
    "population",
    "gdp_usd",
)
QUASI_CLUSTER_COLUMNS: tuple[str, ...] = (
    "quasi_cluster",
    "area_id",
    "country",
    "region",
    "tier",
    "institutions",
    "collaborations",
)


@dataclass(frozen=True)
class Result:
    """Everything one run produces. The frames are exactly the section 8 files.

    * ``db``: the counted database (after the cut-off);
    * ``assignments``, ``clusters``, ``indicators`` (``cluster`` column + the nine),
      ``ranking``, ``quasi_clusters``, ``robustness``: the six files;
    * ``audit``: coherence, uncertainty, sensitivity, leave-one-out
      (:class:`quantumclusters.audit.Audit`; ``None`` when the run skipped it), whose
      ``uncertainty``, ``sensitivity``, ``coherence`` and ``correlations`` are the four
      audit files;
    * ``detection``: intermediate steps of section 4 (DBSCAN labels, merges, candidates).
    """

    db: Database
    cutoff: pd.Timestamp
    params: Params
    assignments: pd.DataFrame
    clusters: pd.DataFrame
    indicators: pd.DataFrame
    ranking: pd.DataFrame
    quasi_clusters: pd.DataFrame
    robustness: pd.DataFrame
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    detection: Detection | None = field(default=None, repr=False)
    audit: Audit | None = field(default=None, repr=False)
    sobol_n: int = DEFAULT_SOBOL_N

    def indicator_table(self) -> pd.DataFrame:
        """The indicators indexed by cluster name (the form :func:`rank_clusters` takes)."""
        return self.indicators.set_index("cluster")


def run(
    db: Database,
    cutoff: str | _dt.date | pd.Timestamp = "2025-07-31",
    params: Params = Params(),
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    scheme: Scheme = "uniform",
    progress: ProgressCallback | None = None,
    sobol_n: int = DEFAULT_SOBOL_N,
    audit: bool = True,
) -> Result:
    """Run contract sections 2-7 and the audit on a validated database and return the
    :class:`Result`.

    The audit (:func:`quantumclusters.audit.audit`: ``draws`` uncertainty draws, a Sobol'
    design of base size ``sobol_n``, seeded with ``seed``) runs unless ``audit`` is False or
    ``draws`` is 0 (a ranks-only run, as the book's reruns ask for).

    ``progress`` (off by default) is called as ``progress(stage, done, total)`` before each
    of :data:`STAGES` and with ``"done"`` at the end.
    """
    report = progress or (lambda stage, done, total: None)
    total = len(STAGES)
    day = parse_cutoff(cutoff)

    report("cut-off", 0, total)
    counted = apply_cutoff(db, day)

    report("detection", 1, total)
    encoded = encode(counted)  # identifiers -> positions, once for the whole run
    detection = detect(counted, params, encoded)

    report("indicators", 2, total)
    table = compute_indicators(
        counted.institutions,
        counted.funding,
        counted.collaborations,
        detection.assignments,
        detection.clusters,
        encoded,
    )

    report("ranking", 3, total)
    ranking = rank_clusters(table)

    report("robustness", 4, total)
    robust = robustness(table, draws=draws, seed=seed, scheme=scheme)

    report("audit", 5, total)
    audited = run_audit(table, draws=draws, sobol_n=sobol_n, seed=seed) if audit and draws > 0 else None
    report("done", total, total)

    indicators = table.reset_index()
    indicators["cluster"] = indicators["cluster"].astype("string")
    return Result(
        db=counted,
        cutoff=day,
        params=params,
        assignments=detection.assignments[list(ASSIGNMENT_COLUMNS)],
        clusters=detection.clusters[list(CLUSTER_COLUMNS)],
        indicators=indicators[["cluster", *INDICATORS]],
        ranking=ranking,
        quasi_clusters=detection.quasi_clusters[list(QUASI_CLUSTER_COLUMNS)],
        robustness=robust,
        draws=draws,
        seed=seed,
        detection=detection,
        audit=audited,
        sobol_n=sobol_n,
    )


def result_frames(result: Result) -> dict[str, pd.DataFrame]:
    """The output files as frames, rows in their deterministic order: the six of section 8,
    then the audit's four when the run has an audit."""
    frames = {
        "assignments.csv": result.assignments.sort_values("institution_id", kind="stable"),
        "clusters.csv": result.clusters.sort_values("cluster", kind="stable"),
        "indicators.csv": result.indicators.sort_values("cluster", kind="stable"),
        "ranking.csv": result.ranking.sort_values(["overall_rank", "cluster"], kind="stable", na_position="last"),
        "quasi_clusters.csv": result.quasi_clusters.sort_values("quasi_cluster", kind="stable"),
        "robustness.csv": result.robustness,
    }
    if result.audit is not None:
        frames.update(audit_frames(result.audit))
    return frames


def audit_frames(audit: Audit) -> dict[str, pd.DataFrame]:
    """uncertainty.csv (by baseline rank, then cluster), sensitivity.csv (factors in the
    order of :data:`quantumclusters.audit.FACTORS`), coherence.csv (dimensions in order)
    and correlations.csv (the 9x9 matrix, an ``indicator`` column first)."""
    return {
        "uncertainty.csv": audit.uncertainty.sort_values(["baseline_rank", "cluster"], kind="stable"),
        "sensitivity.csv": audit.sensitivity,
        "coherence.csv": audit.coherence,
        "correlations.csv": audit.correlations.reset_index(),
    }


def write_result(result: Result, out_dir: str | Path) -> list[Path]:
    """Write the CSV files (:func:`result_frames`: the six of contract section 8 and the
    audit's four) into ``out_dir`` (created if needed).

    Deterministic bytes: sorted rows, full-precision floats, UTF-8, ``"\\n"`` line endings.
    Returns the paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in result_frames(result).items():
        path = out / name
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        written.append(path)
    return written
