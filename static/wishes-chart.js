// The 双报到 page's chart: claims and fulfilled wishes per partner unit, from the canvas's
// data-chart attribute (the CSP forbids inline script).
(function () {
  var el = document.getElementById("chart-per-unit");
  if (!window.Chart || !el) return;
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }
  var rows = JSON.parse(el.getAttribute("data-chart") || "[]");
  new Chart(el, {
    type: "bar",
    data: {
      labels: rows.map(function (r) { return r.name; }),
      datasets: [
        { label: "认领", backgroundColor: "#ef6c00", data: rows.map(function (r) { return r.claims; }) },
        { label: "完成", backgroundColor: "#c62828", data: rows.map(function (r) { return r.fulfilled; }) }
      ]
    },
    options: { responsive: true, maintainAspectRatio: false,
               scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
