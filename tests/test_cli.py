"""The command line (``python -m quantumclusters``): exit codes, messages, output files.

The contract's promises are checked in a real subprocess (exit status 2 on invalid data,
one ``error:`` line per problem, no traceback, no output files; byte-identical reruns);
the remaining branches are exercised in-process through ``cli.main``.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from quantumclusters import cli
from quantumclusters.schema import FILES

EXAMPLE = Path(__file__).parent / "data" / "example"
SIX = sorted(cli.OUTPUT_FILES)  # the six files of contract section 8 and the audit's four
assert len(SIX) == 10


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quantumclusters", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def bad_db(db_dir: Path) -> Path:
    """The example with three problems in three files."""
    path = db_dir / "institutions.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # row 3 = hel-u2: latitude 95
    fields = lines[2].split(",")
    fields[3] = "95.0"
    lines[2] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = db_dir / "funding.csv"
    text = path.read_text(encoding="utf-8").replace("F003,hel-s2,", "F003,hel-u1,")
    path.write_text(text, encoding="utf-8")
    path = db_dir / "collaborations.csv"
    text = path.read_text(encoding="utf-8").replace("C005,hel-u1,", "C005,nobody,")
    path.write_text(text, encoding="utf-8")
    return db_dir


class Ran:
    """The outcome of an in-process run, shaped like a CompletedProcess."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def call(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``cli.main(args)`` in this process (faster than a subprocess)."""

    def run(*args: str) -> Ran:
        capsys.readouterr()
        try:
            status = cli.main(list(args))
        except SystemExit as exit:  # argparse: --help, usage errors
            status = int(exit.code or 0)
        captured = capsys.readouterr()
        return Ran(status, captured.out, captured.err)

    return run


def assert_no_traceback(proc: subprocess.CompletedProcess[str] | Ran) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------
# help


def test_help() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for word in ("validate", "rank", "fidelity", "build", "examples:", "--cutoff", "row 2"):
        assert word in proc.stdout, word


@pytest.mark.parametrize("command", ["validate", "rank"])
def test_subcommand_help(command: str, call) -> None:
    proc = call(command, "--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and f"quantumclusters {command}" in proc.stdout


def test_no_command_is_a_usage_error(call) -> None:
    proc = call()
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
    assert_no_traceback(proc)


# ---------------------------------------------------------------------------------------
# validate


def test_validate_example_exits_0() -> None:
    proc = run_cli("validate", str(EXAMPLE), "--cutoff", "2025-07-31")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: ")
    assert "institutions.csv 41 rows" in proc.stdout
    assert "40 of 41 institutions" in proc.stdout


def test_validate_invalid_exits_2_with_one_line_per_problem(bad_db: Path) -> None:
    proc = run_cli("validate", str(bad_db))
    assert proc.returncode == 2
    assert_no_traceback(proc)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: institutions.csv, row 3, column lat: value '95.0' is outside [-90, 90]",
        "error: funding.csv, row 4, column institution_id: institution 'hel-u1' is a "
        "university; funding is allowed only on a startup or corporate",
        "error: collaborations.csv, row 6, column institution_a: unknown institution id "
        "'nobody' (not in institutions.csv)",
    ]
    assert "3 problems found" in proc.stderr


def test_validate_missing_folder(tmp_path: Path, call) -> None:
    proc = call("validate", str(tmp_path / "nowhere"))
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert "nowhere" in proc.stderr and "does not exist" in proc.stderr


def test_validate_file_not_utf8(db_dir: Path, call) -> None:
    path = db_dir / "areas.csv"
    path.write_bytes(path.read_bytes().replace("–".encode(), b"\x96"))
    proc = call("validate", str(db_dir))
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert "error: areas.csv: file is not UTF-8 at line 4" in proc.stderr


# ---------------------------------------------------------------------------------------
# rank


def test_rank_invalid_data_exits_2_and_writes_nothing(bad_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = run_cli("rank", "--data", str(bad_db), "--out", str(out))
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert proc.stderr.count("error: ") == 3
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_rank_invalid_data_leaves_an_existing_output_alone(bad_db: Path, tmp_path: Path, call) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "ranking.csv").write_text("old\n")
    proc = call("rank", "--data", str(bad_db), "--out", str(out))
    assert proc.returncode == 2
    assert sorted(p.name for p in out.iterdir()) == ["ranking.csv"]
    assert (out / "ranking.csv").read_text() == "old\n"


