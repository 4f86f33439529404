"""Fidelity: the engine, run on the bundled database (data/bundled/) at the paper's cut-off,
reproduces every published table cell and stated number (data/published/), each within the
tolerance its wording implies. One test per item, so a failure names it. No expected value is
typed here: everything is read from data/published/.

Where the paper contradicts itself the item passes as "by_choice" when the engine gives the
value of the documented choice (data/published/inconsistencies.csv); the test output says which
published count is reproduced (e.g. China 14 quasi-clusters, not the text's 15).

The last tests check the report machinery itself on a tiny hand-made Result and a tiny
published folder, where the expected outcome is written down by hand."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from quantumclusters import paths
from quantumclusters.report import fidelity, published
from quantumclusters.detection import Params

BUNDLED = paths.bundled_dir()
HAS_BUNDLED = (BUNDLED / "institutions.csv").is_file()
ITEM_IDS = fidelity.item_ids()
#: Published numbers the bundled database is known not to reproduce, each with the reason
#: (data/builder/known_misses.csv). They run as strict expected failures: the day one of
#: them is reproduced the test fails, so the list cannot silently go stale.
KNOWN_MISSES = pd.read_csv(paths.repo_root() / "data" / "builder" / "known_misses.csv").set_index("id")["reason"]


def _item_params() -> list:
    unknown = set(KNOWN_MISSES.index) - set(ITEM_IDS)
    assert not unknown, f"known_misses.csv names items that do not exist: {sorted(unknown)}"
    return [
        pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[i])) if i in KNOWN_MISSES.index else i
        for i in ITEM_IDS
    ]


@pytest.fixture(scope="module")
def report() -> fidelity.FidelityReport:
    if not HAS_BUNDLED:
        pytest.skip(f"the bundled database is not built yet ({BUNDLED} has no institutions.csv)")
    from quantumclusters.pipeline import run
    from quantumclusters.schema import load_database

    result = run(load_database(BUNDLED), paths.DEFAULT_CUTOFF)
    return fidelity.fidelity_report(result)


@pytest.fixture(scope="module")
def items(report: fidelity.FidelityReport) -> dict[str, fidelity.FidelityItem]:
    return {i.id: i for i in report.items}


@pytest.mark.parametrize("item_id", _item_params())
def test_item_reproduced(items: dict[str, fidelity.FidelityItem], item_id: str) -> None:
    item = items[item_id]
    assert item.ok, (
        f"{item.id}: {item.description}\n  published {item.published!r} ({item.tolerance})\n"
        f"  recomputed {item.recomputed!r}\n  {item.note}"
    )


def test_report_covers_every_item(report: fidelity.FidelityReport) -> None:
    assert [i.id for i in report.items] == ITEM_IDS
    n_ok, n = report.score
    assert n == len(ITEM_IDS)
    assert report.summary().startswith(f"Fidelity: {n_ok} of {n} published numbers reproduced")


def test_documented_choices_are_the_ones_reproduced(items: dict[str, fidelity.FidelityItem]) -> None:
    """Where the paper contradicts itself, say which count the engine reproduces."""
    stated = published.stated_numbers()
    chosen = stated[stated["project_low"].notna()]
    for _, row in chosen.iterrows():
        item = items[row["id"]]
        assert item.status in ("reproduced", "by_choice"), f"{row['id']}: {item.recomputed!r}"
        print(
            f"{row['id']}: the paper states {row['value']:g}; the project reproduces {item.recomputed:g} "
            f"({row['inconsistency']})"
        )


def test_item_ids_depend_only_on_published_data() -> None:
    assert len(ITEM_IDS) == len(set(ITEM_IDS))
    stated = published.stated_numbers()
    scored = set(stated.loc[stated["check"] != "context", "id"])
    assert scored <= set(ITEM_IDS)
    assert not set(stated.loc[stated["check"] == "context", "id"]) & set(ITEM_IDS)


# ---------------------------------------------------------------------------------------
# the machinery, on a hand-made Result and published folder


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text.strip() + "\n", encoding="utf-8")


@pytest.fixture()
def tiny_published(tmp_path: Path) -> Path:
    ta = """
