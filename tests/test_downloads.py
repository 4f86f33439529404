"""The download of the run's result files (quantumclusters.report.downloads): a
deterministic zip of the six CSV files ``rank`` writes and a Frictionless datapackage.json
with every column described, the provenance and each file's sha256."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from quantumclusters import paths
from quantumclusters.pipeline import run, write_result
from quantumclusters.report import downloads
from quantumclusters.schema import load_database

EXAMPLE = paths.repo_root() / "tests" / "data" / "example"


@pytest.fixture(scope="module")
def result():
    return run(load_database(EXAMPLE), paths.DEFAULT_CUTOFF, draws=50)


def test_archive_is_deterministic_and_holds_the_rank_files(result, tmp_path: Path) -> None:
    data = downloads.archive_bytes(result)
    assert data == downloads.archive_bytes(result)
    written = {p.name: p.read_bytes() for p in write_result(result, tmp_path)}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert names == sorted(names) == sorted([*written, "datapackage.json"])
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        for name, content in written.items():
            assert zf.read(name) == content, name
        package = json.loads(zf.read("datapackage.json"))
    assert package["profile"] == "tabular-data-package"
    assert "PARTLY SYNTHETIC" in package["description"]
    for res in package["resources"]:
        content = written[res["path"]]
        assert res["hash"] == "sha256:" + hashlib.sha256(content).hexdigest()
        assert res["bytes"] == len(content)
        header = content.decode("utf-8").splitlines()[0].split(",")
        assert [f["name"] for f in res["schema"]["fields"]] == header
        assert all(f.get("description") for f in res["schema"]["fields"]), res["path"]


def test_write_downloads_skips_an_unchanged_run(tmp_path: Path) -> None:
    folder = tmp_path / "_build" / "downloads"
    target = downloads.write_downloads(folder, EXAMPLE, paths.DEFAULT_CUTOFF, 20, 1, "k1")
    assert target.name == downloads.ARCHIVE_NAME and target.is_file()
    first = target.stat().st_mtime_ns
    assert downloads.write_downloads(folder, EXAMPLE, paths.DEFAULT_CUTOFF, 20, 1, "k1").stat().st_mtime_ns == first
    package = json.loads(zipfile.ZipFile(target).read("datapackage.json"))
    assert "user-supplied" in package["description"]