@pytest.mark.parametrize("cutoff", ["31/07/2025", "2025-13-01", "2025-02-30", "soon"])
def test_rank_bad_cutoff(cutoff: str, tmp_path: Path, call) -> None:
    out = tmp_path / "results"
    proc = call("rank", "--data", str(EXAMPLE), "--cutoff", cutoff, "--out", str(out))
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert "--cutoff" in proc.stderr and cutoff in proc.stderr
    assert not out.exists()


def test_rank_missing_data_folder(tmp_path: Path, call) -> None:
    out = tmp_path / "results"
    proc = call("rank", "--data", str(tmp_path / "nowhere"), "--out", str(out))
    assert proc.returncode == 2
    assert_no_traceback(proc)
    assert "does not exist" in proc.stderr
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_rank_output_path_is_a_file(tmp_path: Path, call) -> None:
    out = tmp_path / "results.csv"
    out.write_text("x\n")
    proc = call("rank", "--data", str(EXAMPLE), "--out", str(out))
    assert proc.returncode == 1
    assert_no_traceback(proc)
    assert "is not a folder" in proc.stderr
    assert out.read_text() == "x\n"


def test_rank_output_folder_cannot_be_created(tmp_path: Path, call) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x\n")
    proc = call("rank", "--data", str(EXAMPLE), "--out", str(blocker / "results"))
    assert proc.returncode == 1
    assert_no_traceback(proc)
    assert "error: cannot write the output folder" in proc.stderr


def test_rank_example_writes_ten_files_and_reruns_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    proc = run_cli("rank", "--data", str(EXAMPLE), "--cutoff", "2025-07-31", "--out", str(first))
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    assert sorted(p.name for p in first.iterdir()) == SIX
    assert f"Wrote 10 files to {first}" in proc.stdout
    assert "2 clusters, 1 quasi-cluster (Tier 1: 1, Tier 2: 0)" in proc.stdout
    proc = run_cli("rank", "--data", str(EXAMPLE), "--out", str(second))  # default cut-off
    assert proc.returncode == 0, proc.stderr
    match, mismatch, errors = filecmp.cmpfiles(first, second, SIX, shallow=False)
    assert (sorted(match), mismatch, errors) == (SIX, [], [])
    assert leftovers(tmp_path) == []


