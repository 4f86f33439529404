"""The transcription of the paper's published numbers (data/published/) is complete and
self-consistent: the files load, Table A has 45 clusters with `=` exactly where ranks are
shared, Table 1 equals Table A, Table 8 keeps its 79 printed names, names keep their
non-ASCII characters, and every stated number's tolerance follows its wording's rule."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from quantumclusters.report import fidelity, published
from quantumclusters.regions import REGIONS, region_of

FILES = [
    "table_a.csv", "table_1.csv", "table_2.csv", "table_3.csv", "table_4.csv", "table_5.csv",
    "table_6.csv", "table_7.csv", "table_8.csv", "figure_14.csv", "stated_numbers.csv",
    "inconsistencies.csv", "aliases.csv", "README.md",
]  # fmt: skip


@pytest.fixture(scope="module")
def table_a() -> pd.DataFrame:
    return published.table_a()


@pytest.fixture(scope="module")
def stated() -> pd.DataFrame:
    return published.stated_numbers()


@pytest.mark.parametrize("name", FILES)
def test_file_exists_utf8_and_newlines(name: str) -> None:
    raw = (published.PUBLISHED_DIR / name).read_bytes()
    raw.decode("utf-8")
    assert b"\r\n" not in raw, f"{name} must use \\n line ends"
    assert raw.endswith(b"\n")


def test_loaders() -> None:
    for n in ("a", 1, 2, 3, 4, 5, 6, 7, 8):
        assert len(published.table(n)) > 0
    assert len(published.figure_14()) == 5
    assert len(published.inconsistencies()) > 0
    assert len(published.stated_number_records()) == len(published.stated_numbers())
    with pytest.raises(KeyError):
        published.table(9)


def test_published_dir_override(tmp_path, monkeypatch) -> None:
    (tmp_path / "table_a.csv").write_text(
        (published.PUBLISHED_DIR / "table_a.csv").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert len(published.table_a(tmp_path)) == 45
    monkeypatch.setenv("QUANTUMCLUSTERS_PUBLISHED", str(tmp_path))
    assert published.published_path() == tmp_path
    with pytest.raises(FileNotFoundError):
        published.table(2)


def test_table_a_45_clusters(table_a: pd.DataFrame) -> None:
    assert len(table_a) == 45
    assert table_a["cluster"].is_unique
    assert list(table_a["overall_rank"]) == sorted(table_a["overall_rank"])


@pytest.mark.parametrize("dim", published.RANK_COLUMNS)
def test_labels_consistent_with_ranks(table_a: pd.DataFrame, dim: str) -> None:
    ranks = table_a[f"{dim}_rank"]
    counts = ranks.value_counts()
    for label, rank in zip(table_a[f"{dim}_label"], ranks, strict=True):
        assert published.rank_of_label(label) == rank
        assert label.endswith("=") == (counts[rank] > 1), f"{dim}: label {label!r} vs {counts[rank]} tied"
    # ties share the smallest rank: the ranks are their own min-rank
    assert sorted(ranks) == sorted(ranks.rank(method="min").astype(int))


def test_table_1_equals_table_a(table_a: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(published.table(1), table_a)


def test_table_a_regions_follow_contract(table_a: pd.DataFrame) -> None:
    for country, region in zip(table_a["country"], table_a["region"], strict=True):
        assert region_of(published.PAPER_COUNTRY_ISO2[country]) == region


@pytest.mark.parametrize("n,dim", [(3, "market_orientation"), (6, "ecosystem_maturity")])
def test_tables_3_and_6_agree_with_table_a(table_a: pd.DataFrame, n: int, dim: str) -> None:
    t = published.table(n)
    a = table_a.set_index("cluster")
    assert len(t) == 10
    for _, row in t.iterrows():
        assert a.loc[row["cluster"], f"{dim}_label"] == row["rank_label"]
        assert a.loc[row["cluster"], "country"] == row["country"]
        assert a.loc[row["cluster"], "region"] == row["region"]
    assert set(t["cluster"]) == set(table_a.loc[table_a[f"{dim}_rank"] <= 10, "cluster"])


def test_table_5_same_clusters_as_table_a_and_documented(table_a: pd.DataFrame) -> None:
    t = published.table(5)
    assert set(t["cluster"]) == set(table_a.loc[table_a["collaboration_intensity_rank"] <= 10, "cluster"])
    a = table_a.set_index("cluster")["collaboration_intensity_label"]
    differs = [c for c, lab in zip(t["cluster"], t["rank_label"], strict=True) if a[c] != lab]
    assert differs, "Table 5 disagrees with Table A (documented)"
    assert "table5_ranks_vs_table_a" in set(published.inconsistencies()["id"])


def test_table_2_ranks_agree_with_table_a(table_a: pd.DataFrame) -> None:
    t = published.table(2)
    a = table_a.set_index("cluster")["overall_label"]
    assert len(t) == 11
    for c, lab in zip(t["cluster"], t["overall_label"], strict=True):
        assert a[c] == lab
    for col in ("industry_1", "industry_2", "industry_3", "research_1", "research_2", "research_3"):
        assert (t[col].str.len() > 0).all()


def test_table_4_descending_and_clusters_known(table_a: pd.DataFrame) -> None:
    t = published.table(4)
    assert len(t) == 10
    assert list(t["industry_collaborations_per_tn_gdp"]) == sorted(t["industry_collaborations_per_tn_gdp"], reverse=True)
    assert set(t["cluster"]) <= set(table_a["cluster"])


def test_tables_7_and_8() -> None:
    t7, t8 = published.table(7), published.table(8)
    assert len(t7) == 8
    assert len(t8) == 79, "Table 8 prints 79 names"
    assert t8["quasi_cluster"].is_unique
    assert set(t8.loc[t8["also_tier1"], "quasi_cluster"]) == {"Wuhu"} == set(t8["quasi_cluster"]) & set(t7["quasi_cluster"])
    assert (~t8["also_tier1"]).sum() == 78
    assert set(t8["region"]) == set(REGIONS)
    for iso, region in zip(t8["country_iso2"], t8["contract_region"], strict=True):
        assert region_of(iso) == region
    for iso, region in zip(t7["country_iso2"], t7["region"], strict=True):
        assert region_of(iso) == region
    # Table 7's "–" kept as printed
    assert (t7.loc[t7["quasi_cluster"].isin(["Chengdu", "Ottawa"]), ["origin_institution", "origin_type"]] == "–").all().all()


def test_figure_14_counts() -> None:
    f = published.figure_14().set_index("region")
    t7, t8 = published.table(7), published.table(8)
    assert f["count"].sum() == 86
    assert f["project_count"].sum() == 86
    for region, row in f.iterrows():
        assert row["tier1_table7"] == (t7["region"] == region).sum()
        assert row["tier2_table8_as_printed"] == (t8["region"] == region).sum()
        project = (t7["country_iso2"].map(region_of) == region).sum() + (
            (t8["contract_region"] == region) & ~t8["also_tier1"]
        ).sum()
        assert row["project_count"] == project


@pytest.mark.parametrize(
    "n,column,text",
    [
        (4, "top_industry_collaborator", "Origin Quantum (本源量子)"),
        (7, "startup", "Zhongwei Daxin Technology (中微达信)"),
        (7, "startup", "Qasky (问天量子)"),
        (8, "quasi_cluster", "Besançon"),
        (8, "quasi_cluster", "Kraków"),
        (8, "quasi_cluster", "Sao Paulo"),
        ("a", "cluster", "Denver–Boulder Region"),
        ("a", "cluster", "Greater Geneva Bern Area"),
        ("a", "cluster", "Shenzhen–Hong Kong–Guangzhou Region"),
        (2, "research_3", "King's College London"),
        (2, "research_3", "Paris Cité University"),
    ],
)
def test_names_intact(n, column: str, text: str) -> None:
    assert text in set(published.table(n)[column])


def test_stated_ids_checks_and_references(stated: pd.DataFrame) -> None:
    assert stated["id"].is_unique
    assert set(stated["check"]) <= set(published.STATED_CHECKS)
    assert set(stated["bounds"]) <= {"[]", "[)", "(]", "()", ""}
    inconsistency_ids = set(published.inconsistencies()["id"])
    for ref in stated["inconsistency"]:
        assert ref == "" or ref in inconsistency_ids
    with_project = stated[stated["project_low"].notna()]
    assert (with_project["inconsistency"] != "").all()
    assert (with_project["project_low"] <= with_project["project_high"]).all()


def _rule(row: pd.Series) -> tuple[float, float, str]:
    """The interval the wording's one reading gives (``published.READINGS``)."""
    p = float(row["precision"]) if row["precision"] else math.nan
    return published.reading_interval(row["wording"], row["value"], p)


