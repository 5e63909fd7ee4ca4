// The registry import's progress, polled once a second; the finished page replaces this one.
(function () {
  var box = document.getElementById("registry-job");
  if (!box) return;
  var bar = document.getElementById("registry-progress");
  var text = document.getElementById("registry-progress-text");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (!s || s.state === "done" || s.state === "failed") {
        window.location.replace(box.dataset.pageUrl);
        return;
      }
      bar.max = s.total || 1;
      bar.value = s.done;
      text.textContent = "已处理 " + s.done + " / " + (s.total || "…") + " 行";
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
