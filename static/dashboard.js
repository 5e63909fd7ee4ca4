// The dashboard's charts. Their data come from data-chart attributes the page renders (no inline
// script: the CSP forbids it); Chart.js is served from this site's /vendor/.
(function () {
  if (!window.Chart) return;
  // People who asked their system for less motion get the charts drawn at once (and so do
  // screenshots taken with that preference).
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }
  var RED = "#c62828";
  var PALETTE = ["#c62828", "#ef6c00", "#f9a825", "#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#5d4037",
                 "#ad1457", "#546e7a", "#9e9d24", "#283593", "#4e342e", "#00695c", "#8e24aa", "#d84315"];
  var integers = { y: { beginAtZero: true, ticks: { precision: 0 } } };
  // The charts of the figures fill their .chart-box (a fixed height in console.css), at any width.
  var FILL = { responsive: true, maintainAspectRatio: false };

  function data(id) {
    var el = document.getElementById(id);
    return el ? { el: el, rows: JSON.parse(el.getAttribute("data-chart") || "[]") } : null;
  }

  function bar(el, labels, counts, extra) {
    return new Chart(el, Object.assign({
      type: "bar",
      data: { labels: labels, datasets: [{ label: "诉求数", backgroundColor: RED, data: counts }] },
      options: { plugins: { legend: { display: false } }, scales: integers }
    }, extra || {}));
  }

  // The states chart, from the counts table beside it.
  var canvas = document.getElementById("by-state");
  var table = document.getElementById("state-counts");
  if (canvas && table) {
    bar(canvas, Array.prototype.map.call(table.querySelectorAll("th"), function (th) { return th.textContent; }),
        Array.prototype.map.call(table.querySelectorAll("td"), function (td) { return Number(td.textContent); }));
  }

  var perDay = data("chart-per-day");
  if (perDay) {
    new Chart(perDay.el, {
      type: "line",
      data: { labels: perDay.rows.map(function (r) { return r.day.slice(5); }),
              datasets: [{ label: "受理量", borderColor: RED, backgroundColor: RED, tension: 0.2,
                           data: perDay.rows.map(function (r) { return r.count; }) }] },
      options: Object.assign({ plugins: { legend: { display: false } }, scales: integers }, FILL)
    });
  }

  // By category: the top level; a click on a bar or the select shows that category's second level.
  var byCategory = data("chart-by-category");
  var drill = document.getElementById("category-drill");
  if (byCategory) {
    var top = byCategory.rows;
    var chart = bar(byCategory.el, [], [], {
      options: { indexAxis: "y", responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
                 onClick: function (event, elements) {
                   if (!elements.length || (drill && drill.value)) return;
                   var picked = top[elements[0].index];
                   if (drill) { drill.value = picked.category; }
                   show(picked.category);
                 } }
    });
    var show = function (category) {
      var rows = top;
      if (category) {
        var found = top.filter(function (r) { return r.category === category; })[0];
        rows = found ? found.children.map(function (c) {
          return { category: c.category.split("/").slice(1).join("/") || c.category, count: c.count };
        }) : [];
      }
      chart.data.labels = rows.map(function (r) { return r.category; });
      chart.data.datasets[0].data = rows.map(function (r) { return r.count; });
      chart.update();
      byCategory.el.setAttribute("data-level", category ? "2" : "1");
    };
    show("");
    if (drill) drill.addEventListener("change", function () { show(drill.value); });
  }

  var byGrid = data("chart-by-grid");
  if (byGrid) {
    bar(byGrid.el, byGrid.rows.map(function (r) { return r.grid; }), byGrid.rows.map(function (r) { return r.count; }),
        { options: Object.assign({ plugins: { legend: { display: false } }, scales: integers }, FILL) });
  }

  // Property companies: the three rates side by side, in per cent (the table below has the counts).
  var byProperty = data("chart-by-property");
  if (byProperty) {
    var percent = function (key) {
      return byProperty.rows.map(function (r) { return r[key] === null ? null : Math.round(r[key] * 1000) / 10; });
    };
    new Chart(byProperty.el, {
      type: "bar",
      data: { labels: byProperty.rows.map(function (r) { return r.company; }),
              datasets: [{ label: "按时报到率 %", backgroundColor: PALETTE[4], data: percent("acknowledge_rate") },
                         { label: "按时办结率 %", backgroundColor: PALETTE[3], data: percent("on_time_rate") },
                         { label: "满意率 %", backgroundColor: RED, data: percent("satisfaction_rate") }] },
      options: Object.assign({ scales: { y: { beginAtZero: true, max: 100 } } }, FILL)
    });
  }

  var byChannel = data("chart-by-channel");
  if (byChannel) {
    new Chart(byChannel.el, {
      type: "doughnut",
      data: { labels: byChannel.rows.map(function (r) { return r.channel; }),
              datasets: [{ data: byChannel.rows.map(function (r) { return r.count; }), backgroundColor: PALETTE }] },
      options: Object.assign({ plugins: { legend: { position: "right" } } }, FILL)
    });
  }
})();
