"""One run per build: the engine's result is computed once and read by every later process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quantumclusters import paths
from quantumclusters.detection import Params
from quantumclusters.report import runstore

EXAMPLE = paths.repo_root() / "tests" / "data" / "example"

# A fresh process: load the example database at the paper's cut-off through the chapters'
# own loader, counting the engine runs (pipeline.run is wrapped before anything loads).
LOADER = r"""
import sys
from quantumclusters import pipeline
calls = []
_real = pipeline.run
def counting(*a, **k):
    calls.append(1)
    return _real(*a, **k)
pipeline.run = counting
from quantumclusters.report import notebook
r = notebook.load(sys.argv[1], "2024-12-31", 50, 7)
print("RUNS", len(calls), "CLUSTERS", len(r.clusters), "RANKING", r.ranking.to_csv(index=False).replace("\n", "|"))
"""


def _load_in_fresh_process(cache: Path, data: Path) -> tuple[int, str]:
    env = dict(os.environ, **{runstore.ENV_CACHE_DIR: str(cache)})
    env["PYTHONPATH"] = str(paths.repo_root() / "lib") + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", LOADER, str(data)], capture_output=True, text=True, env=env,
                          cwd=str(paths.repo_root()))
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RUNS"))
    runs = int(line.split()[1])
    return runs, line.split("RANKING", 1)[1]


def test_second_load_in_a_fresh_process_reads_the_stored_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    runs, first = _load_in_fresh_process(cache, EXAMPLE)
    assert runs == 1
    assert len(list(cache.glob("run-*.pkl"))) == 1
    assert not list(cache.glob("*.lock")) and not list(cache.glob(".*tmp"))
    runs, second = _load_in_fresh_process(cache, EXAMPLE)
    assert runs == 0, "the second process ran the pipeline again"
    assert second == first  # the same outputs


def test_the_key_changes_with_every_input(tmp_path: Path) -> None:
    base = runstore.run_key(EXAMPLE, "2024-12-31", 50, 7, None)
    assert base == runstore.run_key(EXAMPLE, "2024-12-31", 50, 7, None)
    others = {
        runstore.run_key(EXAMPLE, "2024-12-30", 50, 7, None),
        runstore.run_key(EXAMPLE, "2024-12-31", 51, 7, None),
        runstore.run_key(EXAMPLE, "2024-12-31", 50, 8, None),
        runstore.run_key(EXAMPLE, "2024-12-31", 50, 7, Params(eps_km=25.0)),
    }
    assert base not in others and len(others) == 4
    # the same files elsewhere give the same key; one changed byte gives another
    copy = tmp_path / "db"
    shutil.copytree(EXAMPLE, copy)
    assert runstore.run_key(copy, "2024-12-31", 50, 7, None) == base
    f = copy / "funding.csv"
    f.write_text(f.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert runstore.run_key(copy, "2024-12-31", 50, 7, None) != base


def test_the_key_changes_with_the_engine_source(monkeypatch: pytest.MonkeyPatch) -> None:
    base = runstore.run_key(EXAMPLE, "2024-12-31", 50, 7, None)
    monkeypatch.setattr(runstore, "engine_hash", lambda: "another engine")
    assert runstore.run_key(EXAMPLE, "2024-12-31", 50, 7, None) != base


def test_a_waiting_process_takes_over_a_dead_owners_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runstore.ENV_CACHE_DIR, str(tmp_path))
    key = runstore.run_key(EXAMPLE, "x", 1, 1, None)
    lock = runstore.stored_path(key).with_suffix(".lock")
    lock.write_text("999999999")  # no such process
    assert runstore.load_or_run(EXAMPLE, "x", 1, 1, None, lambda: {"computed": True}) == {"computed": True}
    assert not lock.exists()
    # stored: the next call does not compute
    assert runstore.load_or_run(EXAMPLE, "x", 1, 1, None, lambda: pytest.fail("computed twice")) == {"computed": True}


def test_an_unwritable_store_still_computes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(runstore.ENV_CACHE_DIR, str(blocker / "cache"))
    assert runstore.load_or_run(EXAMPLE, "x", 1, 1, None, lambda: 42) == 42
