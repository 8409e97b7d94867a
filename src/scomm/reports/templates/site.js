/* scomm public pages: tables and plotly charts from window.SCOMM (data/release.js).
   No fetch(), no modules: the pages work when opened from files. A suppressed cell's value
   is null in the data and shown as the marker (SCOMM.marker); a percent needs two shown
   counts. Every text from the data goes into the page through textContent. */
(function () {
  "use strict";
  var D = window.SCOMM;
  if (!D) { return; }
  var MONTHS = D.months.length;
  var periodIndex = {};
  D.periods.forEach(function (p, i) { periodIndex[p] = i; });
  var measureOf = {};
  D.measures.forEach(function (m) { measureOf[m.name] = m; });
  var jurisdictionOf = {};
  D.jurisdictions.forEach(function (j) { jurisdictionOf[j.ori] = j; });
  var GROUP_TITLES = { ice_monthly: "ICE's monthly statistics", never_published: "What ICE never published", other: "Other" };

  function cell(measure, geo, period) {
    var i = periodIndex[period];
    var row = (D.values[measure] || {})[geo];
    var status = ((D.status[measure] || {})[geo] || "").charAt(i);
    if (!row || i === undefined || status === "" || status === "-") { return { value: null, status: "-" }; }
    return { value: row[i], status: status };
  }
  function shown(c) { return c.status !== "x" && c.status !== "-" && c.value !== null; }
  function countText(c) {
    if (c.status === "x") { return D.marker; }
    if (!shown(c)) { return "–"; }
    return c.value.toLocaleString("en-US");
  }
  function percent(c, base) {
    if (!shown(c) || !shown(base) || base.value <= 0) { return null; }
    return 100 * c.value / base.value;
  }
  function percentText(c, base) {
    var p = percent(c, base);
    return p === null ? "–" : p.toFixed(1) + "%";
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function countCell(c) {
    var td = el("td", countText(c), c.status === "x" ? "n suppressed" : "n");
    td.setAttribute("data-status", c.status);
    return td;
  }
  function option(select, value, text) {
    var o = el("option", text);
    o.value = value;
    select.appendChild(o);
    return o;
  }
  function scale() {
    var checked = document.querySelector("input[name=scale]:checked");
    return checked ? checked.value : "count";
  }
  function baseMeasure() {
    var s = document.getElementById("base-measure");
    return s && s.value ? s.value : D.measures[0].name;
  }
  function fillMeasures(select, preferred) {
    if (!select) { return; }
    D.measures.forEach(function (m) { option(select, m.name, m.title); });
    if (preferred && measureOf[preferred]) { select.value = preferred; }
  }
  function periodText(p) { return p === "cumulative" ? "whole release" : (p.indexOf("FY") === 0 ? "fiscal year " + p.slice(2) : p); }

  /* A time series over the release's months: y null where suppressed (a gap, hover says so). */
  function trace(measure, geo, asPercent) {
    var base = baseMeasure();
    var x = [], y = [], text = [];
    D.months.forEach(function (month) {
      var c = cell(measure, geo, month);
      x.push(month);
      if (asPercent) {
        var p = percent(c, cell(base, geo, month));
        y.push(p);
        text.push(p === null ? "no percent" : p.toFixed(1) + "%");
      } else {
        y.push(shown(c) ? c.value : null);
        text.push(countText(c));
      }
    });
    return { x: x, y: y, text: text, hovertemplate: "%{x}: %{text}<extra>" + measureOf[measure].title.replace(/[<>&]/g, "") + "</extra>",
             name: measureOf[measure].title, mode: "lines+markers", type: "scatter", connectgaps: false };
  }
  function plot(div, traces, ytitle, shapes) {
    if (!div || !window.Plotly) { return; }
    window.Plotly.react(div, traces, {
      margin: { l: 50, r: 10, t: 10, b: 40 }, yaxis: { title: { text: ytitle }, rangemode: "tozero" },
      xaxis: { type: "category" }, legend: { orientation: "h", y: -0.25 }, showlegend: true, shapes: shapes || [],
    }, { displaylogo: false, responsive: true });
  }
  function bindScale(redraw) {
    Array.prototype.forEach.call(document.querySelectorAll("input[name=scale]"), function (r) { r.addEventListener("change", redraw); });
    var base = document.getElementById("base-measure");
    if (base) { base.addEventListener("change", redraw); }
  }

  function indexPage() {
    fillMeasures(document.getElementById("base-measure"), "submissions");
    function redraw() {
      var asPercent = scale() === "percent";
      Object.keys(GROUP_TITLES).forEach(function (group) {
        var div = document.getElementById("chart-" + group);
        if (!div) { return; }
        var traces = D.measures.filter(function (m) { return m.group === group; }).map(function (m) { return trace(m.name, "US", asPercent); });
        plot(div, traces, asPercent ? "percent of " + measureOf[baseMeasure()].title : "count");
      });
    }
    var body = document.querySelector("#nation-table tbody");
    D.measures.forEach(function (m) {
      var tr = el("tr");
      tr.setAttribute("data-measure", m.name);
      tr.appendChild(el("td", m.title));
      tr.appendChild(el("td", GROUP_TITLES[m.group] || m.group));
      tr.appendChild(countCell(cell(m.name, "US", "cumulative")));
      body.appendChild(tr);
    });
    bindScale(redraw);
    redraw();
  }

  function drilldownPage() {
    var stateList = document.getElementById("state-list");
    var countyList = document.getElementById("county-list");
    var monthList = document.getElementById("month-list");
    var listMeasure = document.getElementById("list-measure");
    fillMeasures(listMeasure, "submissions");
    fillMeasures(document.getElementById("base-measure"), "submissions");

    function label(name, c) { return name + " · " + countText(c); }
    function state() { return stateList.value || "US"; }
    function geo() { return countyList.value || state(); }
    function period() { return monthList.value || "cumulative"; }

    function fillStates() {
      var keep = stateList.value || "US";
      stateList.innerHTML = "";
      var m = listMeasure.value;
      option(stateList, "US", label("All states", cell(m, "US", period())));
      D.states.forEach(function (s) { option(stateList, s, label(s, cell(m, s, period()))); });
      stateList.value = keep;
    }
    function fillCounties() {
      var keep = countyList.value;
      countyList.innerHTML = "";
      var m = listMeasure.value, st = state();
      option(countyList, "", label(st === "US" ? "All counties" : "All counties of " + st, cell(m, st, period())));
      D.jurisdictions.filter(function (j) { return st === "US" || j.state === st; }).forEach(function (j) {
        var when = j.activation ? "activated " + j.activation : "not activated";
        option(countyList, j.ori, label(j.name + " (" + j.ori + ", " + when + ")", cell(m, j.ori, period())));
      });
      countyList.value = keep && jurisdictionOf[keep] && (st === "US" || jurisdictionOf[keep].state === st) ? keep : "";
    }
    function fillMonths() {
      var keep = monthList.value || "cumulative";
      monthList.innerHTML = "";
      var m = listMeasure.value, g = geo();
      option(monthList, "cumulative", label("All months", cell(m, g, "cumulative")));
      D.periods.filter(function (p) { return p !== "cumulative"; }).slice().reverse().forEach(function (p) {
        option(monthList, p, label(periodText(p), cell(m, g, p)));
      });
      monthList.value = keep;
    }
    function geoText(g) {
      if (g === "US") { return "the nation"; }
      if (jurisdictionOf[g]) { return jurisdictionOf[g].name + " (" + g + ")"; }
      return g;
    }
    function showSelection() {
      var g = geo(), p = period(), base = baseMeasure();
      var where = geoText(g);
      document.getElementById("selection-title").textContent = where.charAt(0).toUpperCase() + where.slice(1) + ", " + periodText(p);
      var body = document.querySelector("#selection-table tbody");
      body.innerHTML = "";
      Object.keys(GROUP_TITLES).forEach(function (group) {
        var ms = D.measures.filter(function (m) { return m.group === group; });
        if (!ms.length) { return; }
        var head = el("tr");
        var th = el("th", GROUP_TITLES[group]);
        th.colSpan = 3;
        head.appendChild(th);
        body.appendChild(head);
        ms.forEach(function (m) {
          var c = cell(m.name, g, p);
          var tr = el("tr");
          tr.setAttribute("data-measure", m.name);
          tr.appendChild(el("td", m.title));
          tr.appendChild(countCell(c));
          tr.appendChild(el("td", percentText(c, cell(base, g, p)), "n pct"));
          body.appendChild(tr);
        });
      });
      var asPercent = scale() === "percent";
      var shapes = D.months.indexOf(p) >= 0 ? [{ type: "line", xref: "x", yref: "paper", x0: p, x1: p, y0: 0, y1: 1, line: { color: "#a33", width: 1, dash: "dot" } }] : [];
      plot(document.getElementById("selection-chart"), [trace(listMeasure.value, g, asPercent)],
           asPercent ? "percent of " + measureOf[base].title : "count", shapes);
      monthTable(g);
    }
    function monthTable(g) {
      document.getElementById("month-table-title").textContent = "Month by month: " + geoText(g);
      var head = document.querySelector("#month-table thead"), body = document.querySelector("#month-table tbody");
      head.innerHTML = ""; body.innerHTML = "";
      var tr = el("tr");
      tr.appendChild(el("th", "Month"));
      D.measures.forEach(function (m) { tr.appendChild(el("th", m.title, "n")); });
      head.appendChild(tr);
      D.periods.forEach(function (p) {
        var row = el("tr");
        row.setAttribute("data-period", p);
        row.appendChild(el("td", periodText(p)));
        D.measures.forEach(function (m) { row.appendChild(countCell(cell(m.name, g, p))); });
        body.appendChild(row);
      });
    }
    function refresh(from) {
      if (from <= 0) { fillStates(); }
      if (from <= 1) { fillCounties(); }
      if (from <= 2) { fillMonths(); }
      showSelection();
    }
    stateList.addEventListener("change", function () { countyList.value = ""; refresh(1); });
    countyList.addEventListener("change", function () { refresh(2); });
    monthList.addEventListener("change", function () { refresh(3); });
    listMeasure.addEventListener("change", function () { refresh(0); });
    bindScale(function () { refresh(3); });
    refresh(0);
  }

  function whatifPage() {
    var W = D.whatif, div = document.getElementById("whatif-chart");
    if (!W || !div) { return; }
    var titles = W.rows.map(function (r) { return r.title; });
    function arm(key, name) {
      return { type: "bar", orientation: "h", name: name, y: titles, x: W.rows.map(function (r) { return r[key].mean; }),
               error_x: { type: "data", symmetric: false,
                          array: W.rows.map(function (r) { return r[key].high === null ? 0 : r[key].high - r[key].mean; }),
                          arrayminus: W.rows.map(function (r) { return r[key].low === null ? 0 : r[key].mean - r[key].low; }) } };
    }
    window.Plotly.react(div, [arm("a", "A: " + W.policies[0]), arm("b", "B: " + W.policies[1])], {
      barmode: "group", margin: { l: 260, r: 10, t: 10, b: 40 }, yaxis: { autorange: "reversed" },
      height: Math.max(320, 40 * titles.length + 80), legend: { orientation: "h", y: -0.1 },
    }, { displaylogo: false, responsive: true });
  }

  var page = document.body.getAttribute("data-page");
  if (page === "index.html") { indexPage(); }
  else if (page === "drilldown.html") { drilldownPage(); }
  else if (page === "whatif.html") { whatifPage(); }
})();
