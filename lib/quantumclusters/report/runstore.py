"""One run per build: the engine's result, computed once and stored on disk.

Every chapter and every cluster profile needs the same
:class:`~quantumclusters.pipeline.Result`. Computing it takes several seconds (detection,
indicators, the Monte Carlo and Sobol' audit), so it is computed by the first process
that asks for it and stored as a pickle under ``_build/cache/`` (or the folder named by
the ``QUANTUMCLUSTERS_RUN_CACHE`` environment variable), keyed by everything it depends on:

* a fingerprint of the database files (names and contents),
* the cut-off, the Monte Carlo draws and seed, the detection parameters,
* a hash of the engine's source (every module of ``quantumclusters`` outside ``report``),
* the versions of Python, pandas and NumPy (a pickle is only read by the versions that
  wrote it).

Writes are atomic (a temporary file in the same folder, then :func:`os.replace`), so a
reader never sees half a file. Two processes that miss at the same time are kept from
computing twice by a lock file created with ``O_EXCL``: the second waits for the first's
result (and computes itself if the lock's owner died). If the folder cannot be written
(a read-only checkout), the result is computed and simply not stored.

A clean clone has no ``_build/``: the first load creates the folder. That is what nbval
does in CI with the committed notebooks: the first notebook computes, the others read.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "ENV_CACHE_DIR",
    "cache_dir",
    "engine_hash",
    "data_fingerprint",
    "run_key",
    "stored_path",
    "load_or_run",
    "forget",
]

#: Environment variable naming another folder for the stored runs (tests use it).
ENV_CACHE_DIR = "QUANTUMCLUSTERS_RUN_CACHE"
#: Bump when the stored format changes.
STORE_VERSION = "1"
#: How long a process waits for another one's computation before computing itself.
LOCK_WAIT_S = 300.0
#: How many stored runs are kept (the oldest are removed beyond this).
KEEP = 32


def cache_dir() -> Path:
    """Where stored runs live: ``$QUANTUMCLUSTERS_RUN_CACHE`` or ``<repository>/_build/cache``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    from quantumclusters import paths

    return paths.repo_root() / "_build" / "cache"


def _hash_files(h: "hashlib._Hash", root: Path, files: list[Path]) -> None:
    for p in sorted(files):
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())


@functools.lru_cache(maxsize=1)
def engine_hash() -> str:
    """Hash of the engine's source: the package's modules outside ``report/``."""
    import quantumclusters

    root = Path(quantumclusters.__file__).resolve().parent
    files = [p for p in root.glob("*.py") if p.is_file()]
    h = hashlib.sha256()
    _hash_files(h, root, files)
    return h.hexdigest()


def data_fingerprint(data_path: str | os.PathLike[str]) -> str:
    """Hash of every file of a database folder (names and bytes), hidden files excepted."""
    root = Path(data_path).resolve()
    h = hashlib.sha256()
    if not root.is_dir():
        h.update(f"missing:{root}".encode())
        return h.hexdigest()
    files = [p for p in root.rglob("*") if p.is_file()
             and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)]
    _hash_files(h, root, files)
    return h.hexdigest()


def _versions() -> str:
    import numpy
    import pandas

    return f"python {sys.version_info[0]}.{sys.version_info[1]} pandas {pandas.__version__} numpy {numpy.__version__}"


def run_key(data_path: str | os.PathLike[str], cutoff: str, draws: int, seed: int, params: Any = None) -> str:
    """The key of a run: database fingerprint, cut-off, draws, seed, detection parameters,
    engine source and library versions. Any change to one of them changes the key."""
    h = hashlib.sha256()
    for part in (
        f"store v{STORE_VERSION}",
        data_fingerprint(data_path),
        str(cutoff),
        str(int(draws)),
        str(int(seed)),
        repr(params),
        engine_hash(),
        _versions(),
    ):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()[:40]


def stored_path(key: str) -> Path:
    """The file a run of ``key`` is stored in."""
    return cache_dir() / f"run-{key}.pkl"


def _read(path: Path) -> Any | None:
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
        return None


def _write(path: Path, result: Any) -> None:
    """Store atomically: a temporary file beside the target, then one rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink(missing_ok=True)


def _prune(folder: Path, keep: int = KEEP) -> None:
    runs = sorted(folder.glob("run-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep:]:
        old.unlink(missing_ok=True)


def _take_lock(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


def _owner_alive(lock: Path) -> bool:
    try:
        pid = int(lock.read_text().strip() or "0")
    except (OSError, ValueError):
        return True  # being written: assume alive
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_or_run(
    data_path: str | os.PathLike[str],
    cutoff: str,
    draws: int,
    seed: int,
    params: Any = None,
    compute: Callable[[], Any] | None = None,
) -> Any:
    """The stored result of this run, or compute it (``compute()``; by default
    :func:`quantumclusters.pipeline.run` on the database), store it and return it."""
    if compute is None:

        def compute() -> Any:
            from quantumclusters import pipeline, schema

            kwargs: dict[str, Any] = {"draws": int(draws), "seed": int(seed)}
            if params is not None:
                kwargs["params"] = params
            return pipeline.run(schema.load_database(data_path), cutoff, **kwargs)

    key = run_key(data_path, cutoff, draws, seed, params)
    path = stored_path(key)
    hit = _read(path) if path.is_file() else None
    if hit is not None:
        return hit
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return compute()
    lock = path.with_suffix(".lock")
    owner = _take_lock(lock)
    if not owner:  # another process computes it: wait for its result
        deadline = time.monotonic() + LOCK_WAIT_S
        while lock.exists() and time.monotonic() < deadline and _owner_alive(lock):
            time.sleep(0.1)
        hit = _read(path) if path.is_file() else None
        if hit is not None:
            return hit
        if lock.exists() and not _owner_alive(lock):
            lock.unlink(missing_ok=True)  # its owner died: take over
        owner = _take_lock(lock)
    try:
        result = compute()
        try:
            _write(path, result)
            _prune(path.parent)
        except OSError:
            pass
        return result
    finally:
        if owner:
            lock.unlink(missing_ok=True)


def forget(data_path: str | os.PathLike[str], cutoff: str, draws: int, seed: int, params: Any = None) -> bool:
    """Remove the stored run of these inputs (``build --force`` recomputes everything);
    True when there was one."""
    path = stored_path(run_key(data_path, cutoff, draws, seed, params))
    try:
        path.unlink()
        return True
    except OSError:
        return False
