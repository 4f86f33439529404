"""The book's build runner (quantumclusters.report.book) on tiny chapters made in a temporary folder.

Covers: parameter injection (only what differs, relative paths, tagged ``remove-cell``), no
absolute path in an executed notebook, papermill metadata stripped and byte-stable output,
a failing cell reported with chapter and cell and a non-zero exit, the Markdown-splice cache
path (prose edit: no re-execution), and jupyter-book's -W -n failing on a broken reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from quantumclusters import paths
from quantumclusters.report import book

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# {title}

```{{code-cell}} ipython3
:tags: [parameters]
data_dir = None
cutoff = "2025-07-31"
draws = 5000
seed = 20250731
```

{prose}

```{{code-cell}} ipython3
import time
from quantumclusters import paths
print("data", paths.relative_to_root(paths.resolve_data_dir(data_dir)), cutoff, draws, seed)
print("stamp", time.perf_counter_ns())
```
"""

FAILING = """
```{code-cell} ipython3
x = 1
y = {}["no such key"]
```
"""


def write_chapter(folder: Path, stem: str, *, prose: str = "Some prose.", extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.md"
    path.write_text(HEADER.format(title=stem, prose=prose) + extra, encoding="utf-8")
    return path


def outputs_text(nb: nbformat.NotebookNode) -> str:
    return "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )


def test_injected_parameters_only_differences_and_relative_paths(tmp_path: Path) -> None:
    assert book.injected_parameters() == {}
    assert book.injected_parameters(paths.bundled_dir(), "2025-07-31", 5000, 20250731) == {}
    inside = paths.repo_root() / "tests" / "data" / "example"
    assert book.injected_parameters(inside) == {"data_dir": "tests/data/example"}
    assert book.injected_parameters(tmp_path) == {"data_dir": str(tmp_path.resolve())}
    p = book.injected_parameters(cutoff="2024-07-31", draws=100, seed=1)
    assert p == {"cutoff": "2024-07-31", "draws": 100, "seed": 1}
    assert isinstance(p["cutoff"], str)
    with pytest.raises(SystemExit):
        book.injected_parameters(cutoff="31/07/2024")


def test_resolve_data_dir_is_relative_to_the_repository() -> None:
    assert paths.resolve_data_dir(None) == paths.bundled_dir()
    assert paths.resolve_data_dir("tests/data/example") == paths.repo_root() / "tests" / "data" / "example"
    assert paths.resolve_data_dir("/x/y") == Path("/x/y")


def test_select_chapters_by_number_stem_or_name(tmp_path: Path) -> None:
    srcs = [write_chapter(tmp_path, s) for s in ("01_alpha", "02_beta", "03_gamma")]
    assert book.select_chapters(["03", "01_alpha"], srcs) == [srcs[0], srcs[2]]
    assert book.select_chapters(["beta"], srcs) == [srcs[1]]
    assert book.select_chapters(None, srcs) == srcs
    with pytest.raises(SystemExit, match="no chapter named"):
        book.select_chapters(["zeta"], srcs)


def test_chapter_run_injects_hides_strips_and_is_byte_stable(tmp_path: Path) -> None:
    src = write_chapter(tmp_path / "chapters", "01_stub")
    out = tmp_path / "out" / "book"
    out.mkdir(parents=True)
    params = book.injected_parameters(paths.repo_root() / "tests" / "data" / "example", "2024-07-31")
    first = book.run_chapter(src, out, params, "fingerprint", force=True)
    assert first.status == "executed", first.failure
    text = (out / "01_stub.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)

    # the injected cell follows the parameters cell and is hidden from readers
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    i_param = next(i for i, t in enumerate(tags) if "parameters" in t)
    assert "injected-parameters" in tags[i_param + 1] and "remove-cell" in tags[i_param + 1]
    injected = nb.cells[i_param + 1].source
    assert 'data_dir = "tests/data/example"' in injected and 'cutoff = "2024-07-31"' in injected
    assert "data tests/data/example 2024-07-31 5000 20250731" in outputs_text(nb)

    # no absolute path, no papermill metadata, deterministic ids
    assert str(paths.repo_root()) not in text and str(tmp_path) not in text
    assert "papermill" not in text and '"execution"' not in text and "jupytext_version" not in text
    assert [c.id for c in nb.cells] == [f"cell-{i:03d}" for i in range(len(nb.cells))]
    assert nb.metadata["quantumclusters"]["parameters"] == params

    # a second execution writes the same bytes, apart from the timer the chapter prints
    second = book.run_chapter(src, out, params, "fingerprint", force=True)
    assert second.status == "executed"
    again = (out / "01_stub.ipynb").read_text(encoding="utf-8")
    strip = lambda s: "\n".join(ln for ln in s.splitlines() if "stamp" not in ln)  # noqa: E731
    assert strip(again) == strip(text)


def test_default_parameters_inject_nothing(tmp_path: Path) -> None:
    src = write_chapter(tmp_path / "chapters", "01_stub")
    out = tmp_path / "book"
    out.mkdir()
    assert book.run_chapter(src, out, {}, "fp").status == "executed"
    nb = nbformat.read(out / "01_stub.ipynb", as_version=4)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert "data data/bundled 2025-07-31" in outputs_text(nb)


def test_prose_edit_is_spliced_without_re_execution(tmp_path: Path) -> None:
    chapters = tmp_path / "chapters"
    src = write_chapter(chapters, "01_stub", prose="Old prose.")
    out = tmp_path / "book"
    out.mkdir()
    params = {"cutoff": "2024-07-31"}
    assert book.run_chapter(src, out, params, "fp").status == "executed"
    before = nbformat.read(out / "01_stub.ipynb", as_version=4)
    assert book.run_chapter(src, out, params, "fp").status == "unchanged"

    write_chapter(chapters, "01_stub", prose="New prose, *edited*.")
    outcome = book.run_chapter(src, out, params, "fp")
    assert outcome.status == "spliced"
    after = nbformat.read(out / "01_stub.ipynb", as_version=4)
    assert outputs_text(after) == outputs_text(before)  # same timer stamp: not re-executed
    md = [c.source for c in after.cells if c.cell_type == "markdown"]
    assert "New prose, *edited*." in md and "Old prose." not in md
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in after.cells)

    # a code edit, new inputs or new parameters re-execute
    write_chapter(chapters, "01_stub", prose="New prose, *edited*.", extra="\n```{code-cell} ipython3\n1 + 1\n```\n")
    assert book.run_chapter(src, out, params, "fp").status == "executed"
    assert book.run_chapter(src, out, params, "other inputs").status == "executed"
    assert book.run_chapter(src, out, {"cutoff": "2023-07-31"}, "other inputs").status == "executed"


def test_failing_cell_exits_non_zero_naming_chapter_and_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapters = tmp_path / "chapters"
    write_chapter(chapters, "01_fine")
    write_chapter(chapters, "02_broken", extra=FAILING)
    out = tmp_path / "out"
    code = book.main(["--chapters-dir", str(chapters), "--out-dir", str(out), "--no-html", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 of 2 chapters failed" in err
    assert "chapter 02_broken, cell 4" in err
    assert "KeyError: 'no such key'" in err
    assert "failing line: y = {}[\"no such key\"]" in err
    assert "02_broken.md line" in err
    assert (out / "book" / "01_fine.ipynb").is_file()
    assert not (out / "book" / "02_broken.ipynb").exists()


def test_a_cell_writing_to_stderr_is_named_in_the_build_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapters = tmp_path / "chapters"
    write_chapter(chapters, "01_quiet")
    write_chapter(chapters, "02_noisy", extra="\n```{code-cell} ipython3\nimport sys\nprint('noise', file=sys.stderr)\n```\n")
    out = tmp_path / "out"
    assert book.main(["--chapters-dir", str(chapters), "--out-dir", str(out), "--no-html", "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "warning: 02_noisy cell" in err and "wrote to stderr" in err
    assert "warning: 01_quiet" not in err


def test_missing_parameters_cell_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "01_noparams.md"
    src.write_text("# No parameters\n\n```{code-cell} ipython3\n1\n```\n", encoding="utf-8")
    outcome = book.run_chapter(src, tmp_path, {"cutoff": "2024-07-31"}, "fp")
    assert outcome.status == "failed" and "no cell tagged `parameters`" in outcome.failure.message


def test_html_build_fails_on_a_broken_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chapters = tmp_path / "chapters"
    write_chapter(chapters, "01_ok")
    out = tmp_path / "out"
    assert book.main(["--chapters-dir", str(chapters), "--out-dir", str(out), "--jobs", "1"]) == 0
    assert "index.html: " + str(out / "_build" / "html" / "index.html") in capsys.readouterr().out
    assert (out / "_build" / "html" / "book" / "01_ok.html").is_file()
    # a site built before the front page changed: its redirect is rewritten, not kept
    index = out / "_build" / "html" / "index.html"
    fresh = index.read_text(encoding="utf-8")
    assert "http-equiv=\"Refresh\"" in fresh and "old_front" not in fresh
    index.write_text('<meta http-equiv="Refresh" content="0; url=book/old_front.html" />\n', encoding="utf-8")
    assert book.main(["--chapters-dir", str(chapters), "--out-dir", str(out), "--jobs", "1"]) == 0
    assert index.read_text(encoding="utf-8") == fresh
    capsys.readouterr()
    toc = (out / "_toc.yml").read_text(encoding="utf-8")
    assert "book/01_ok" in toc and "01_clusters" not in toc  # own pruned copy, repo untouched

    write_chapter(chapters, "01_ok", prose="See {ref}`no-such-label`.")
    assert book.main(["--chapters-dir", str(chapters), "--out-dir", str(out), "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert "jupyter-book build failed" in err and "no-such-label" in err
    assert json.loads((out / "book" / "01_ok.ipynb").read_text())["metadata"]["quantumclusters"]


def test_invalid_database_is_refused_before_any_chapter_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    db = tmp_path / "db"
    shutil.copytree(paths.repo_root() / "tests" / "data" / "example", db, ignore=shutil.ignore_patterns("*.py", "*.md"))
    inst = (db / "institutions.csv").read_text(encoding="utf-8").splitlines()
    cells = inst[1].split(",")
    cells[3] = "95.0"  # lat out of range
    inst[1] = ",".join(cells)
    (db / "institutions.csv").write_text("\n".join(inst) + "\n", encoding="utf-8")
    chapters = tmp_path / "chapters"
    write_chapter(chapters, "01_stub")
    code = book.main(["--data", str(db), "--chapters-dir", str(chapters), "--out-dir", str(tmp_path / "out"), "--no-html"])
    err = capsys.readouterr().err
    assert code == 2
    assert "institutions.csv" in err and "lat" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "book" / "01_stub.ipynb").exists()
    assert book.main(["--data", str(tmp_path / "nope"), "--chapters-dir", str(chapters), "--no-html"]) == 2
