// The exam countdown: the only script of the pages. It shows the time left and, at zero,
// submits the exam. The server enforces the deadline whether or not this runs.
(function () {
  var el = document.getElementById("countdown");
  if (!el) return;
  var deadline = Date.parse(el.getAttribute("data-deadline"));
  var form = document.getElementById("submit-form");
  var done = false;
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    if (left <= 60) el.className = "countdown urgent";
    if (left === 0 && !done && form) {
      done = true;
      form.submit();
    }
  }
  tick();
  setInterval(tick, 1000);
})();
