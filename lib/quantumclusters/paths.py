"""Where things are in the repository.

Notebooks never hold absolute paths: the build runner injects a data folder that lies
inside the repository *relative to the repository root*, and the notebook resolves it
with :func:`resolve_data_dir`. A committed notebook therefore re-executes unchanged in a
fresh clone at any other path (which is what nbval does in CI).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DEFAULT_CUTOFF",
    "OUTPUT_FILES",
    "DEFAULT_SOBOL_N",
    "repo_root",
    "bundled_dir",
    "published_dir",
    "geo_dir",
    "chapters_dir",
    "book_dir",
    "resolve_data_dir",
    "relative_to_root",
]

#: The paper's data cut-off, the default of every run.
DEFAULT_CUTOFF = "2025-07-31"
#: The files a ranking run writes, in this order: the six of contract section 8, then the
#: four of the audit (issue 15; :mod:`quantumclusters.audit`). Declared here, in
#: a module without heavy imports, so the command line can name them without loading the
#: engine.
OUTPUT_FILES: tuple[str, ...] = (
    "assignments.csv",
    "clusters.csv",
    "indicators.csv",
    "ranking.csv",
    "quasi_clusters.csv",
    "robustness.csv",
    "uncertainty.csv",
    "sensitivity.csv",
    "coherence.csv",
    "correlations.csv",
)
#: Base sample size N of the audit's Saltelli/Sobol' design (N x 7 model runs), the
#: default of ``rank --sobol-n`` (here so the command line need not load the engine).
DEFAULT_SOBOL_N: int = 512


def repo_root() -> Path:
    """The repository root (the folder holding ``pyproject.toml`` and ``_config.yml``).

    The package is installed editable from ``lib/``, so the root is two levels above this
    file. ``QUANTUMCLUSTERS_ROOT`` overrides it (for an unusual install).
    """
    env = os.environ.get("QUANTUMCLUSTERS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent, *here.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "lib").is_dir():
            return candidate
    return here.parent.parent


def bundled_dir() -> Path:
    """The bundled database: ``data/bundled/``."""
    return repo_root() / "data" / "bundled"


def published_dir() -> Path:
    """The paper's published numbers: ``data/published/``."""
    return repo_root() / "data" / "published"


def geo_dir() -> Path:
    """Committed country outlines for the maps: ``data/geo/``."""
    return repo_root() / "data" / "geo"


def chapters_dir() -> Path:
    """The chapter sources (MyST Markdown notebooks): ``chapters/``."""
    return repo_root() / "chapters"


def book_dir() -> Path:
    """The executed notebooks and the front page: ``book/``."""
    return repo_root() / "book"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The database folder a notebook should read.

    ``None`` (the chapters' default) is the bundled database; a relative path is taken
    relative to the repository root (never to the working directory, which differs
    between papermill, nbval and a reader's Jupyter); an absolute path is used as is.
    """
    if data_dir is None or str(data_dir) == "":
        return bundled_dir()
    path = Path(data_dir).expanduser()
    if not path.is_absolute():
        path = repo_root() / path
    return path


def relative_to_root(path: str | os.PathLike[str]) -> str | None:
    """``path`` relative to the repository root in POSIX form, or None if it lies outside."""
    p = Path(path).expanduser().resolve()
    try:
        return p.relative_to(repo_root()).as_posix()
    except ValueError:
        return None