overall_label,overall_rank,cluster,country,region,market_orientation_label,market_orientation_rank,collaboration_intensity_label,collaboration_intensity_rank,ecosystem_maturity_label,ecosystem_maturity_rank
1,1,Alpha City,UK,"UK, Canada, and Australia",1,1,2=,2,1,1
2=,2,Beta–Town,Finland,EU,2,2,1,1,3,3
2=,2,Gamma Area,US,US,3,3,2=,2,2,2
"""
    _write(tmp_path, "table_a.csv", ta)
    _write(tmp_path, "table_1.csv", ta)
    _write(tmp_path, "table_2.csv", """
overall_label,overall_rank,cluster,industry_1,industry_2,industry_3,research_1,research_2,research_3
2=,2,Gamma Area,Corp One,Startup Two,Corp Three,Uni A,Lab B,Uni C
""")  # fmt: skip
    _write(tmp_path, "table_3.csv", """
position,rank_label,rank,cluster,country,region
1,1,1,Alpha City,UK,"UK, Canada, and Australia"
2,2,2,Beta–Town,Finland,EU
3,3,3,Gamma Area,US,US
""")
    # Table 5 breaks the tie Table A keeps (as the paper's Table 5 does)
    _write(tmp_path, "table_5.csv", """
position,rank_label,rank,cluster,country,region
1,1,1,Beta–Town,Finland,EU
2,2,2,Alpha City,UK,"UK, Canada, and Australia"
3,3,3,Gamma Area,US,US
""")
    _write(tmp_path, "table_6.csv", """
position,rank_label,rank,cluster,country,region
1,1,1,Alpha City,UK,"UK, Canada, and Australia"
2,2,2,Gamma Area,US,US
3,3,3,Beta–Town,Finland,EU
""")
    _write(tmp_path, "table_4.csv", """
position,cluster,industry_collaborations_per_tn_gdp,top_industry_collaborator,top_research_collaborator
1,Alpha City,100,Alpha Startup,Alpha Uni
2,Beta–Town,50,Beta Startup,Beta Uni
3,Gamma Area,10,Corp One,Uni A
""")
    _write(tmp_path, "table_7.csv", """
quasi_cluster,region,startup,origin_institution,origin_type,country_iso2
Delta,EU,Delta Qubits,Delta Lab,Research spinout,DE
""")
    _write(tmp_path, "table_8.csv", """
region,position,quasi_cluster,country_iso2,contract_region,also_tier1
EU,1,Delta,DE,EU,true
EU,2,Epsilon,CH,Rest of the World,false
""")
    _write(tmp_path, "aliases.csv", """
alias,canonical,kind,where
Beta Town,Beta–Town,cluster,test
""")
    _write(tmp_path, "inconsistencies.csv", """
id,kind,where,what,choice,affects
eu_count,contradiction,test,two vs one,one,
""")
    _write(tmp_path, "stated_numbers.csv", """
