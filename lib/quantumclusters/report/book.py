"""The book's build runner: ``python -m quantumclusters build``.

What it does, in order:

1. Reads each chapter (``chapters/NN_name.md``, a MyST Markdown notebook) with jupytext and
   executes it with papermill, injecting only the parameters that differ from the chapter's
   defaults (``data_dir``, ``cutoff``, ``draws``, ``seed``). The injected cell is tagged
   ``remove-cell`` so the reader never sees it. A data folder inside the repository is
   injected *relative to the repository root* (the notebook resolves it with
   :func:`quantumclusters.paths.resolve_data_dir`), so committed notebooks hold no
   absolute path and re-execute anywhere (nbval does exactly that in CI).
2. Strips what varies between runs (papermill's timings, cell ids, jupytext's version) and
   writes the executed notebook to ``book/NN_name.ipynb`` byte-stably.
3. Runs ``jupyter-book build -W -n --keep-going --all`` so that any warning or error fails
   the build, and prints where ``index.html`` is.

A failing cell stops nothing else: every chapter runs, then each failure is reported with
the chapter, the cell (its number and its first line, and the line in the ``.md`` file)
and the error, and the command exits 1 without building the HTML.

Cache. Every executed notebook carries, in its metadata, a key hashed from the chapter's
code cells, the injected parameters, the ``lib/`` sources, the data files and the pinned
requirements. When the key of a chapter still matches its executed notebook, the chapter
is not executed again: its (possibly edited) Markdown cells are spliced into the executed
notebook around the stored outputs. A prose-only edit therefore rebuilds in seconds.
``--force`` ignores the cache.

Cluster profiles. After the chapters, the template ``chapters/profiles/cluster.md`` is
executed once per cluster into ``book/profiles/<slug>.ipynb`` (not committed; see
:mod:`quantumclusters.report.profilebuild`), cached by the same key, in batches that share
one kernel each. One run of the engine serves the whole build: the first process that
needs it computes and stores it (:mod:`quantumclusters.report.runstore`), every chapter and
profile reads it; ``--force`` recomputes it.

``--out-dir DIR`` builds a complete, separate book in DIR (``DIR/_config.yml``,
``DIR/_toc.yml``, ``DIR/book/``, ``DIR/_build/html``), so tests never touch the committed
``book/``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .. import paths
from ..schema import DEFAULT_DRAWS, DEFAULT_SEED
from . import profilebuild

__all__ = [
    "DEFAULT_PARAMETERS",
    "ChapterFailure",
    "chapter_sources",
    "select_chapters",
    "injected_parameters",
    "cache_key",
    "normalise_notebook",
    "splice_markdown",
    "run_chapter",
    "build_html",
    "main",
]

#: The defaults every chapter's ``parameters`` cell declares. Only differences are injected.
DEFAULT_PARAMETERS: dict[str, Any] = {
    "data_dir": None,
    "cutoff": paths.DEFAULT_CUTOFF,
    "draws": DEFAULT_DRAWS,
    "seed": DEFAULT_SEED,
}

#: Bump to invalidate every cached notebook when the runner's output format changes.
CACHE_VERSION = "1"
KERNEL_NAME = "python3"
CELL_TIMEOUT_S = 1200
INJECTED_TAG = "injected-parameters"
HIDE_TAG = "remove-cell"
META_KEY = "quantumclusters"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- chapters


def chapter_sources(chapters_dir: Path | None = None) -> list[Path]:
    """The chapter files ``NN_name.md`` in book order."""
    d = chapters_dir or paths.chapters_dir()
    return sorted(p for p in d.glob("[0-9][0-9]_*.md") if p.is_file())


def select_chapters(names: Sequence[str] | None, sources: list[Path]) -> list[Path]:
    """Chapters named on the command line: a stem (``03_collaboration_intensity``), a file
    name, its number (``03``) or the name without number (``collaboration_intensity``)."""
    if not names:
        return list(sources)
    chosen: list[Path] = []
    for name in names:
        key = Path(name).name
        key = key[:-3] if key.endswith(".md") else key
        key = key[:-6] if key.endswith(".ipynb") else key
        hits = [
            p
            for p in sources
            if key in (p.stem, p.stem[:2], p.stem[3:]) or (len(key) == 1 and p.stem[:2] == f"0{key}")
        ]
        if len(hits) != 1:
            known = ", ".join(p.stem for p in sources)
            raise SystemExit(f"error: no chapter named {name!r} (chapters: {known})")
        if hits[0] not in chosen:
            chosen.append(hits[0])
    return [p for p in sources if p in chosen]


def injected_parameters(
    data: str | os.PathLike[str] | None = None,
    cutoff: str | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The parameters to inject: only those that differ from :data:`DEFAULT_PARAMETERS`.

    A data folder inside the repository becomes a POSIX path relative to the repository
    root; the bundled database is the default and is not injected at all.
    """
    params: dict[str, Any] = {}
    if data is not None:
        resolved = Path(data).expanduser().resolve()
        if resolved != paths.bundled_dir().resolve():
            rel = paths.relative_to_root(resolved)
            params["data_dir"] = rel if rel is not None else str(resolved)
    if cutoff is not None:
        try:
            _dt.date.fromisoformat(cutoff)
        except ValueError:
            raise SystemExit(f"error: --cutoff {cutoff!r} is not a date YYYY-MM-DD") from None
        if cutoff != DEFAULT_PARAMETERS["cutoff"]:
            params["cutoff"] = cutoff  # stays a string (papermill quotes it)
    if draws is not None and draws != DEFAULT_PARAMETERS["draws"]:
        params["draws"] = int(draws)
    if seed is not None and seed != DEFAULT_PARAMETERS["seed"]:
        params["seed"] = int(seed)
    return params


