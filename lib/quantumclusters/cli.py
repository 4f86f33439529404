"""The command line: ``python -m quantumclusters {validate,rank,fidelity,build,pdf} ...``.

Exit status: 0 on success; 2 when the database breaks the contract (one ``error:`` line per
problem on stderr) or the command line is wrong; 1 for any other failure (a clear one-line
message; ``--debug`` shows the traceback). ``rank`` writes its files into a temporary folder
beside the output folder and moves them into place only when everything succeeded, so a
failed run leaves no partial output.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import inspect
import os
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .paths import DEFAULT_CUTOFF, DEFAULT_SOBOL_N, OUTPUT_FILES
from .schema import (
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    FILES,
    DataValidationError,
    Database,
    apply_cutoff,
    parse_cutoff,
    read_tables,
    validate_frames,
)

PROG = "quantumclusters"
DEFAULT_DATA = "data/bundled"
#: Stages shown by the progress bar of ``rank``.
STAGES = ("load", "validate", "detect", "indicators", "rank", "robustness", "audit", "write")
#: The pipeline's stage names (``quantumclusters.pipeline.STAGES``) on the bar's stages.
_PIPELINE_STAGES = {
    "cut-off": "detect",
    "detection": "detect",
    "indicators": "indicators",
    "ranking": "rank",
    "robustness": "robustness",
    "audit": "audit",
}
#: Subcommands that hand their arguments to another module's ``main(argv)``.
DELEGATED = {
    "fidelity": (
        "quantumclusters.report.fidelity",
        "compare a run with the paper's published numbers",
    ),
    "build": ("quantumclusters.report.book", "run every chapter and build the HTML book"),
    "pdf": ("quantumclusters.report.pdf", "print the built HTML book to one PDF"),
}

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2


class CliError(Exception):
    """A failure with a message meant for the user (no traceback)."""

    def __init__(self, message: str, status: int = EXIT_FAILURE):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------
# argument parsing


def _cutoff_arg(text: str) -> _dt.date:
    try:
        return parse_cutoff(text).date()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _int_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


DESCRIPTION = """\
Detect, measure and rank quantum-technology clusters the way ECIPE Occasional Paper
15/2025 does, on the bundled database or on your own.

