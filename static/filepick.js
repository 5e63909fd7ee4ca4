// The file pickers of templates/console/_file_pick.html: once a file is chosen the Chinese button
// says so ("已选好 2 张照片", "已选：台账.xlsx"). A static file: the pages' CSP allows no inline script.
(function () {
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".file-pick input[type=file]")) return;
    var pick = input.closest(".file-pick"), chosen = pick.querySelector(".chosen");
    var files = Array.prototype.slice.call(input.files || []);
    pick.classList.toggle("has-file", files.length > 0);
    if (!files.length) { chosen.textContent = ""; return; }
    chosen.textContent = input.getAttribute("data-what") === "照片"
      ? "已选好 " + files.length + " 张照片，可点此重选"
      : "已选：" + files.map(function (f) { return f.name; }).join("、");
  });
})();