# --------------------------------------------------------------------------- cache


def _hash_tree(h: "hashlib._Hash", root: Path, patterns: Sequence[str] = ("**/*",)) -> None:
    if not root.exists():
        h.update(f"missing:{root.name}\n".encode())
        return
    files: set[Path] = set()
    for pattern in patterns:
        files.update(p for p in root.glob(pattern) if p.is_file())
    for p in sorted(files):
        rel = p.relative_to(root).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in Path(rel).parts):
            continue
        h.update(rel.encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())


def _data_fingerprint(data_path: Path) -> str:
    """Hash of everything a chapter may read besides its code: lib/, the database, the
    published numbers, the map outlines, the pinned requirements."""
    root = paths.repo_root()
    h = hashlib.sha256()
    h.update(f"python {sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    for name, tree, patterns in (
        ("lib", root / "lib" / "quantumclusters", ("**/*.py",)),
        ("data", data_path, ("**/*",)),
        ("published", paths.published_dir(), ("**/*",)),
        ("geo", paths.geo_dir(), ("**/*.json", "**/*.geojson")),
    ):
        h.update(f"[{name}]\n".encode())
        _hash_tree(h, tree, patterns)
    req = root / "requirements.txt"
    if req.is_file():
        h.update(req.read_bytes())
    return h.hexdigest()


def cache_key(nb: Any, params: dict[str, Any], fingerprint: str) -> str:
    """Key of an executed chapter: code cells (source and metadata), parameters, inputs."""
    h = hashlib.sha256()
    h.update(f"cache v{CACHE_VERSION}\n".encode())
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(fingerprint.encode())
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        h.update(b"\0cell\0" + cell.source.encode())
        h.update(json.dumps(dict(cell.get("metadata", {})), sort_keys=True).encode())
    return h.hexdigest()[:32]


# --------------------------------------------------------------------------- notebooks


def _read_chapter(src: Path) -> Any:
    import jupytext

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    return nb