id,section,quote,metric,value,unit,wording,precision,tol_low,tol_high,bounds,check,project_low,project_high,inconsistency,note
n3,t,three clusters,n_clusters,3,clusters,count,,3.0,3.0,[],yes,,,,
alpha_500m,t,USD 500 million,indicator[total_funding_usd][Alpha City],500000000.0,USD,exact,1000000.0,499500000.0,500500000.0,[),yes,,,,
eu_two,t,two in the EU,n_quasi_clusters[region=EU],2,quasi-clusters,count,,2.0,2.0,[],yes,1.0,1.0,eu_count,
eps,t,20 km,param[eps_km],20,km,count,,20.0,20.0,[],param,,,,
ctx,t,42 per cent elsewhere,context,42,per cent,context,,,,,context,,,,
beta_10pct,t,10 per cent,cluster_share[total_funding_usd][Beta–Town],10,per cent,exact,1,9.5,10.5,[),yes,,,,
eu_top2,t,one EU cluster in the top 2,count_top2[overall][@region:EU],1,clusters,count,,1.0,1.0,[],yes,,,,
""")  # fmt: skip
    return tmp_path


def _tiny_result() -> SimpleNamespace:
    inst_rows = [
        # id, name, type, country, status, group, spinout_of
        ("a-s", "Alpha Startup", "startup", "GB", "cluster", "Alpha City", ""),
        ("a-u", "Alpha Uni", "university", "GB", "cluster", "Alpha City", ""),
        ("b-s", "Beta Startup", "startup", "FI", "cluster", "Beta Town", ""),
        ("b-u", "Beta Uni", "university", "FI", "cluster", "Beta Town", ""),
        ("g-c1", "Corp One", "corporate", "US", "cluster", "Gamma Area", ""),
        ("g-s2", "Startup Two", "startup", "US", "cluster", "Gamma Area", ""),
        ("g-c3", "Corp Three", "corporate", "US", "cluster", "Gamma Area", ""),
        ("g-ua", "Uni A", "university", "US", "cluster", "Gamma Area", ""),
        ("g-lb", "Lab B", "research_institute", "US", "cluster", "Gamma Area", ""),
        ("g-uc", "Uni C", "university", "US", "cluster", "Gamma Area", ""),
        ("d-l", "Delta Lab", "research_institute", "DE", "quasi_cluster", "Delta", ""),
        ("d-q", "Delta Qubits", "startup", "DE", "quasi_cluster", "Delta", "d-l"),
        ("e-u", "Epsilon Uni", "university", "CH", "quasi_cluster", "Epsilon", ""),
        ("x-u", "Outside Uni", "university", "FR", "none", "", ""),
    ]
    inst = pd.DataFrame(inst_rows, columns=["institution_id", "name", "type", "country", "status", "group", "spinout_of"])
    inst["spinout_of"] = inst["spinout_of"].replace("", pd.NA)
    # collaborations with the outside university: counts set the top-collaborator order
    counts = {"a-s": 2, "a-u": 2, "b-s": 2, "b-u": 2, "g-c1": 5, "g-s2": 3, "g-c3": 1, "g-ua": 4, "g-lb": 2, "g-uc": 1}
    pairs = [(i, "x-u") for i, k in counts.items() for _ in range(k)]
    coll = pd.DataFrame(
        {
            "collaboration_id": [f"c{k}" for k in range(len(pairs))],
            "institution_a": [a for a, _ in pairs],
            "institution_b": [b for _, b in pairs],
            "date": pd.Timestamp("2024-01-01"),
        }
    )
    funding = pd.DataFrame(
        {
            "funding_id": ["f1", "f2", "f3", "f4"],
            "institution_id": ["a-s", "b-s", "g-s2", "d-q"],
            "date": pd.to_datetime(["2024-01-01"] * 4),
            "amount_usd": [400e6, 100e6, 500e6, 6e6],
            "kind": ["vc"] * 4,
        }
    )
    areas = pd.DataFrame(
        {
            "area_id": ["a", "b", "g", "d", "e"],
            "name": ["Alpha City", "Beta Town", "Gamma Area", "Delta", "Epsilon"],
            "ecosystem_value_usd": [1e9, None, 2e9, None, None],
        }
    )
    db = SimpleNamespace(institutions=inst.drop(columns=["status", "group"]), funding=funding, collaborations=coll, areas=areas)
    clusters = pd.DataFrame(
        {
            "cluster": ["Alpha City", "Beta Town", "Gamma Area"],
            "area_id": ["a", "b", "g"],
            "country": ["GB", "FI", "US"],
            "region": ["UK, Canada, and Australia", "EU", "US"],
            "institutions": [2, 2, 6],
            "startups": [1, 1, 1],
            "research_institutions": [1, 1, 3],
            "population": [1e6, 1e6, 5e6],
            "gdp_usd": [100e9, 50e9, 800e9],
        }
    )
    indicators = pd.DataFrame(
        {
            "cluster": ["Alpha City", "Beta Town", "Gamma Area"],
            "total_funding_usd": [400e6, 100e6, 500e6],
            "industry_collaborations_per_tn_gdp": [100.0, 50.0, 10.0],
        }
    )
    ranking = pd.DataFrame(
        {
            "cluster": ["Alpha City", "Beta Town", "Gamma Area"],
            "overall_rank": [1, 2, 2],
            "overall_label": ["1", "2=", "2="],
            "market_orientation_rank": [1, 2, 3],
            "market_orientation_label": ["1", "2", "3"],
            "collaboration_intensity_rank": [2, 1, 2],
            "collaboration_intensity_label": ["2=", "1", "2="],
            # deliberate miss: Table A says Gamma 2, Beta 3
            "ecosystem_maturity_rank": [1, 2, 3],
            "ecosystem_maturity_label": ["1", "2", "3"],
        }
    )
    quasi = pd.DataFrame(
        {
            "quasi_cluster": ["Delta", "Epsilon"],
            "area_id": ["d", "e"],
            "country": ["DE", "CH"],
            "region": ["EU", "Rest of the World"],
            "tier": [1, 2],
            "institutions": [2, 1],
            "collaborations": [0, 0],
        }
    )
    return SimpleNamespace(
        db=db,
        cutoff=pd.Timestamp("2025-07-31"),
        params=Params(),
        draws=10,
        assignments=inst[["institution_id", "status", "group"]],
        clusters=clusters,
        indicators=indicators,
        ranking=ranking,
        quasi_clusters=quasi,
        robustness=pd.DataFrame(columns=["dimension"]),
    )


def test_machinery_on_a_hand_made_result(tiny_published: Path) -> None:
    report = fidelity.fidelity_report(_tiny_result(), tiny_published)
    status = {i.id: i.status for i in report.items}
    # Table A 1 + 3 x 6, Tables 3/5/6 3 x 4, Table 2 1 + 1 + 6, Table 4 9, Table 7 5,
    # Table 8 4, no-extra 1, stated 6 (the context row is not scored)
    assert len(status) == 19 + 12 + 8 + 9 + 5 + 4 + 1 + 6
    misses = {k for k, s in status.items() if s == "miss"}
    by_choice = {k for k, s in status.items() if s == "by_choice"}
    assert misses == {
        "table_a.gamma_area.ecosystem_maturity",
        "table_a.beta_town.ecosystem_maturity",
        "table_6.gamma_area",
        "table_6.beta_town",
        "alpha_500m",
    }
    assert by_choice == {
        "table_5.alpha_city",  # printed 2, Table A 2=
        "table_5.gamma_area",  # printed 3, Table A 2=
        "table_8.delta.tier",  # also in Table 7: Tier 1 only
        "table_8.epsilon.region",  # printed EU, contract rule Rest of the World
        "eu_two",  # stated 2, documented choice 1
    }
    assert report.score == (len(status) - 5, len(status))
    assert report.not_scored == ["ctx"]
    frame = report.to_frame()
    assert list(frame.columns[:8]) == ["id", "kind", "section", "description", "published", "recomputed", "tolerance", "status"]
    assert frame.loc[frame["id"] == "alpha_500m", "recomputed"].item() == 400e6
    text = str(report)
    assert text.startswith(f"Fidelity: {len(status) - 5} of {len(status)} published numbers reproduced")
    assert "alpha_500m" in text and "table_6.gamma_area" in text
    # names through aliases.csv: the engine's "Beta Town" is Table A's "Beta–Town"
    assert status["table_a.beta_town.overall"] == "reproduced"
    assert status["beta_10pct"] == "reproduced"
    assert status["table_2.gamma_area.industry_2"] == "reproduced"


def test_metric_errors_are_misses_not_crashes(tiny_published: Path) -> None:
    result = _tiny_result()
    with pytest.raises(fidelity.MetricError):
        fidelity.evaluate_metric(result, "indicator[total_funding_usd][Nowhere]", tiny_published)
    with pytest.raises(fidelity.MetricError):
        fidelity.evaluate_metric(result, "no_such_head[x]", tiny_published)
    assert fidelity.evaluate_metric(result, "top1[total_funding_usd] contains Gamma Area", tiny_published) == 1.0
    assert fidelity.evaluate_metric(result, "ratio[total_funding_usd][Alpha City][Beta Town]", tiny_published) == 4.0
    assert fidelity.evaluate_metric(result, "count[@english]", tiny_published) == 2.0
    assert fidelity.evaluate_metric(result, "quasi_startups[Delta]", tiny_published) == 1.0
    assert fidelity.evaluate_metric(result, "n_tier1_with_spinout", tiny_published) == 1.0
    assert fidelity.evaluate_metric(result, "startup_funding_rank[Alpha Startup]", tiny_published) == 2.0
    assert fidelity.evaluate_metric(result, "ecosystem_value_missing[Beta–Town]", tiny_published) == 1.0


def test_cli_prints_score_and_exits_zero(tiny_published: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("quantumclusters.pipeline.run", lambda db, cutoff, **kw: _tiny_result())
    monkeypatch.setattr("quantumclusters.schema.load_database", lambda path: None)
    status = fidelity.main(["--data", str(tiny_published), "--published", str(tiny_published)])
    out = capsys.readouterr().out
    assert status == 0
    assert "Fidelity: " in out and " published numbers reproduced" in out and "alpha_500m" in out
    assert fidelity.main(["--data", str(tiny_published), "--published", str(tiny_published), "--strict"]) == 1


def test_cli_data_folder_is_relative_to_the_working_directory(tiny_published: Path, capsys, monkeypatch) -> None:
    # like `rank --data`: a relative --data is taken from the working directory, not the repository
    seen: list[Path] = []
    monkeypatch.setattr("quantumclusters.pipeline.run", lambda db, cutoff, **kw: _tiny_result())
    monkeypatch.setattr("quantumclusters.schema.load_database", lambda path: seen.append(Path(path)))
    monkeypatch.chdir(tiny_published.parent)
    assert fidelity.main(["--data", tiny_published.name, "--published", str(tiny_published)]) == 0
    assert seen == [tiny_published.resolve()]


# ---------------------------------------------------------------------------------------
# one agreement scheme: verdicts, reasons, and the chapters' counts (issue 12, item 3)


def test_every_item_has_one_chapter_and_the_chapters_add_up(report: fidelity.FidelityReport) -> None:
    """The chapters' counts and the fidelity chapter's come from one function and add up."""
    per_chapter = report.by_chapter()
    whole = fidelity.verdict_counts(report.items)
    for key in (*fidelity.VERDICTS, "total"):
        assert int(per_chapter[key].sum()) == whole[key], key
    assert whole["total"] == len(report.items) == int(report.by_category()["compared"].sum())
    assert whole["agrees"] + whole["by_choice"] == report.score[0]
    assert list(per_chapter["chapter"]) == list(fidelity.CHAPTER_SECTIONS) == list(fidelity.CHAPTER_TITLES)


def test_verdicts_follow_statuses_and_every_choice_gives_its_reason(report: fidelity.FidelityReport) -> None:
    for i in report.items:
        assert i.verdict == {"reproduced": "agrees", "by_choice": "by_choice", "miss": "differs"}[i.status]
        if i.verdict == "agrees":
            assert i.reason == ""
        else:
            assert len(i.reason) > 20, i.id
            # a reader's words: no pointer to another page instead of a reason, no internal keys
            for jargon in ("fidelity chapter", "contract", "also_tier1", ".csv", "["):
                assert jargon not in i.reason, (i.id, i.reason)


def test_table_8_paper_column_is_what_the_paper_printed(items: dict[str, fidelity.FidelityItem]) -> None:
    for q in ("basel", "greater_zurich_area", "st_gallen"):
        item = items[f"table_8.{q}.region"]
        assert item.published == "EU" and item.recomputed == "Rest of the World"
        assert item.verdict == "by_choice"
        assert "Switzerland" in item.reason and "EU" in item.reason
        assert (item.row, item.field) != ("", "")
    assert items["table_8.wuhu.tier"].verdict == "by_choice" and "both tiers" in items["table_8.wuhu.tier"].reason


def test_aliases_count_as_agreement(items: dict[str, fidelity.FidelityItem]) -> None:
    """Table 2 prints "UC Berkeley"; the record is "University of California, Berkeley"."""
    (item,) = [i for i in items.values() if i.id.startswith("table_2.") and i.published == "UC Berkeley"]
    assert item.recomputed == "University of California, Berkeley"
    assert item.verdict == "agrees"


def test_table_5_ties_agree_by_choice_with_the_tie_as_reason(items: dict[str, fidelity.FidelityItem]) -> None:
    item = items["table_5.karlsruhe"]
    assert (item.published, item.recomputed, item.verdict) == ("3", "2=", "by_choice")
    assert "tie" in item.reason and "Table A" in item.reason


def test_a_chapter_table_counts_exactly_its_items(report: fidelity.FidelityReport) -> None:
    """A comparison built from the fidelity items shows every one of them and counts the same."""
    from quantumclusters.report import display

    t8 = published.table(8)
    items_8 = report.items_of(prefix="table_8.")
    rec = t8.assign(region=t8["contract_region"], tier="2")
    table = display.agreement_table(rec, t8.assign(tier="2"), key=("quasi_cluster", "Quasi-cluster"),
                                    columns={"tier": "Tier", "region": "Region"}, caption="Table 8",
                                    csv_name="t8.csv", items=items_8)
    assert table.verdict_counts == fidelity.verdict_counts(items_8)
    assert table.summary() == fidelity.verdict_summary(items_8)
    html = table.to_html()
    basel = table.frame.set_index("Quasi-cluster").loc["Basel"]
    assert (basel["Region_paper"], basel["Region_verdict"]) == ("EU", "by_choice")
    assert "Switzerland in the Rest of the World" in html and "agrees by documented choice" in html
    assert not table.checks  # every item is a cell of the table


# ---------------------------------------------------------------------------------------
# the readings of the paper's wording (issue 12, item 4)


def test_every_stated_interval_is_the_reading_of_its_wording() -> None:
    precision = published.stated_numbers().set_index("id")["precision"]
    for s in published.stated_number_records():
        if s.check == "context":
            continue
        p = float(precision[s.id]) if str(precision[s.id]).strip() else float("nan")
        low, high, bounds = published.reading_interval(s.wording, s.value, p)
        assert bounds == s.bounds, s.id
        assert low == pytest.approx(s.tol_low, rel=1e-9, abs=1e-12), s.id
        assert high == pytest.approx(s.tol_high, rel=1e-9, abs=1e-12), s.id


@pytest.mark.parametrize(
    ("wording", "value", "precision", "inside", "outside"),
    [
        ("over_figure", 418e6, 1e6, [418e6, 418.9e6], [417.9e6, 419e6, 419.5e6]),  # "over USD 418 million"
        ("over_figure", 750e6, 10e6, [750e6, 759e6], [749e6, 760e6, 820e6]),  # "more than USD 750 million"
        ("over_figure", 1.1e9, 1e8, [1.1e9, 1.19e9], [1.2e9, 1.22e9]),  # "over USD 1.1 billion"
        ("above", 0.95, float("nan"), [0.95, 0.999], [0.949]),  # "Spearman above 0.95": a bound
        ("comparable", 1.0, float("nan"), [0.75, 0.8, 1.0, 1.3], [0.71, 0.74, 1.34]),
        ("matching", 1.0, float("nan"), [0.9, 1.1], [0.89, 1.11]),
        ("about", 6.0, 1.0, [5.0, 7.0], [4.9, 7.1]),  # "around 6 per cent"
        ("nearly", 2.0, float("nan"), [1.7, 1.99], [1.69, 2.0]),  # "nearly twice"
        ("slightly_above", 100e6, float("nan"), [100e6, 109e6], [99e6, 110e6, 114e6]),
        ("exact", 29.0, 1.0, [28.5, 29.49], [28.49, 29.5]),  # "29 per cent"
        ("range", 2.5, 1.0, [1.5, 3.49], [1.49, 3.5]),  # "2-3 per cent"
        ("range_count", 2.5, float("nan"), [2.0, 3.0], [1.0, 4.0]),  # "two or three"
        ("just_under", 1.0, float("nan"), [0.8, 0.99], [0.79, 1.0]),
        ("below", 0.001, float("nan"), [0.0009], [0.001]),
        ("most", 0.5, float("nan"), [0.51, 1.0], [0.5]),
    ],
)
def test_readings(wording: str, value: float, precision: float, inside: list[float], outside: list[float]) -> None:
    low, high, bounds = published.reading_interval(wording, value, precision)
    for x in inside:
        assert published.in_interval(x, low, high, bounds), (wording, x)
    for x in outside:
        assert not published.in_interval(x, low, high, bounds), (wording, x)
    assert published.READINGS[wording].meaning


def test_every_wording_has_a_reading() -> None:
    used = {s.wording for s in published.stated_number_records() if s.check != "context"}
    assert used <= set(published.READINGS)
    with pytest.raises(ValueError):
        published.reading_interval("over_figure", 418e6)  # a figure's reading needs its precision
