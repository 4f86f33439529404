/* Quantum Clusters explorer: re-weighting the ranking in the browser, and sortable tables.
 *
 * The ranking rule is the one of quantumclusters.ranking.weighted_ranking:
 *   dimension score = sum(w_i * rank_i) / sum(w_i) over the available indicator ranks,
 *   overall score   = sum(W_d * score_d) / sum(W_d) over the available dimension scores,
 *   scores rounded to 9 decimals (as numpy: x * 1e9, round half to even, / 1e9) and ranked
 *   smallest = 1, ties sharing the smallest rank.
 * Sums run in the same order as in Python, so equal weights give the baseline bit for bit.
 * No network, no dependencies. Under node: module.exports = {weightedScores, rankScores, weightedRanking}.
 */
(function (root) {
  "use strict";

  function weightedMean(values, weights) {
    var num = 0, den = 0;
    for (var i = 0; i < values.length; i++) {
      var x = values[i];
      if (x === null || x === undefined || x !== x) continue;
      num = num + weights[i] * x;
      den = den + weights[i];
    }
    return den > 0 ? num / den : null;
  }

  /* rint: round half to even (numpy's np.rint) */
  function rint(y) {
    var f = Math.floor(y), d = y - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return (f % 2 === 0) ? f : f + 1;
  }

  function round9(x) { return rint(x * 1e9) / 1e9; }

  /* ranks[c] = array of (number|null) indicator ranks; dims = [[i, j, k], ...] indicator
     positions per dimension; returns {dims: [[score per cluster] per dimension], overall: [...]} */
  function weightedScores(ranks, dims, dimWeights, indWeights) {
    var dimScores = dims.map(function (cols) {
      var weights = cols.map(function (j) { return indWeights[j]; });
      return ranks.map(function (row) {
        return weightedMean(cols.map(function (j) { return row[j]; }), weights);
      });
    });
    var overall = ranks.map(function (row, c) {
      return weightedMean(dimScores.map(function (scores) { return scores[c]; }), dimWeights);
    });
    return {dims: dimScores, overall: overall};
  }

  /* min ranks of scores (smallest = 1) after rounding to 9 decimals; null stays null */
  function rankScores(scores) {
    var r = scores.map(function (s) { return s === null ? null : round9(s); });
    return r.map(function (x) {
      if (x === null) return null;
      var k = 1;
      for (var i = 0; i < r.length; i++) if (r[i] !== null && r[i] < x) k++;
      return k;
    });
  }

  function weightedRanking(ranks, dims, dimWeights, indWeights) {
    var s = weightedScores(ranks, dims, dimWeights, indWeights);
    return {overall: rankScores(s.overall), dims: s.dims.map(rankScores), scores: s};
  }

  var api = {weightedScores: weightedScores, rankScores: rankScores, weightedRanking: weightedRanking, round9: round9};
  if (typeof module !== "undefined" && module.exports) { module.exports = api; return; }
  root.qcReweight = api;

  /* ------------------------------------------------------------------ the page */

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;  /* names are data: always text, never markup */
    return e;
  }

  function tieCounts(ranks) {
    var n = {};
    ranks.forEach(function (r) { if (r !== null) n[r] = (n[r] || 0) + 1; });
    return n;
  }

  function setUpReweight(box) {
    var data = JSON.parse(document.getElementById(box.getAttribute("data-source")).textContent);
    var body = box.querySelector("#reweighted-ranking tbody");
    var status = box.querySelector(".qc-rw-status");
    var sliders = Array.prototype.slice.call(box.querySelectorAll("input[type=range]"));
    function weightOf(name) {
      var s = box.querySelector('input[name="' + name + '"]');
      return s ? parseFloat(s.value) : 1;
    }
    function update() {
      sliders.forEach(function (s) {
        var out = box.querySelector('output[for="' + s.id + '"]');
        if (out) out.textContent = parseFloat(s.value).toFixed(1);
      });
      var dw = data.dimensions.map(function (d) { return weightOf("w_" + d.key); });
      var iw = data.indicators.map(function (d) { return weightOf("w_" + d.key); });
      var res = weightedRanking(data.ranks, data.dimension_columns, dw, iw);
      var ties = tieCounts(res.overall);
      var order = data.clusters.map(function (_, i) { return i; });
      order.sort(function (a, b) {
        var ra = res.overall[a], rb = res.overall[b];
        if (ra === null && rb !== null) return 1;
        if (rb === null && ra !== null) return -1;
        if (ra !== rb) return ra - rb;
        return data.clusters[a] < data.clusters[b] ? -1 : (data.clusters[a] > data.clusters[b] ? 1 : 0);
      });
      var frag = document.createDocumentFragment(), ranked = 0;
      order.forEach(function (i) {
        var r = res.overall[i], base = data.baseline[i];
        var tr = el("tr");
        tr.appendChild(el("th", {scope: "row"}, data.clusters[i]));
        tr.appendChild(el("td", {"class": "qc-num"}, r === null ? "–" : String(r) + (ties[r] > 1 ? "=" : "")));
        tr.appendChild(el("td", {"class": "qc-num"}, base === null ? "–" : String(base) + (data.baseline_tied[i] ? "=" : "")));
        var shift = (r === null || base === null) ? "–" : base - r;
        var txt = shift === "–" ? shift : (shift > 0 ? "▲ " + shift : (shift < 0 ? "▼ " + (-shift) : "0"));
        tr.appendChild(el("td", {"class": "qc-num " + (shift > 0 ? "qc-up" : (shift < 0 ? "qc-down" : ""))}, txt));
        if (r !== null) ranked++;
        frag.appendChild(tr);
      });
      body.textContent = "";
      body.appendChild(frag);
      var moved = order.filter(function (i) { return res.overall[i] !== null && res.overall[i] !== data.baseline[i]; }).length;
      status.textContent = ranked === 0
        ? "Every weight that matters is zero: no cluster can be ranked. Raise at least one slider."
        : moved === 0 ? "These weights give exactly the published-method ranking."
        : moved + " of " + ranked + " clusters change rank under these weights.";
    }
    sliders.forEach(function (s) { s.addEventListener("input", update); });
    var reset = box.querySelector(".qc-rw-reset");
    if (reset) reset.addEventListener("click", function () { sliders.forEach(function (s) { s.value = "1"; }); update(); });
    update();
  }

  /* sortable + searchable table: click a header to sort (again to reverse); filter box */
  function cellKey(td) {
    var v = td.getAttribute("data-sort");
    if (v === null) v = td.textContent;
    if (v === "" || v === "–") return {missing: true};
    var x = parseFloat(v);
    return (!isNaN(x) && /^[-+]?[0-9.eE+-]+$/.test(v)) ? {num: x} : {text: v.toLowerCase()};
  }

  function setUpSortable(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[table.tHead.rows.length - 1].cells);
    var body = table.tBodies[0];
    heads.forEach(function (th, col) {
      var btn = el("button", {type: "button", "class": "qc-sort"}, th.textContent);
      th.textContent = "";
      th.appendChild(btn);
      th.setAttribute("aria-sort", "none");
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        var keyed = rows.map(function (tr, i) { return {tr: tr, k: cellKey(tr.cells[col]), i: i}; });
        keyed.sort(function (a, b) {
          if (a.k.missing || b.k.missing) return (a.k.missing ? 1 : 0) - (b.k.missing ? 1 : 0) || a.i - b.i;
          var c = ("num" in a.k && "num" in b.k) ? a.k.num - b.k.num
            : String(a.k.text !== undefined ? a.k.text : a.k.num).localeCompare(String(b.k.text !== undefined ? b.k.text : b.k.num));
          return (asc ? c : -c) || a.i - b.i;
        });
        keyed.forEach(function (x) { body.appendChild(x.tr); });
      });
    });
    var search = document.querySelector('input[data-filter="' + table.id + '"]');
    if (search) {
      search.addEventListener("input", function () {
        var q = search.value.trim().toLowerCase();
        Array.prototype.forEach.call(body.rows, function (tr) {
          tr.hidden = q !== "" && tr.cells[0].textContent.toLowerCase().indexOf(q) < 0;
        });
      });
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.qc-sortable"), setUpSortable);
    Array.prototype.forEach.call(document.querySelectorAll(".qc-reweight[data-source]"), setUpReweight);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})(this);