def normalise_notebook(nb: Any, *, key: str, params: dict[str, Any], chapter: str) -> Any:
    """Strip what varies between runs so the written notebook is byte-stable, hide the
    injected-parameters cell, and record the cache key."""
    md = nb.metadata
    for k in ("papermill", "jupytext", "widgets"):
        md.pop(k, None)
    li = md.get("language_info")
    if isinstance(li, dict):
        li.pop("version", None)
    md[META_KEY] = {"cache_key": key, "chapter": chapter, "parameters": params}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        cm = cell.setdefault("metadata", {})
        for k in ("papermill", "execution", "collapsed", "scrolled"):
            cm.pop(k, None)
        tags = list(cm.get("tags", []))
        if INJECTED_TAG in tags and HIDE_TAG not in tags:
            tags.append(HIDE_TAG)
        if tags:
            cm["tags"] = tags
        else:
            cm.pop("tags", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    out["execution_count"] = cell.get("execution_count")
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def _dumps(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nb, version=4) + "\n"


def _is_injected(cell: Any) -> bool:
    return INJECTED_TAG in cell.get("metadata", {}).get("tags", [])


def splice_markdown(source_nb: Any, executed_nb: Any) -> Any:
    """The chapter's current cells, with the outputs of the executed notebook.

    Valid only when the cache key matches (so both have the same code cells in the same
    order): Markdown comes from ``source_nb``, outputs and the injected cell from
    ``executed_nb``.
    """
    import copy

    injected = [c for c in executed_nb.cells if _is_injected(c)]
    executed_code = [c for c in executed_nb.cells if c.cell_type == "code" and not _is_injected(c)]
    new = copy.deepcopy(source_nb)
    source_code = [c for c in new.cells if c.cell_type == "code"]
    if len(source_code) != len(executed_code):
        raise ValueError("code cells differ: cannot splice")
    for src_cell, done in zip(source_code, executed_code):
        if src_cell.source != done.source:
            raise ValueError("code cells differ: cannot splice")
        src_cell["outputs"] = copy.deepcopy(done.get("outputs", []))
        src_cell["execution_count"] = done.get("execution_count")
    if injected:
        pos = next(
            (i + 1 for i, c in enumerate(new.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
            0,
        )
        new.cells.insert(pos, copy.deepcopy(injected[0]))
    for k in ("language_info",):
        if k in executed_nb.metadata:
            new.metadata[k] = copy.deepcopy(executed_nb.metadata[k])
    return new


@dataclass
class ChapterFailure:
    """A chapter that did not run: where and why."""

    chapter: str
    message: str
    cell_index: int | None = None
    first_line: str = ""
    md_line: int | None = None
    traceback: list[str] = field(default_factory=list)
    failing_line: str = ""

    def describe(self) -> str:
        where = f"chapter {self.chapter}"
        if self.cell_index is not None:
            where += f", cell {self.cell_index}"
            if self.md_line:
                where += f" (chapters/{self.chapter}.md line {self.md_line})"
        text = f"{where}: {self.message}"
        if self.first_line:
            text += f"\n    cell begins: {self.first_line}"
        if self.failing_line and self.failing_line.strip() != self.first_line.strip():
            text += f"\n    failing line: {self.failing_line}"
        return text


@dataclass
class ChapterOutcome:
    chapter: str
    status: str  # "executed" | "spliced" | "unchanged" | "failed"
    seconds: float = 0.0
    failure: ChapterFailure | None = None
    stderr_cells: list[int] = field(default_factory=list)


def _md_line_of(src: Path, cell_source: str) -> int | None:
    lines = src.read_text(encoding="utf-8").splitlines()
    first = next((ln for ln in cell_source.splitlines() if ln.strip()), None)
    if first is None:
        return None
    for i, line in enumerate(lines, start=1):
        if line == first:
            return i
    return None


def _failing_line(traceback: list[str]) -> str:
    """The ``---->`` line of the chapter's own cell in an IPython traceback."""
    import re

    text = "\n".join(traceback).splitlines()
    in_cell = False
    for line in text:
        if line.startswith("Cell In["):
            in_cell = True
        elif line.startswith(("File ", "Cell ")) and not line.startswith("Cell In["):
            in_cell = False
        if in_cell:
            m = re.match(r"^-+>\s*\d+\s(.*)$", line)
            if m:
                return m.group(1).strip()
    return ""


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _from_cache(nb: Any, out_path: Path, key: str, params: dict[str, Any], stem: str) -> ChapterOutcome | None:
    """The executed notebook at ``out_path`` when its key is ``key``: unchanged, or with the
    Markdown of ``nb`` spliced in (written back); None when it must be executed."""
    import nbformat

    if not out_path.is_file():
        return None
    try:
        cached = nbformat.read(out_path, as_version=4)
    except Exception:
        return None
    if cached.metadata.get(META_KEY, {}).get("cache_key") != key:
        return None
    try:
        spliced = normalise_notebook(splice_markdown(nb, cached), key=key, params=params, chapter=stem)
    except ValueError:
        return None
    text = _dumps(spliced)
    if out_path.read_text(encoding="utf-8") == text:
        return ChapterOutcome(stem, "unchanged")
    out_path.write_text(text, encoding="utf-8")
    return ChapterOutcome(stem, "spliced")


def run_chapter(
    src: Path,
    book_dir: Path,
    params: dict[str, Any],
    fingerprint: str,
    force: bool = False,
    execute: bool = True,
) -> ChapterOutcome | None:
    """Execute (or splice) one chapter into ``book_dir/<stem>.ipynb``.

    With ``execute=False`` only the cache is tried: returns None when the chapter would
    have to be executed."""
    import nbformat

    t0 = time.perf_counter()
    stem = src.stem
    out_path = book_dir / f"{stem}.ipynb"
    try:
        nb = _read_chapter(src)
    except Exception as exc:  # a malformed chapter file
        return ChapterOutcome(stem, "failed", failure=ChapterFailure(stem, f"cannot read {src.name}: {exc}"))
    has_parameters = any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    if params and not has_parameters:
        return ChapterOutcome(
            stem,
            "failed",
            failure=ChapterFailure(stem, "has no cell tagged `parameters`; cannot inject " + ", ".join(params)),
        )
    key = cache_key(nb, params, fingerprint)

    if not force:
        hit = _from_cache(nb, out_path, key, params, stem)
        if hit is not None:
            hit.seconds = time.perf_counter() - t0
            return hit

    if not execute:
        return None
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    logging.getLogger("papermill").setLevel(logging.ERROR)
    try:
        executed = pm.execute_notebook(
            nb,
            None,
            parameters=params or None,
            kernel_name=KERNEL_NAME,
            language="python",
            cwd=str(book_dir),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            execution_timeout=CELL_TIMEOUT_S,
        )
    except PapermillExecutionError as err:
        first = next((ln for ln in (err.source or "").splitlines() if ln.strip()), "")
        tb = [_strip_ansi(t) for t in (err.traceback or [])]
        message = f"{err.ename}: {err.evalue}"
        return ChapterOutcome(
            stem,
            "failed",
            time.perf_counter() - t0,
            ChapterFailure(
                stem, message, err.cell_index, first, _md_line_of(src, err.source or ""), tb, _failing_line(tb)
            ),
        )
    except Exception as exc:  # kernel died, timeout, ...
        return ChapterOutcome(
            stem, "failed", time.perf_counter() - t0, ChapterFailure(stem, f"{type(exc).__name__}: {exc}")
        )
    executed = normalise_notebook(executed, key=key, params=params, chapter=stem)
    stderr_cells = [
        i
        for i, c in enumerate(executed.cells)
        if c.cell_type == "code"
        and any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in c.get("outputs", []))
    ]
    book_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".ipynb.tmp")
    tmp.write_text(_dumps(executed), encoding="utf-8")
    tmp.replace(out_path)
    return ChapterOutcome(stem, "executed", time.perf_counter() - t0, stderr_cells=stderr_cells)


def _run_chapter_job(args: tuple[str, str, dict[str, Any], str, bool]) -> ChapterOutcome:
    src, book_dir, params, fingerprint, force = args
    return run_chapter(Path(src), Path(book_dir), params, fingerprint, force)


def _outcome_from_dict(d: dict[str, Any]) -> ChapterOutcome:
    failure = d.get("failure")
    return ChapterOutcome(
        d["chapter"], d["status"], d.get("seconds", 0.0),
        ChapterFailure(**failure) if failure else None, list(d.get("stderr_cells", [])),
    )


def _run_chapter_subprocess(args: tuple[str, str, dict[str, Any], str, bool]) -> ChapterOutcome:
    """One chapter in a fresh Python process (parallel runs; the kernel's own chatter on
    stderr is kept out of the progress bar)."""
    code = "from quantumclusters.report.book import _worker_main; _worker_main()"
    # parallel chapters share the cores: one thread each for the numeric libraries
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    proc = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(list(args)), capture_output=True, text=True,
        cwd=str(paths.repo_root()), env=env,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        return _outcome_from_dict(json.loads(lines[-1]))
    stem = Path(args[0]).stem
    tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
    return ChapterOutcome(stem, "failed", failure=ChapterFailure(stem, f"the runner process died: {tail}"))


def _worker_main() -> None:
    import dataclasses

    src, book_dir, params, fingerprint, force = json.loads(sys.stdin.read())
    outcome = run_chapter(Path(src), Path(book_dir), params, fingerprint, force)
    print(json.dumps(dataclasses.asdict(outcome)))


# --------------------------------------------------------------------------- HTML


def _prepare_out_dir(out_dir: Path) -> None:
    """Give a separate book folder its own copy of the config, plain Markdown pages and styles."""
    root = paths.repo_root()
    if out_dir.resolve() == root.resolve():
        return
    (out_dir / "book").mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "_config.yml", out_dir / "_config.yml")
    for page in sorted((root / "book").glob("*.md")):  # plain pages such as about_data.md
        shutil.copy2(page, out_dir / "book" / page.name)
    static = root / "book" / "_static"
    if static.is_dir():
        shutil.copytree(static, out_dir / "book" / "_static", dirs_exist_ok=True)