def test_rank_example_contents(tmp_path: Path, call) -> None:
    # The example is hand-made (tests/data/example/README.md): Greater Helsinki and Hefei
    # are clusters, Delft–The Hague a Tier 1 quasi-cluster, the rest noise.
    out = tmp_path / "out"
    assert call("rank", "--data", str(EXAMPLE), "--out", str(out), "--draws", "100").returncode == 0
    clusters = (out / "clusters.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in clusters[1:]] == ["Greater Helsinki", "Hefei"]
    quasi = (out / "quasi_clusters.csv").read_text(encoding="utf-8").splitlines()
    assert quasi[1].startswith("Delft–The Hague,nl-del,NL,EU,1,7,")
    assignments = (out / "assignments.csv").read_text(encoding="utf-8")
    assert "007,cluster,Hefei\n" in assignments
    assert "hel-s5" not in assignments  # active only after the cut-off


def test_rank_keeps_other_files_in_the_output_folder(tmp_path: Path, call) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    (out / "ranking.csv").write_text("stale\n")
    proc = call("rank", "--data", str(EXAMPLE), "--out", str(out), "--draws", "50", "-q")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*SIX, "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "ranking.csv").read_text(encoding="utf-8").startswith("cluster,overall_rank")


def test_console_script_entry_point_matches_module() -> None:
    exe = Path(sys.executable).parent / "quantumclusters"
    if not exe.exists():
        pytest.skip("console script not installed")
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "quantumclusters" in proc.stdout


# ---------------------------------------------------------------------------------------
# in-process: failures inside the run, and the delegated subcommands


def test_unexpected_failure_exits_1_without_traceback_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import quantumclusters.pipeline as pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "run", broken)
    out = tmp_path / "out"
    status = cli.main(["rank", "--data", str(EXAMPLE), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert status == 1
    assert "error: unexpected failure: RuntimeError: boom" in err and "--debug" in err
    assert "Traceback" not in err
    assert not out.exists() and leftovers(tmp_path) == []

    status = cli.main(["rank", "--data", str(EXAMPLE), "--out", str(out), "-q", "--debug"])
    assert status == 1 and "Traceback" in capsys.readouterr().err


def test_failure_while_writing_leaves_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import quantumclusters.pipeline as pipeline

    def half_written(result: object, out_dir: object) -> None:
        (Path(str(out_dir)) / "assignments.csv").write_text("partial\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "write_result", half_written)
    out = tmp_path / "out"
    status = cli.main(["rank", "--data", str(EXAMPLE), "--out", str(out), "-q", "--draws", "10"])
    assert status == 1
    assert "No space left on device" in capsys.readouterr().err
    assert not out.exists() and leftovers(tmp_path) == []


def test_progress_reports_every_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []
    real_stage = cli._Progress.stage

    def spy(self: cli._Progress, name: str, detail: str = "") -> None:
        seen.append(name)
        real_stage(self, name, detail)

    monkeypatch.setattr(cli._Progress, "stage", spy)
    status = cli.main(["rank", "--data", str(EXAMPLE), "--out", str(tmp_path / "o"), "--draws", "10"])
    assert status == 0
    stages = list(dict.fromkeys(seen))
    assert stages == list(cli.STAGES)
    capsys.readouterr()


@pytest.mark.parametrize("name, module", [("fidelity", "quantumclusters.report.fidelity"), ("build", "quantumclusters.report.book")])
def test_delegated_subcommands_pass_their_arguments(
    name: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[list[str]] = []
    fake = types.ModuleType(module)
    fake.main = lambda argv: received.append(list(argv)) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module, fake)
    assert cli.main([name, "--out", "x", "--help"]) == 3
    assert received == [["--out", "x", "--help"]]


@pytest.mark.parametrize("name, module", [("fidelity", "quantumclusters.report.fidelity"), ("build", "quantumclusters.report.book")])
def test_delegated_subcommand_missing_module(
    name: str, module: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail
    assert cli.main([name]) == 1
    err = capsys.readouterr().err
    assert f"error: the '{name}' command is not available" in err and module in err


def test_terminated_run_leaves_no_staging_folder(tmp_path: Path) -> None:
    """SIGTERM in the middle of a run: the temporary folder is removed, nothing is written."""
    import signal
    import time

    db = tmp_path / "db"
    db.mkdir()
    for name in FILES.values():
        shutil.copy(EXAMPLE / name, db / name)
    out = tmp_path / "out"
    # Enough Monte Carlo draws to still be running when the signal arrives.
    proc = subprocess.Popen(
        [sys.executable, "-m", "quantumclusters", "rank", "--data", str(db), "--out", str(out),
         "--draws", "2000000", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not leftovers(tmp_path) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert "error: terminated" in err and "Traceback" not in err
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed one
def test_sigterm_swallowed_by_a_finalizer_still_ends_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python ignores an exception raised while a finalizer runs; a SIGTERM that lands there
    must still stop the run at the next stage and publish nothing."""
    import functools
    import signal

    import quantumclusters.pipeline as pipeline

    real_run = pipeline.run

    class Finalizer:
        def __del__(self) -> None:
            cli._on_sigterm(signal.SIGTERM, None)  # raises inside __del__: swallowed

    @functools.wraps(real_run)
    def run_with_swallowed_sigterm(*args: object, **kwargs: object) -> object:
        Finalizer()  # collected at once
        return real_run(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run", run_with_swallowed_sigterm)
    out = tmp_path / "out"
    status = cli.main(["rank", "--data", str(EXAMPLE), "--out", str(out), "--draws", "10", "-q"])
    assert status == 143
    assert "error: terminated" in capsys.readouterr().err
    assert not out.exists() and leftovers(tmp_path) == []
