"""The re-weighting tool of the explorer chapter: its JavaScript ranking (static/reweight.js,
run with node) equals :func:`quantumclusters.ranking.weighted_ranking`, and equal weights
give :func:`quantumclusters.ranking.rank_clusters` exactly (ties included).

The bundled run's indicator ranks and synthetic indicators with ties and missing values are
ranked under ~50 weight vectors (random, with zeros, equal, one dimension alone) in Python
and in JavaScript; every overall and dimension rank must agree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantumclusters import paths
from quantumclusters.indicators import INDICATORS
from quantumclusters.pipeline import run
from quantumclusters.ranking import DIMENSIONS, indicator_ranks, rank_clusters, weighted_ranking
from quantumclusters.report import explorer
from quantumclusters.schema import load_database

JS = Path(explorer.__file__).resolve().parent / "static" / "reweight.js"
NODE = shutil.which("node")

DRIVER = """
const rw = require(process.argv[process.argv.length - 1]);
let input = "";
process.stdin.on("data", d => input += d);
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  const out = job.cases.map(c => {
    const r = rw.weightedRanking(job.ranks, job.dims, c.dims, c.indicators);
    return {overall: r.overall, dims: r.dims};
  });
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def bundled_indicators() -> pd.DataFrame:
    result = run(load_database(paths.bundled_dir()), paths.DEFAULT_CUTOFF, draws=10)
    return result.indicator_table()