def _write_placeholder(target: Path, stem: str) -> None:
    """A page for a chapter neither run nor available in book/ (so links to it resolve)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {stem}\n\nThis chapter was not built in this run.")]
    nb.cells[0]["id"] = "cell-000"
    nb.metadata[META_KEY] = {"placeholder": True, "chapter": stem}
    target.write_text(_dumps(nb), encoding="utf-8")


def _write_pruned_toc(out_dir: Path) -> None:
    """A copy of the committed ``_toc.yml`` listing only the notebooks present in DIR."""
    import yaml

    toc = yaml.safe_load((paths.repo_root() / "_toc.yml").read_text(encoding="utf-8"))
    present = {p.stem for p in (out_dir / "book").glob("*.ipynb")}
    pages = {p.stem for p in (out_dir / "book").glob("*.md")}  # plain pages are kept, never run
    root_stem = Path(str(toc.get("root", ""))).name
    if root_stem and root_stem not in present | pages:  # e.g. a test's own chapters: a stand-in front page
        _write_placeholder(out_dir / "book" / f"{root_stem}.ipynb", root_stem)
        present.add(root_stem)

    def keep(entry: dict[str, Any]) -> bool:
        return Path(entry["file"]).name in present | pages

    profiles_present = any((out_dir / "book" / profilebuild.FOLDER).glob("*.ipynb"))

    def without_empty_globs(entry: dict[str, Any]) -> dict[str, Any]:
        """A chapter without its glob of cluster profiles when none were built here."""
        if profiles_present or "sections" not in entry:
            return entry
        sections = [s for s in entry["sections"] if not str(s.get("glob", "")).startswith(f"book/{profilebuild.FOLDER}/")]
        out = {k: v for k, v in entry.items() if k != "sections"}
        return {**out, "sections": sections} if sections else out

    parts = []
    listed: set[str] = set()
    for part in toc.get("parts", []):
        chapters = [without_empty_globs(c) for c in part.get("chapters", []) if keep(c)]
        listed.update(Path(c["file"]).name for c in part.get("chapters", []))
        if chapters:
            parts.append({**part, "chapters": chapters})
    others = sorted(present - listed - {root_stem})
    if others:  # e.g. a test's own chapters
        parts.append({"caption": "Chapters", "chapters": [{"file": f"book/{s}"} for s in others]})
    toc["parts"] = parts
    if not parts:
        toc.pop("parts")
    (out_dir / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _name_cell(line: str) -> str:
    """myst-nb reports ``NN_name.ipynb:280006`` (cell * 10000 + line): say it in words."""
    import re

    def repl(m: "re.Match[str]") -> str:
        n = int(m.group(2))
        return f"{Path(m.group(1)).stem} (cell {n // 10000}, line {n % 10000}):"

    return re.sub(r"(\S+\.ipynb):(\d{5,}):", repl, line)


def _jupyter_book_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "jupyter-book"
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("jupyter-book")
    if found:
        return [found]
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


def _drop_stale_redirect(html_dir: Path) -> None:
    """Remove the site's ``index.html`` when it is a redirect: sphinx-external-toc writes the
    redirect to the root page only when there is none (its own "TODO rewrite the redirect if
    master_doc has changed"), so after the root page changed a rebuilt site kept sending
    readers, and the PDF, to the old front page. The build writes it anew."""
    index = html_dir / "index.html"
    if index.is_file() and index.stat().st_size < 1024:
        if 'http-equiv="Refresh"' in index.read_text(encoding="utf-8", errors="replace"):
            index.unlink()


def build_html(out_dir: Path, *, incremental: bool = False) -> tuple[int, Path, list[str]]:
    """``jupyter-book build`` with every warning an error. Returns (exit code, index, problems)."""
    _drop_stale_redirect(out_dir / "_build" / "html")
    cmd = _jupyter_book_cmd() + ["build", str(out_dir), "-W", "-n", "--keep-going", "-q"]
    if not incremental:
        cmd.append("--all")
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    proc = subprocess.run(cmd, cwd=out_dir, capture_output=True, text=True, env=env)
    text = _strip_ansi(proc.stdout + "\n" + proc.stderr)
    problems = [
        ln.strip()
        for ln in text.splitlines()
        if ("WARNING" in ln or "ERROR" in ln or "CRITICAL" in ln) and "DeprecationWarning" not in ln
    ]
    problems = [_name_cell(ln) for ln in problems]
    code = proc.returncode
    if code != 0 and not problems:
        problems = [ln for ln in text.splitlines() if ln.strip()][-25:]
    return code, out_dir / "_build" / "html" / "index.html", problems


# --------------------------------------------------------------------------- CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m quantumclusters build",
        description="Run every chapter with papermill and build the HTML book.",
    )
    p.add_argument("--data", metavar="DIR", help="database folder (default: the bundled data/bundled/)")
    p.add_argument("--cutoff", metavar="DATE", help=f"data cut-off YYYY-MM-DD (default {paths.DEFAULT_CUTOFF})")
    p.add_argument("--chapter", metavar="NAME", nargs="+", action="extend", help="run only these chapters (e.g. 03 or 03_collaboration_intensity)")
    p.add_argument("--draws", type=int, metavar="N", help=f"Monte Carlo weight draws (default {DEFAULT_DRAWS})")
    p.add_argument("--seed", type=int, metavar="S", help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--out-dir", metavar="DIR", help="build a separate book in DIR instead of the repository's book/")
    p.add_argument("--no-html", action="store_true", help="run the chapters only, skip jupyter-book")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="chapters run in parallel (default 2)")
    p.add_argument("--force", action="store_true", help="re-execute every chapter, ignoring the cache")
    p.add_argument("--render-only", action="store_true", help="execute no chapter: render the executed notebooks of book/ (with --out-dir: a copy of them); the cluster profiles are generated if there are none")
    p.add_argument("--chapters-dir", metavar="DIR", help=argparse.SUPPRESS)  # tests: other chapter sources
    p.add_argument("--incremental", action="store_true", help="let Sphinx rebuild changed pages only (no --all)")
    return p


def _validate_data(data: Path) -> int:
    if not data.is_dir():
        print(f"error: --data {data}: no such folder", file=sys.stderr)
        return 2
    try:
        from ..schema import DataValidationError, load_database
    except ImportError:  # the engine is not there yet
        return 0
    try:
        load_database(data)
    except DataValidationError as err:
        print(f"error: the database in {data} is invalid:\n{err}", file=sys.stderr)
        return 2
    return 0


@dataclass
class BuildPlan:
    """What one ``build`` does: where, with which chapters, data and parameters."""

    args: argparse.Namespace
    out_dir: Path
    separate: bool  # a private build outside the repository (``--out-dir``)
    book_dir: Path
    chapters_dir: Path
    sources: list[Path]
    chosen: list[Path]  # the chapters to run (cached or spliced where they can be)
    data_path: Path
    params: dict[str, Any]
    fingerprint: str

    @property
    def run_inputs(self) -> tuple[str, int, int]:
        """(cut-off, draws, seed) of the stored engine run."""
        p = self.params
        return (
            str(p.get("cutoff", DEFAULT_PARAMETERS["cutoff"])),
            int(p.get("draws", DEFAULT_DRAWS)),
            int(p.get("seed", DEFAULT_SEED)),
        )

    @property
    def timings_file(self) -> Path:
        """Seconds per chapter of earlier runs (longest first keeps both workers busy)."""
        return self.out_dir / "_build" / ".chapter_seconds.json"


def _plan(args: argparse.Namespace) -> BuildPlan | int:
    """The build's :class:`BuildPlan`, or an exit code when it cannot start."""
    root = paths.repo_root()
    out_dir = Path(args.out_dir).expanduser().resolve() if args.out_dir else root
    chapters_dir = Path(args.chapters_dir).resolve() if args.chapters_dir else paths.chapters_dir()
    sources = chapter_sources(chapters_dir)
    if not sources:
        print(f"error: no chapters in {chapters_dir}", file=sys.stderr)
        return 2
    chosen = select_chapters(args.chapter, sources)
    data_path = Path(args.data).expanduser().resolve() if args.data else paths.bundled_dir()
    if args.data:
        rc = _validate_data(data_path)
        if rc:
            return rc
    separate = out_dir != root.resolve()
    params = injected_parameters(args.data, args.cutoff, args.draws, args.seed)
    if not separate and "data_dir" in params and os.path.isabs(params["data_dir"]):
        print(
            f"warning: {data_path} is outside the repository: the notebooks in book/ will hold "
            "its absolute path (use --out-dir for a private build)",
            file=sys.stderr,
        )
    return BuildPlan(
        args=args,
        out_dir=out_dir,
        separate=separate,
        book_dir=out_dir / "book",
        chapters_dir=chapters_dir,
        sources=sources,
        chosen=chosen,
        data_path=data_path,
        params=params,
        fingerprint=_data_fingerprint(data_path),
    )


def _prepare_book_dir(plan: BuildPlan) -> list[Path]:
    """Create the book folder (a separate build gets the repository's executed notebooks
    for the chapters it does not run); return the chapters to run."""
    args, book_dir = plan.args, plan.book_dir
    if plan.separate:
        _prepare_out_dir(plan.out_dir)
    book_dir.mkdir(parents=True, exist_ok=True)
    if plan.separate and not args.no_html:
        # the chapters not run here come from the repository's executed notebooks, so that
        # the separate book is complete and its cross-references resolve
        others = plan.sources if args.render_only else [p for p in plan.sources if p not in plan.chosen]
        for p in others:
            committed = paths.book_dir() / f"{p.stem}.ipynb"
            target = book_dir / committed.name
            if committed.is_file() and (args.render_only or not target.is_file()):
                shutil.copy2(committed, target)
            elif not target.is_file() and not args.render_only:
                _write_placeholder(target, p.stem)
    if plan.separate and (args.render_only or args.chapter) and (paths.book_dir() / profilebuild.FOLDER).is_dir():
        # the profiles not run here come from the repository's, as the chapters do
        shutil.copytree(paths.book_dir() / profilebuild.FOLDER, book_dir / profilebuild.FOLDER, dirs_exist_ok=True)
    if args.render_only:
        return []
    if not plan.separate and not args.no_html:
        # the committed table of contents lists every chapter: run the missing ones too
        missing = [p for p in plan.sources if p not in plan.chosen and not (book_dir / f"{p.stem}.ipynb").is_file()]
        return [p for p in plan.sources if p in plan.chosen or p in missing]
    return list(plan.chosen)


def _wants_profiles(plan: BuildPlan) -> bool:
    """Whether this build runs the cluster profiles: one page per cluster from one template,
    cached like the chapters. They are not committed: a full build runs them; a build of
    some chapters runs them when the profiles' own chapter is among them, or when there are
    none and the repository's table of contents, which lists them, is built; a render-only
    build when there are none."""
    args = plan.args
    if profilebuild.template_path(plan.chapters_dir) is None:
        return False
    profiles_missing = not any((plan.book_dir / profilebuild.FOLDER).glob("*.ipynb"))
    full_build = not (args.chapter or args.render_only)
    profiles_chosen = any(p.stem == profilebuild.PROFILES_CHAPTER for p in plan.chosen) and bool(args.chapter)
    needed_here = profiles_missing and (args.render_only or (not plan.separate and not args.no_html))
    return full_build or profiles_chosen or needed_here


def _execute(plan: BuildPlan, schedule: list[Path]) -> list[ChapterOutcome]:
    """Run the chapters of ``schedule`` (cache hits and Markdown splices in this process,
    the rest in worker processes, ``--jobs`` at a time) and the profiles if wanted."""
    from tqdm import tqdm

    args, book_dir, params = plan.args, plan.book_dir, plan.params
    outcomes: list[ChapterOutcome] = []
    schedule = list(schedule)
    if not args.force:  # cache hits and Markdown splices need no worker process
        for p in list(schedule):
            hit = run_chapter(p, book_dir, params, plan.fingerprint, execute=False)
            if hit is not None:
                outcomes.append(hit)
                schedule.remove(p)
    jobs = [(str(p), str(book_dir), params, plan.fingerprint, args.force) for p in schedule]
    want_profiles = _wants_profiles(plan)

    def plan_profile_tasks() -> list[tuple[str, Any, int]]:
        """The profiles to execute, in batches (the run is computed here if no chapter has
        stored it yet: the chapters' kernels start meanwhile and then read it)."""
        from . import runstore

        run = runstore.load_or_run(plan.data_path, *plan.run_inputs, None)
        template = profilebuild.template_path(plan.chapters_dir)
        assert template is not None
        profile_jobs, served = profilebuild.plan_profiles(run, template, book_dir, params, plan.fingerprint, args.force)
        outcomes.extend(served)
        return [(f"profiles ({len(b)})", b, len(b)) for b in profilebuild.batches(profile_jobs)]

    tasks: list[tuple[str, Any, int]] = [(Path(j[0]).stem, j, 1) for j in jobs]
    bar = tqdm(total=len(tasks), desc="chapters", unit="page", file=sys.stderr, dynamic_ncols=True,
               disable=not (tasks or want_profiles))

    def run_task(task: tuple[str, Any, int], in_process: bool) -> list[ChapterOutcome]:
        name, job, _n = task
        if name.startswith("profiles"):
            return profilebuild.run_batch_subprocess(job, params)
        return [_run_chapter_job(job) if in_process else _run_chapter_subprocess(job)]

    def add_to_bar(more: list[tuple[str, Any, int]]) -> None:
        bar.total = (bar.total or 0) + sum(n for _, _, n in more)
        bar.refresh()

    if max(1, args.jobs) == 1:
        if want_profiles:
            more = plan_profile_tasks()
            add_to_bar(more)
            tasks += more
        for task in tasks:
            bar.set_postfix_str(task[0])
            outcomes += run_task(task, True)
            bar.update(task[2])
    else:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(run_task, task, False): task for task in tasks}
            if want_profiles:  # planned while the first chapters start
                more = plan_profile_tasks()
                add_to_bar(more)
                futures.update({pool.submit(run_task, task, False): task for task in more})
            for fut in as_completed(futures):
                outcomes += fut.result()
                bar.set_postfix_str(futures[fut][0])
                bar.update(futures[fut][2])
    bar.close()
    return outcomes