A database is a folder of four UTF-8 CSV files with a header row: institutions.csv,
funding.csv, collaborations.csv and areas.csv (the columns are described in data/README.md).
Check it with 'validate', then compute clusters, indicators, rankings, robustness and an
audit of the index (coherence, uncertainty, Sobol' sensitivity) with 'rank'.
"""

EPILOG = f"""\
examples:
  {PROG} validate data/bundled
  {PROG} rank --data data/bundled --cutoff 2025-07-31 --out results/
  {PROG} rank --data my_db/ --cutoff 2024-12-31 --out my_results/ --draws 1000
  {PROG} fidelity --help
  {PROG} build

exit status: 0 success; 2 invalid database or command line (one 'error:' line per
problem, naming the file, the row(s) and the column); 1 any other failure.
Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2.
"""

VALIDATE_EPILOG = f"""\
examples:
  {PROG} validate data/bundled
  {PROG} validate my_db/ --cutoff 2024-12-31

Prints 'OK' and the number of rows of each file, or one 'error:' line per problem and
exits with status 2. Every problem is reported, not only the first.
"""

RANK_EPILOG = f"""\
examples:
  {PROG} rank --out results/
  {PROG} rank --data my_db/ --cutoff 2024-12-31 --out my_results/
  {PROG} rank --data my_db/ --out quick/ --draws 200 --seed 1

Writes {len(OUTPUT_FILES)} files into the output folder (created if needed):
  {", ".join(OUTPUT_FILES[:3])},
  {", ".join(OUTPUT_FILES[3:6])},
  and the audit's {", ".join(OUTPUT_FILES[6:])}.
The audit draws --draws random sets of modelling choices (weights of the dimensions and of
the indicators, normalisation, arithmetic or geometric mean, one indicator left out) for
uncertainty.csv, and runs a Saltelli/Sobol' design of --sobol-n x 7 rankings for
sensitivity.csv; both are seeded with --seed.
Same-named files there are replaced, other files are left alone. Nothing is written if
the database is invalid or the run fails. Two runs on the same input give byte-identical
files. The cut-off is inclusive: a row dated on the cut-off day counts.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and for documentation)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    validate = sub.add_parser(
        "validate",
        help="check a database folder against the data contract",
        description="Check a database folder against the data contract and report every\n"
        "problem with its file, row(s) and column.",
        epilog=VALIDATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("data", metavar="DATA_DIR", help="the database folder")
    validate.add_argument(
        "--cutoff",
        type=_cutoff_arg,
        default=None,
        metavar="YYYY-MM-DD",
        help="also report how many rows count at this cut-off date (inclusive)",
    )
    _add_common(validate)

    rank = sub.add_parser(
        "rank",
        help=f"detect clusters and write the {len(OUTPUT_FILES)} result CSV files",
        description="Detect clusters and quasi-clusters, compute the nine indicators, rank\n"
        "the clusters, check the ranking's robustness and audit the index (coherence,\n"
        "uncertainty, Sobol' sensitivity); write the result as CSV files.",
        epilog=RANK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rank.add_argument(
        "--data",
        default=None,
        metavar="DATA_DIR",
        help=f"the database folder (default: the bundled database, {DEFAULT_DATA})",
    )
    rank.add_argument(
        "--cutoff",
        type=_cutoff_arg,
        default=_cutoff_arg(DEFAULT_CUTOFF),
        metavar="YYYY-MM-DD",
        help="data cut-off date, inclusive: only institutions active, funding and "
        f"collaborations dated on or before it count (default: {DEFAULT_CUTOFF}, the "
        "paper's)",
    )
    rank.add_argument(
        "--out", required=True, metavar="OUT_DIR", help="folder for the result files"
    )
    rank.add_argument(
        "--draws",
        type=_positive_int,
        default=DEFAULT_DRAWS,
        metavar="N",
        help="Monte Carlo draws of the robustness check (random weights) and of the audit's "
        f"uncertainty analysis (random modelling choices) (default: {DEFAULT_DRAWS})",
    )
    rank.add_argument(
        "--sobol-n",
        type=_positive_int,
        default=DEFAULT_SOBOL_N,
        metavar="N",
        help="base sample size of the audit's Sobol' sensitivity analysis: N x 7 rankings; "
        f"a power of 2 (default: {DEFAULT_SOBOL_N})",
    )
    rank.add_argument(
        "--seed",
        type=_int_arg,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed of the Monte Carlo draws and the Sobol' design (default: {DEFAULT_SEED})",
    )
    _add_common(rank)

    for name, (module, text) in DELEGATED.items():
        sub.add_parser(
            name,
            help=f"{text} (see '{PROG} {name} --help')",
            add_help=False,
        )
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar, only errors and results"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an unexpected failure, show the Python traceback",
    )


# ---------------------------------------------------------------------------------------
# progress


class _Progress:
    """A stage-by-stage progress bar on stderr (tqdm), silent when stderr is no terminal."""

    def __init__(self, stages: Sequence[str], quiet: bool):
        self._bar: Any = None
        if not quiet:
            try:
                from tqdm import tqdm
            except ImportError:  # pragma: no cover - tqdm is a requirement
                return
            self._bar = tqdm(
                total=len(stages),
                file=sys.stderr,
                disable=None,  # off when stderr is not a terminal
                unit="stage",
                leave=False,
                bar_format="{desc:<32} {bar:20} {n_fmt}/{total_fmt} [{elapsed}]",
            )
        self._stages = list(stages)
        self._done: set[str] = set()
        self._current: str | None = None

    def stage(self, name: str, detail: str = "") -> None:
        """Enter stage ``name`` (the previous one counts as done)."""
        _stop_if_terminated()
        if self._bar is None:
            return
        if name == self._current:
            self._bar.set_description_str(f"{name} {detail}".strip())
            return
        self._bar.set_description_str(f"{name} {detail}".strip(), refresh=False)
        if self._current is not None and self._current not in self._done:
            self._done.add(self._current)
            self._bar.update(1)
        else:
            self._bar.refresh()
        self._current = name

    def close(self) -> None:
        if self._bar is not None:
            if self._current is not None and self._current not in self._done:
                self._bar.update(1)
            self._bar.close()
            self._bar = None


# ---------------------------------------------------------------------------------------
# commands


def _load(data: str, progress: _Progress) -> Database:
    frames, problems = read_tables(data, on_file=lambda f: progress.stage("load", f))
    progress.stage("validate")
    return validate_frames(frames, problems)


def _cmd_validate(args: argparse.Namespace) -> int:
    progress = _Progress(("load", "validate"), args.quiet)
    try:
        db = _load(args.data, progress)
    finally:
        progress.close()
    counts = {
        "institutions": len(db.institutions),
        "funding": len(db.funding),
        "collaborations": len(db.collaborations),
        "areas": len(db.areas),
    }
    print(
        f"OK: {args.data} is a valid database: "
        + ", ".join(f"{FILES[t]} {n} rows" for t, n in counts.items())
    )
    if args.cutoff is not None:
        counted = apply_cutoff(db, args.cutoff)
        print(
            f"At the cut-off {args.cutoff.isoformat()}: "
            f"{len(counted.institutions)} of {counts['institutions']} institutions, "
            f"{len(counted.funding)} of {counts['funding']} funding rows, "
            f"{len(counted.collaborations)} of {counts['collaborations']} collaborations "
            "count."
        )
    return EXIT_OK


@contextlib.contextmanager
def _staging_dir(out: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``out`` (same file system), removed afterwards."""
    parent = out.parent if out.name else out
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name or 'out'}.tmp-", dir=parent))
    except OSError as error:
        raise CliError(f"cannot write the output folder {out}: {_os_reason(error)}") from None
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)


def _publish(tmp: Path, out: Path) -> list[Path]:
    """Move the files of ``tmp`` into ``out`` (replacing same-named files)."""
    _stop_if_terminated()
    if out.exists() and not out.is_dir():
        raise CliError(f"the output path {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for path in sorted(tmp.iterdir()):
            target = out / path.name
            os.replace(path, target)
            written.append(target)
    except OSError as error:
        raise CliError(f"cannot write to {out}: {_os_reason(error)}") from None
    return written


def _run_pipeline(db: Database, args: argparse.Namespace, progress: _Progress) -> Any:
    try:
        pipeline = importlib.import_module("quantumclusters.pipeline")
    except ModuleNotFoundError as error:
        if error.name == "quantumclusters.pipeline":
            raise CliError(
                "the ranking engine (quantumclusters.pipeline) is not installed in this "
                "version; only 'validate' is available"
            ) from None
        raise
    run = pipeline.run
    kwargs: dict[str, Any] = {"draws": args.draws, "seed": args.seed}
    parameters = inspect.signature(run).parameters
    if "sobol_n" in parameters:
        kwargs["sobol_n"] = args.sobol_n
    if "progress" in parameters:
        # The pipeline reports its own stages as progress(stage, done, total).
        def report(stage: str, done: int, total: int) -> None:
            if stage in _PIPELINE_STAGES:
                progress.stage(_PIPELINE_STAGES[stage])

        kwargs["progress"] = report
    else:
        progress.stage("detect", "… rank, robustness, audit")
    return pipeline, pipeline.run(db, args.cutoff, **kwargs)


def _summary(result: Any) -> str:
    clusters = getattr(result, "clusters", None)
    quasi = getattr(result, "quasi_clusters", None)
    parts = []
    if clusters is not None:
        n = len(clusters)
        parts.append(f"{n} cluster{'s' if n != 1 else ''}")
    if quasi is not None:
        m = len(quasi)
        text = f"{m} quasi-cluster{'s' if m != 1 else ''}"
        if m and "tier" in getattr(quasi, "columns", ()):
            tiers = quasi["tier"].astype(str).value_counts()
            text += f" (Tier 1: {int(tiers.get('1', 0))}, Tier 2: {int(tiers.get('2', 0))})"
        parts.append(text)
    db = getattr(result, "db", None)
    if db is not None:
        parts.append(f"{len(db.institutions)} institutions counted")
    return ", ".join(parts)


def _default_data() -> str:
    """``data/bundled`` of the current folder if there is one, else the repository's."""
    if Path(DEFAULT_DATA).is_dir():
        return DEFAULT_DATA
    from .paths import bundled_dir

    return str(bundled_dir())


def _cmd_rank(args: argparse.Namespace) -> int:
    if args.data is None:
        args.data = _default_data()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"the output path {out} exists and is not a folder")
    progress = _Progress(STAGES, args.quiet)
    try:
        with _staging_dir(out) as tmp:
            db = _load(args.data, progress)
            pipeline, result = _run_pipeline(db, args, progress)
            progress.stage("write")
            pipeline.write_result(result, tmp)
            written = _publish(tmp, out)
    finally:
        progress.close()
    names = ", ".join(p.name for p in written)
    print(f"Wrote {len(written)} files to {out}: {names}")
    summary = _summary(result)
    if summary:
        print(f"Cut-off {args.cutoff.isoformat()}: {summary}.")
    return EXIT_OK


def _delegate(name: str, argv: list[str]) -> int:
    module_name = DELEGATED[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise CliError(
                f"the '{name}' command is not available in this version "
                f"(module {module_name} is missing)"
            ) from None
        raise
    status = module.main(argv)
    return int(status or 0)


# ---------------------------------------------------------------------------------------
# entry point


class _Terminated(BaseException):
    """SIGTERM arrived: unwind (removing the staging folder) and exit.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception``
    fallback in the libraries the run goes through can swallow it and let the run finish."""


#: Set by SIGTERM. The handler raises :class:`_Terminated` at once, but Python swallows an
#: exception raised while a finalizer (``__del__``, a weakref callback) happens to run, so
#: every stage boundary and the final move of the files check this flag too: a run that
#: received SIGTERM never finishes and never publishes.
_TERMINATION = threading.Event()


def _on_sigterm(signum: int, frame: object) -> None:
    _TERMINATION.set()
    raise _Terminated()


def _stop_if_terminated() -> None:
    """Raise :class:`_Terminated` if SIGTERM arrived (see :data:`_TERMINATION`)."""
    if _TERMINATION.is_set():
        raise _Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    previous = None
    own_command = not (args_list and args_list[0] in DELEGATED)
    if own_command and threading.current_thread() is threading.main_thread():
        _TERMINATION.clear()
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(args_list)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(args_list: list[str]) -> int:
    debug = "--debug" in args_list
    try:
        if args_list and args_list[0] in DELEGATED:
            return _delegate(args_list[0], args_list[1:])
        parser = build_parser()
        args = parser.parse_args(args_list)
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "rank":
            return _cmd_rank(args)
        parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    except DataValidationError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        n = len(error.problems)
        print(
            f"{n} problem{'s' if n != 1 else ''} found; nothing was computed or written. "
            "Rows are spreadsheet rows (header = row 1).",
            file=sys.stderr,
        )
        return EXIT_INVALID
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        print("error: interrupted; no result files were written", file=sys.stderr)
        return 130
    except _Terminated:
        print("error: terminated; no result files were written", file=sys.stderr)
        return 143
    except Exception as error:  # noqa: BLE001 - the user gets a message, not a traceback
        if debug:
            traceback.print_exc()
        print(
            f"error: unexpected failure: {type(error).__name__}: {error}"
            + ("" if debug else " (run again with --debug for the traceback)"),
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return EXIT_OK  # pragma: no cover