def synthetic_indicators(n: int = 40, seed: int = 7) -> pd.DataFrame:
    """Indicators with many ties (few distinct values), missing values, and a cluster with
    no value at all in one dimension."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 5, size=(n, len(INDICATORS))).astype(float)
    values[rng.random(values.shape) < 0.15] = np.nan
    values[0, 0:3] = np.nan  # no market-orientation indicator at all
    values[1, :] = values[2, :]  # two identical clusters
    names = [f"C{i:02d} <&>\u2028" if i % 7 == 0 else f"C{i:02d}" for i in range(n)]
    return pd.DataFrame(values, columns=list(INDICATORS), index=pd.Index(names, name="cluster"))


def weight_cases(seed: int = 20250731, n_random: int = 44) -> list[tuple[list[float], list[float]]]:
    """(dimension weights, indicator weights): equal, each dimension alone, scaled equal,
    and random vectors with zeros."""
    rng = np.random.default_rng(seed)
    ones3, ones9 = [1.0] * 3, [1.0] * 9
    cases = [(ones3, ones9), ([1.0, 0.0, 0.0], ones9), ([0.0, 1.0, 0.0], ones9), ([0.0, 0.0, 1.0], ones9),
             ([0.0, 0.0, 0.0], ones9), ([1.0, 1.0, 1.0], [0.0] * 9)]
    for k in range(n_random):
        d = np.round(rng.uniform(0, 3, 3), 1)
        i = np.round(rng.uniform(0, 3, 9), 1) if k % 2 else np.ones(9)
        d[rng.random(3) < 0.2] = 0.0
        i[rng.random(9) < 0.2] = 0.0
        cases.append(([float(x) for x in d], [float(x) for x in i]))
    return cases


def js_rankings(ranks: pd.DataFrame, cases: list[tuple[list[float], list[float]]]) -> list[dict]:
    job = {
        "ranks": [[None if np.isnan(v) else float(v) for v in row] for row in ranks.to_numpy(dtype=float)],
        "dims": [[INDICATORS.index(c) for c in cols] for cols in DIMENSIONS.values()],
        "cases": [{"dims": d, "indicators": i} for d, i in cases],
    }
    proc = subprocess.run([NODE, "-e", DRIVER, str(JS)], input=json.dumps(job), capture_output=True, text=True,
                          check=True, timeout=60)
    return json.loads(proc.stdout)


def _as_list(series: pd.Series) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in series]


def check_js_equals_python(indicators: pd.DataFrame) -> None:
    cases = weight_cases()
    ranks = indicator_ranks(indicators[list(INDICATORS)])
    got = js_rankings(ranks, cases)
    for (d, i), js in zip(cases, got):
        py = weighted_ranking(indicators, d, i).set_index("cluster").reindex(indicators.index.astype("string"))
        assert js["overall"] == _as_list(py["overall_rank"]), f"overall ranks differ for weights {d} {i}"
        for k, dim in enumerate(DIMENSIONS):
            assert js["dims"][k] == _as_list(py[f"{dim}_rank"]), f"{dim} ranks differ for weights {d} {i}"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_js_equals_python_on_the_bundled_run(bundled_indicators: pd.DataFrame) -> None:
    check_js_equals_python(bundled_indicators)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_js_equals_python_on_ties_and_missing_values() -> None:
    check_js_equals_python(synthetic_indicators())


def test_equal_weights_are_the_baseline_bit_for_bit(bundled_indicators: pd.DataFrame) -> None:
    for table in (bundled_indicators, synthetic_indicators(), synthetic_indicators(60, 3)):
        base = rank_clusters(table)
        pd.testing.assert_frame_equal(weighted_ranking(table, None), base, check_exact=True)
        pd.testing.assert_frame_equal(weighted_ranking(table, [2.0, 2.0, 2.0], [4.0] * 9), base, check_exact=True)
    assert weighted_ranking(synthetic_indicators(), [1, 1, 1])["overall_label"].str.endswith("=").any()


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_js_equal_weights_give_the_baseline(bundled_indicators: pd.DataFrame) -> None:
    ranks = indicator_ranks(bundled_indicators[list(INDICATORS)])
    js = js_rankings(ranks, [([1.0] * 3, [1.0] * 9)])[0]
    base = rank_clusters(bundled_indicators).set_index("cluster").reindex(bundled_indicators.index.astype("string"))
    assert js["overall"] == _as_list(base["overall_rank"])


def test_one_dimension_alone_ranks_by_that_dimension(bundled_indicators: pd.DataFrame) -> None:
    base = rank_clusters(bundled_indicators).set_index("cluster")
    for k, dim in enumerate(DIMENSIONS):
        w = [0.0, 0.0, 0.0]
        w[k] = 1.0
        alt = weighted_ranking(bundled_indicators, w).set_index("cluster")
        assert _as_list(alt["overall_rank"]) == _as_list(base.loc[alt.index, f"{dim}_rank"])


def test_weights_are_checked() -> None:
    table = synthetic_indicators()
    with pytest.raises(ValueError):
        weighted_ranking(table, [1.0, -1.0, 1.0])
    with pytest.raises(ValueError):
        weighted_ranking(table, [1.0, 1.0])
    with pytest.raises(KeyError):
        weighted_ranking(table, {"market": 1.0})
    zero = weighted_ranking(table, [0.0, 0.0, 0.0])
    assert zero["overall_rank"].isna().all()


def test_embedded_json_cannot_break_out_of_its_script() -> None:
    nasty = ["</script><script>alert(1)</script>", "a & b <c>", "line\u2028sep\u2029x", "本源量子"]
    text = explorer.safe_json({"clusters": nasty})
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == {"clusters": nasty}


def test_names_are_escaped_in_the_page() -> None:
    table = synthetic_indicators()
    ranking = rank_clusters(table)

    class FakeResult:
        def __init__(self) -> None:
            self.ranking = ranking

        def indicator_table(self) -> pd.DataFrame:
            return table

    for out in (explorer.cluster_table(FakeResult()).text, explorer.reweight_tool(FakeResult()).text):
        assert "<&>" not in out
        assert "C00 &lt;&amp;&gt;" in out or "C00 \\u003c\\u0026\\u003e" in out
    page = explorer.reweight_tool(FakeResult()).text
    assert page.count("</script>") == 2  # the JSON block and the inlined script, nothing else
