// The dashboard's chart, drawn from the counts table beside it (no inline script: the CSP forbids it).
(function () {
  var canvas = document.getElementById("by-state");
  var table = document.getElementById("state-counts");
  if (!canvas || !table || !window.Chart) return;
  var labels = Array.prototype.map.call(table.querySelectorAll("th"), function (th) { return th.textContent; });
  var counts = Array.prototype.map.call(table.querySelectorAll("td"), function (td) { return Number(td.textContent); });
  new Chart(canvas, {
    type: "bar",
    data: { labels: labels, datasets: [{ label: "诉求数", backgroundColor: "#c62828", data: counts }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
