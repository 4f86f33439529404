"""Contract section 6: the Borda-type ranking, ties and labels (answers worked by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumclusters.indicators import INDICATORS
from quantumclusters.ranking import (
    DIMENSIONS,
    RANKING_COLUMNS,
    indicator_ranks,
    rank_clusters,
    rank_label,
    rank_labels,
    rank_scores,
    round_significant,
)

NAN = np.nan


def test_round_to_12_significant_digits() -> None:
    # 1/3 = 0.33333333333333331483 -> 12 digits: 0.333333333333, the same as the literal
    # 0.333333333333; 0.33333333334 differs in the 11th digit and stays apart.
    r = round_significant([1 / 3, 0.333333333333, 0.33333333334, 123456789012345.0, NAN, 0.0])
    assert r[0] == r[1] == 0.333333333333
    assert r[2] == 0.33333333334
    assert r[3] == 123456789012000.0
    assert np.isnan(r[4]) and r[5] == 0.0


def test_indicator_ranks_min_ties_and_missing() -> None:
    # values 1/3, 0.333333333333 (equal at 12 digits), 0.2, missing:
    # largest = 1, ties share the smallest rank -> 1, 1, 3, (no rank)
    ind = pd.DataFrame({"x": [1 / 3, 0.333333333333, 0.2, NAN]}, index=list("ABCD"))
    ranks = indicator_ranks(ind)["x"]
    assert ranks.iloc[:3].tolist() == [1.0, 1.0, 3.0]
    assert np.isnan(ranks["D"])


def test_rank_label() -> None:
    assert rank_label(12, True) == "12="
    assert rank_label(3, False) == "3"
    labels = rank_labels(pd.Series([1, 1, 3, pd.NA], dtype="Int64"))
    assert labels.tolist() == ["1=", "1=", "3", ""]


def test_scores_rounded_to_9_decimals_before_ranking() -> None:
    # 1.0000000001 and 1.0000000004 both round to 1.000000000 -> tie, rank 1 each;
    # 1.000000002 stays apart -> rank 3 (min ranks); missing -> no rank
    ranks = rank_scores(pd.Series([1.0000000001, 1.0000000004, 1.000000002, NAN]))
    assert ranks.iloc[:3].tolist() == [1, 1, 3]
    assert ranks.isna().iloc[3]


# Four clusters; the ranks of every indicator are written beside the values.
INDICATOR_TABLE = pd.DataFrame(
    {
        # market orientation
        "total_funding_usd": [30.0, 20.0, 10.0, 10.0],  # ranks 1, 2, 3, 3
        "startup_funding_to_gdp": [NAN, 0.3, 0.2, 0.1],  # -, 1, 2, 3
        "industry_collaborations_per_tn_gdp": [5.0, 5.0, 1.0, 0.0],  # 1, 1, 3, 4
        # collaboration intensity
        "collaborations": [10.0, 20.0, 30.0, 40.0],  # 4, 3, 2, 1
        "external_share": [0.5, 0.5, 0.5, 0.5],  # 1, 1, 1, 1
        "brokerage": [1 / 3, 0.333333333333, 0.0, 0.0],  # 1, 1, 3, 3 (12-digit tie)
        # ecosystem maturity
        "institutions_per_million": [4.0, 3.0, 2.0, 1.0],  # 1, 2, 3, 4
        "spinouts_per_research_institution": [NAN, NAN, 1.0, 0.5],  # -, -, 1, 2
        "startups_per_institution": [0.1, 0.2, 0.3, 0.4],  # 4, 3, 2, 1
    },
    index=pd.Index(["A", "B", "C", "D"], name="cluster"),
)
# dimension scores = mean of the available ranks:
#   market:        A (1+1)/2 = 1      B (2+1+1)/3 = 4/3   C (3+2+3)/3 = 8/3   D (3+3+4)/3 = 10/3
#   collaboration: A (4+1+1)/3 = 2    B (3+1+1)/3 = 5/3   C (2+1+3)/3 = 2     D (1+1+3)/3 = 5/3
#   ecosystem:     A (1+4)/2 = 2.5    B (2+3)/2 = 2.5     C (3+1+2)/3 = 2     D (4+2+1)/3 = 7/3
# overall = mean of the three:
#   A (1+2+2.5)/3 = 11/6   B (4/3+5/3+2.5)/3 = 11/6   C (8/3+2+2)/3 = 20/9   D (10/3+5/3+7/3)/3 = 22/9
EXPECTED_SCORES = {
    "market_orientation": [1.0, 4 / 3, 8 / 3, 10 / 3],
    "collaboration_intensity": [2.0, 5 / 3, 2.0, 5 / 3],
    "ecosystem_maturity": [2.5, 2.5, 2.0, 7 / 3],
    "overall": [11 / 6, 11 / 6, 20 / 9, 22 / 9],
}
EXPECTED_LABELS = {
    "market_orientation": ["1", "2", "3", "4"],
    "collaboration_intensity": ["3=", "1=", "3=", "1="],  # B, D tie at 5/3; A, C at 2
    "ecosystem_maturity": ["3=", "3=", "1", "2"],  # C 2 < D 7/3 < A = B 2.5
    "overall": ["1=", "1=", "3", "4"],  # A = B = 11/6
}


@pytest.fixture(scope="module")
def ranking() -> pd.DataFrame:
    return rank_clusters(INDICATOR_TABLE).set_index("cluster")


def test_ranking_columns(ranking: pd.DataFrame) -> None:
    assert ["cluster", *ranking.columns] == list(RANKING_COLUMNS)
    assert list(DIMENSIONS) == ["market_orientation", "collaboration_intensity", "ecosystem_maturity"]
    assert sum(DIMENSIONS.values(), ()) == INDICATORS


@pytest.mark.parametrize("part", list(EXPECTED_SCORES))
def test_scores_are_means_of_available_ranks(ranking: pd.DataFrame, part: str) -> None:
    np.testing.assert_allclose(ranking.loc[list("ABCD"), f"{part}_score"], EXPECTED_SCORES[part], rtol=1e-15)


@pytest.mark.parametrize("part", list(EXPECTED_LABELS))
def test_ranks_and_labels(ranking: pd.DataFrame, part: str) -> None:
    labels = EXPECTED_LABELS[part]
    assert ranking.loc[list("ABCD"), f"{part}_label"].tolist() == labels
    assert ranking.loc[list("ABCD"), f"{part}_rank"].tolist() == [int(x.rstrip("=")) for x in labels]


def test_sorted_by_overall_rank_then_name() -> None:
    assert rank_clusters(INDICATOR_TABLE)["cluster"].tolist() == ["A", "B", "C", "D"]


def test_cluster_without_any_indicator_has_no_rank() -> None:
    table = INDICATOR_TABLE.copy()
    table.loc["E"] = NAN
    ranking = rank_clusters(table)
    last = ranking.iloc[-1]
    assert last["cluster"] == "E"
    assert pd.isna(last["overall_rank"]) and last["overall_label"] == ""
    # the others keep their ranks: missing values take no rank from anyone
    assert ranking["overall_label"].iloc[:4].tolist() == ["1=", "1=", "3", "4"]


def test_indicators_csv_form_accepted() -> None:
    # the indicators.csv form (a cluster column) ranks the same as the indexed form
    as_file = INDICATOR_TABLE.reset_index()
    pd.testing.assert_frame_equal(rank_clusters(as_file), rank_clusters(INDICATOR_TABLE))