def _read_timings(plan: BuildPlan) -> dict[str, float]:
    try:
        return dict(json.loads(plan.timings_file.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _save_timings(plan: BuildPlan, timings: dict[str, float], outcomes: list[ChapterOutcome]) -> None:
    executed = {o.chapter: round(o.seconds, 1) for o in outcomes if o.status == "executed" and "/" not in o.chapter}
    if not executed:
        return
    try:
        plan.timings_file.parent.mkdir(parents=True, exist_ok=True)
        plan.timings_file.write_text(json.dumps({**timings, **executed}, indent=1, sort_keys=True), encoding="utf-8")
    except OSError:
        pass


def _report(outcomes: list[ChapterOutcome]) -> int:
    """Print each chapter's outcome (one line for all the profiles), every cell that wrote
    to stderr, and the failures; return 1 if any page failed, else 0."""
    profile_counts: dict[str, int] = {}
    for o in outcomes:
        if o.status != "failed" and "/" in o.chapter:
            profile_counts[o.status] = profile_counts.get(o.status, 0) + 1
        elif o.status != "failed":
            print(f"  {o.chapter}: {o.status} ({o.seconds:.1f} s)", file=sys.stderr)
        for i in o.stderr_cells:
            print(f"  warning: {o.chapter} cell {i} wrote to stderr (nbval compares it)", file=sys.stderr)
    if profile_counts:
        print("  cluster profiles: " + ", ".join(f"{v} {k}" for k, v in sorted(profile_counts.items())),
              file=sys.stderr)
    failures = [o.failure for o in outcomes if o.failure is not None]
    if not failures:
        return 0
    print(f"\n{len(failures)} of {len(outcomes)} chapters failed:", file=sys.stderr)
    for f in failures:
        print("  " + f.describe().replace("\n", "\n  "), file=sys.stderr)
        if f.traceback:
            tail = "\n".join(f.traceback).strip().splitlines()[-6:]
            print("      " + "\n      ".join(tail), file=sys.stderr)
    return 1


def _build_site(plan: BuildPlan) -> int:
    """Write the downloads and build the HTML; return the exit code."""
    if plan.separate:
        _write_pruned_toc(plan.out_dir)
    from . import downloads  # the run's result files, copied to the site's root (html_extra_path)

    downloads.write_downloads(plan.out_dir / "_build" / "downloads", plan.data_path, *plan.run_inputs, plan.fingerprint)
    t1 = time.perf_counter()
    print("building HTML with jupyter-book ...", file=sys.stderr)
    code, index, problems = build_html(plan.out_dir, incremental=plan.args.incremental)
    if code != 0:
        print(f"error: jupyter-book build failed ({len(problems)} problem(s)):", file=sys.stderr)
        for line in problems:
            print("  " + line, file=sys.stderr)
        return 1
    print(f"HTML built in {time.perf_counter() - t1:.1f} s", file=sys.stderr)
    print(f"index.html: {index}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m quantumclusters build``; returns the exit code."""
    args = _parser().parse_args(list(argv) if argv is not None else None)
    plan = _plan(args)
    if isinstance(plan, int):
        return plan
    chosen = _prepare_book_dir(plan)
    if args.force and not args.render_only:  # the stored run of the engine is recomputed too
        from . import runstore

        runstore.forget(plan.data_path, *plan.run_inputs)
    timings = _read_timings(plan)
    t0 = time.perf_counter()
    outcomes = _execute(plan, sorted(chosen, key=lambda p: -float(timings.get(p.stem, 0.0))))
    order = {p.stem: i for i, p in enumerate(chosen)}
    outcomes.sort(key=lambda o: (order.get(o.chapter, len(order)), o.chapter))
    _save_timings(plan, timings, outcomes)
    if _report(outcomes):
        return 1
    print(f"chapters done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.no_html:
        return 0
    return _build_site(plan)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


# --------------------------------------------------------------------------- Sphinx hook


def _dedupe_assets(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Drop repeated <script>/<link> entries (sphinx-thebe 0.3 adds its inline script twice,
    which makes every page throw ``Identifier 'THEBE_JS_URL' has already been declared``)."""
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if not files:
            continue
        seen: set[Any] = set()
        unique = []
        for f in files:
            attrs = getattr(f, "attributes", {}) or {}
            k = f if isinstance(f, str) else (
                str(getattr(f, "filename", None) or ""), tuple(sorted((a, str(v)) for a, v in attrs.items()))
            )
            if k in seen:
                continue
            seen.add(k)
            unique.append(f)
        context[key] = unique


def setup(app: Any) -> dict[str, Any]:
    """Sphinx extension entry point (``_config.yml``: ``sphinx.extra_extensions``)."""
    app.connect("html-page-context", _dedupe_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
