// The exam page's script. Everything works without it; with it nothing on screen is lost:
// - every change of selection or flag is saved at once, in the background, through the same
//   form endpoint the buttons use (saves are idempotent), with a visible status that keeps
//   retrying with backoff while the network is away;
// - the countdown shows the time left, is announced politely at 10, 5 and 1 minutes, and at
//   zero first saves the selection on screen (the server keeps a grace window for it), then
//   submits the exam.
// The server enforces the deadline whether or not this runs.
(function () {
  var form = document.getElementById("answer-form");
  var status = document.getElementById("save-status");
  var submitForm = document.getElementById("submit-form");

  // ---- background saves --------------------------------------------------------------------
  var pending = null;      // the form data still to be saved (the newest wins)
  var inFlight = null;     // the promise of the save under way
  var delay = 1000;        // retry backoff, doubled up to 30 s
  var retryTimer = null;

  function show(text, state) {
    if (!status) return;
    status.textContent = text;
    status.setAttribute("data-state", state);
  }

  function snapshot() {
    var data = new URLSearchParams(new FormData(form));
    data.set("nav", "stay");
    data.delete("feedback_pending");
    return data;
  }

  function send() {
    if (inFlight || !pending) return inFlight || Promise.resolve(true);
    var body = pending;
    pending = null;
    show("Saving…", "saving");
    inFlight = fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "x-exambank-autosave": "1" },
    }).then(function (r) {
      inFlight = null;
      if (r.status === 204) {
        delay = 1000;
        if (pending) return send();
        show("Saved", "saved");
        return true;
      }
      if (r.status === 409) {
        // finalized (time ran out, or submitted elsewhere): the result page explains
        show("This exam has ended.", "ended");
        window.location.href = "/attempts/" + form.getAttribute("data-attempt") + "/result";
        return false;
      }
      throw new Error("status " + r.status);
    }).catch(function () {
      inFlight = null;
      if (!pending) pending = body;
      show("Offline: your answer is kept on this page and retried…", "offline");
      clearTimeout(retryTimer);
      retryTimer = setTimeout(send, delay);
      delay = Math.min(delay * 2, 30000);
      return false;
    });
    return inFlight;
  }

  function saveNow() {
    pending = snapshot();
    return send();
  }

  if (form) {
    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t && (t.name === "choice" || t.name === "flagged")) saveNow();
    });
    window.addEventListener("online", function () { if (pending) send(); });
  }

  // ---- countdown -----------------------------------------------------------------------------
  var el = document.getElementById("countdown");
  if (!el) return;
  var announcer = document.getElementById("time-announcer");
  var deadline = Date.parse(el.getAttribute("data-deadline"));
  var announced = {};
  var done = false;

  function finish() {
    // save what is on screen, then submit; give the save a few seconds at most
    var save = form ? saveNow() : Promise.resolve(true);
    var timeout = new Promise(function (resolve) { setTimeout(resolve, 4000); });
    Promise.race([save, timeout]).then(function () {
      if (submitForm) submitForm.submit();
    });
  }

  function tick() {
    // rounded up: zero means the deadline has passed, so the submit finds the attempt expired
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    if (left <= 60) el.className = "countdown urgent";
    [10, 5, 1].forEach(function (mins) {
      if (left <= mins * 60 && left > (mins * 60 - 30) && !announced[mins] && announcer) {
        announced[mins] = true;
        announcer.textContent = mins + (mins === 1 ? " minute" : " minutes") + " left.";
      }
    });
    if (left === 0 && !done) {
      done = true;
      finish();
    }
  }
  tick();
  setInterval(tick, 1000);
})();
