// 月度考核: the units' 响应率, 解决率 and 满意率 side by side, from the canvas's data attributes
// (no inline script: the CSP forbids it); Chart.js from this site's /vendor/, as on the dashboard.
(function () {
  var el = document.getElementById("chart-assessment");
  if (!window.Chart || !el) return;
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    Chart.defaults.animation = false;
  }
  function series(name) {
    return JSON.parse(el.getAttribute(name) || "[]").map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; });
  }
  new Chart(el, {
    type: "bar",
    data: {
      labels: JSON.parse(el.getAttribute("data-chart") || "[]"),
      datasets: [
        { label: "响应率", backgroundColor: "#c62828", data: series("data-response") },
        { label: "解决率", backgroundColor: "#ef6c00", data: series("data-solve") },
        { label: "满意率", backgroundColor: "#2e7d32", data: series("data-satisfaction") }
      ]
    },
    options: { responsive: true, maintainAspectRatio: false,
               scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } } }
  });
})();
