// Countdowns on the worker's phone pages: every [data-due] (an ISO time) shows how long is left
// ("还剩 1小时20分") or that it is past ("已超时 25分"), refreshed each 20 seconds. A static file,
// not an inline script: the pages' CSP allows scripts from this site only.
(function () {
  function span(ms) {
    var minutes = Math.floor(ms / 60000), days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) return days + "天" + hours + "小时";
    if (hours) return hours + "小时" + mins + "分";
    return mins + "分";
  }
  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("[data-due]"), function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left > 0 ? "还剩 " + span(left) : "已超时 " + span(-left);
      el.classList.toggle("late", left <= 0);
      el.classList.toggle("soon", left > 0 && left < 3600000);
    });
  }
  tick();
  setInterval(tick, 20000);
})();
