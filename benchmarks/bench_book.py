#!/usr/bin/env python3
"""Time the book build: a clean full build and a prose-only rebuild.

    python benchmarks/bench_book.py [--data DIR] [--jobs N] [--json FILE]

1. **Clean full build**: every chapter executed by papermill into an empty folder
   (``build --out-dir TMP --force``; no cache can help) and the HTML built with
   ``jupyter-book build -W -n --keep-going --all``. This is what ``make book`` does on a
   fresh clone, the install excluded.
2. **Prose-only rebuild**: one sentence added to a Markdown cell of every chapter (in a
   copy of chapters/, the repository is not touched), then the same command again: the
   runner splices the new Markdown into the executed notebooks without running any code,
   and jupyter-book rebuilds every page.

Targets (issue 4, on the 2-core machine): full build < 180 s, prose-only rebuild < 30 s.
Each step runs the real command line in a fresh process, so imports and kernel start-up count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"full": 180.0, "prose": 30.0}
LOAD_BEFORE = list(os.getloadavg())


CPU_SECONDS: list[float] = []  # CPU time (user + system) of each build's process tree


def build(args: list[str]) -> tuple[float, str]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "quantumclusters", "build", *args],
        cwd=ROOT, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"build failed ({proc.returncode}): {' '.join(args)}")
    return seconds, proc.stderr


def edit_prose(chapters: Path) -> int:
    """Append a sentence to the first prose paragraph of every chapter; returns the count."""
    n = 0
    for md in sorted(chapters.glob("[0-9][0-9]_*.md")):
        lines = md.read_text(encoding="utf-8").split("\n")
        in_front = bool(lines) and lines[0].strip() == "---"
        fence = False
        for i, line in enumerate(lines):
            if in_front:
                in_front = not (i > 0 and line.strip() == "---")
                continue
            if line.lstrip().startswith(("```", "~~~")):
                fence = not fence
                continue
            if not fence and line.startswith("# "):
                lines.insert(i + 1, "\nA sentence added by the prose-only benchmark.")
                md.write_text("\n".join(lines), encoding="utf-8")
                n += 1
                break
    template = chapters / "profiles" / "cluster.md"  # the cluster profiles' template
    if template.is_file():
        text = template.read_text(encoding="utf-8")
        template.write_text(text.replace("\n## Where it is\n", "\n## Where it is\n\nA sentence added by the "
                                         "prose-only benchmark.\n", 1), encoding="utf-8")
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="database folder (default: the bundled one)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the timings here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary build folder")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_book_"))
    try:
        chapters = tmp / "chapters"
        shutil.copytree(ROOT / "chapters", chapters)
        out = tmp / "out"
        common = ["--chapters-dir", str(chapters), "--out-dir", str(out), "--jobs", str(args.jobs)]
        os.environ["QUANTUMCLUSTERS_RUN_CACHE"] = str(tmp / "run_cache")  # a cold start: no stored run
        if args.data:
            common += ["--data", args.data]

        full, log_full = build(common + ["--force"])
        executed = log_full.count(": executed")
        n_edits = edit_prose(chapters)
        prose, log_prose = build(common)
        spliced = log_prose.count(": spliced")
        profiles_full = re.search(r"cluster profiles: .*?(\d+) executed", log_full)
        profiles_spliced = re.search(r"cluster profiles: .*?(\d+) spliced", log_prose)
        html_prose = re.search(r"HTML built in ([\d.]+) s", log_prose)
        html_full = re.search(r"HTML built in ([\d.]+) s", log_full)

        result = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "jobs": args.jobs,
            "full_build_s": round(full, 1),
            "full_build_html_s": float(html_full.group(1)) if html_full else None,
            "chapters_executed": executed,
            "prose_rebuild_s": round(prose, 1),
            "prose_rebuild_html_s": float(html_prose.group(1)) if html_prose else None,
            "chapters_edited": n_edits,
            "chapters_spliced": spliced,
            "profiles_executed": int(profiles_full.group(1)) if profiles_full else 0,
            "profiles_spliced": int(profiles_spliced.group(1)) if profiles_spliced else 0,
            "full_build_cpu_s": round(CPU_SECONDS[0], 1),
            "prose_rebuild_cpu_s": round(CPU_SECONDS[1], 1),
            "load_average_before": LOAD_BEFORE,
            "load_average_after": list(os.getloadavg()),
            "targets_s": TARGETS,
            "ok": full < TARGETS["full"] and prose < TARGETS["prose"] and spliced == n_edits,
        }
        print(f"clean full build     {full:6.1f} s  ({executed} chapters executed, HTML {result['full_build_html_s']} s)"
              f"   target < {TARGETS['full']:.0f} s")
        print(f"cluster profiles     {result['profiles_executed']} executed in the full build, "
              f"{result['profiles_spliced']} spliced in the prose-only rebuild")
        print(f"CPU time             full build {CPU_SECONDS[0]:.0f} s, prose-only rebuild {CPU_SECONDS[1]:.0f} s "
              f"(user + system of every process; on an idle {os.cpu_count()}-core machine the wall time is about "
              f"this divided by the cores busy)")
        print(f"load average         before {LOAD_BEFORE[0]:.2f}, after {os.getloadavg()[0]:.2f} (1 min)")
        print(f"prose-only rebuild   {prose:6.1f} s  ({spliced} of {n_edits} chapters spliced, {log_prose.count(': executed')} executed, "
              f"HTML {result['prose_rebuild_html_s']} s)   target < {TARGETS['prose']:.0f} s")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return 0 if result["ok"] else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
