"""quantumclusters: detect, measure and rank quantum-technology clusters.

An executable reading of ECIPE Occasional Paper 15/2025, "Quantum Clusters: Ranking the
World's Deep-Tech Epicentres". The method is pinned in ``CONTRACT.md`` (see data/README.md);
every step is a small function so that a notebook can call it and show its result.
"""

__version__ = "0.1.0"