def test_tolerances_follow_wording(stated: pd.DataFrame) -> None:
    scored = stated[stated["check"] != "context"]
    assert len(scored) > 200
    for _, row in scored.iterrows():
        lo, hi = row["tol_low"], row["tol_high"]
        assert lo <= hi, row["id"]
        expected = _rule(row)
        if row["wording"] in ("range", "range_count"):  # the value lies inside
            assert lo < row["value"] < hi, row["id"]
        assert lo == pytest.approx(expected[0], rel=1e-9, abs=1e-12), row["id"]
        assert hi == pytest.approx(expected[1], rel=1e-9, abs=1e-12), row["id"]
        assert row["bounds"] == expected[2], row["id"]


def test_every_metric_parses(stated: pd.DataFrame) -> None:
    for metric in stated.loc[stated["check"] != "context", "metric"]:
        fidelity._parse(metric)


def test_aliases_point_to_printed_names(table_a: pd.DataFrame) -> None:
    al = published.aliases()
    assert al["alias"].is_unique
    printed = set(table_a["cluster"]) | set(published.table(7)["quasi_cluster"]) | set(published.table(8)["quasi_cluster"])
    t2, t4, t7 = published.table(2), published.table(4), published.table(7)
    institutions = set(t4["top_industry_collaborator"]) | set(t4["top_research_collaborator"]) | set(t7["startup"])
    for col in ("industry_1", "industry_2", "industry_3", "research_1", "research_2", "research_3"):
        institutions |= set(t2[col])
    for _, row in al.iterrows():
        target = printed if row["kind"] in ("cluster", "quasi_cluster") else institutions
        assert row["canonical"] in target, row["alias"]


def test_in_interval() -> None:
    assert published.in_interval(28.5, 28.5, 29.5, "[)")
    assert not published.in_interval(29.5, 28.5, 29.5, "[)")
    assert published.in_interval(1e12, 2e9, math.inf, "[)")
    assert not published.in_interval(math.nan, 0, 1, "[]")
    assert not published.in_interval(0.5, 0.5, 1.0, "(]")
