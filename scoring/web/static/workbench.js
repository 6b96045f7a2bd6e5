// The workbench's small script: progressive enhancement only (every form works without it).
// - the upload is sent by XMLHttpRequest: a bar of the bytes sent, then "scoring…" (an
//   indeterminate bar) until the batch page opens; a refusal shows the server's page;
// - other forms with data-busy (the plan) say they are working once sent;
// - the what-if panel recomputes as a value changes (POST, JSON, the session cookie and the
//   CSRF token in a header) and shows the new score;
// - the profile's print button.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf");
  var fa = body.getAttribute("data-lang") === "fa";
  var persian = "۰۱۲۳۴۵۶۷۸۹";

  function show(value, digits) {
    if (value === null || value === undefined) { return "—"; }
    var text = Number(value).toFixed(digits);
    if (!fa) { return text; }
    return text.replace(/[0-9]/g, function (d) { return persian[+d]; }).replace(".", "٫");
  }

  function size(bytes) {
    var mb = bytes / 1048576;
    return mb >= 1 ? show(mb, 1) + " MB" : show(bytes / 1024, 0) + " KB";
  }

  var upload = document.getElementById("upload-form");
  if (upload && window.FormData && window.XMLHttpRequest) {
    upload.addEventListener("submit", function (event) {
      var file = upload.querySelector("input[type=file]").files[0];
      if (!file) { return; }
      event.preventDefault();
      var box = document.getElementById("upload-progress");
      var bar = document.getElementById("upload-bar");
      var status = document.getElementById("upload-status");
      var percent = fa ? "٪" : "%";
      box.hidden = false;
      bar.value = 0;
      upload.setAttribute("data-state", "uploading");
      upload.setAttribute("aria-busy", "true");
      upload.querySelector("button").disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var done = Math.round(100 * e.loaded / e.total);
        bar.value = done;
        status.textContent = upload.getAttribute("data-uploading") + " " + show(done, 0) +
          percent + " · " + size(file.size);
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value");  // indeterminate: the server is scoring
        status.textContent = upload.getAttribute("data-scoring");
        upload.setAttribute("data-state", "scoring");
      });
      xhr.addEventListener("load", function () {
        // The server answers 303 to the batch page, which the request has followed.
        if (xhr.status === 200 && xhr.responseURL && !/\/upload$/.test(xhr.responseURL)) {
          upload.setAttribute("data-state", "done");
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);  // the refusal, as the plain form would show it
        document.close();
      });
      xhr.addEventListener("error", function () { upload.submit(); });
      xhr.send(new FormData(upload));
    });
  }

  document.querySelectorAll("form[data-busy]:not(#upload-form)").forEach(function (busyForm) {
    busyForm.addEventListener("submit", function () {
      var busy = busyForm.querySelector(".busy");
      busy.textContent = busyForm.getAttribute("data-busy");
      busy.hidden = false;
      busyForm.querySelector("button[type=submit]").disabled = true;
    });
  });

  var printer = document.querySelector("[data-print]");
  if (printer) {
    printer.hidden = false;
    printer.addEventListener("click", function () { window.print(); });
  }

  var form = document.getElementById("whatif-form");
  if (!form) { return; }
  var sent = 0;
  var inflight = null;

  function changes() {
    var out = {};
    form.querySelectorAll("input[type=number], select").forEach(function (el) {
      var raw = el.value.trim();
      if (raw === "") { return; }
      if (el.tagName === "SELECT") { out[el.name] = raw === "yes"; return; }
      var n = Number(raw);
      if (!isFinite(n)) { return; }
      out[el.name] = el.name === "defect_rate" ? n / 100 : n;
    });
    return out;
  }

  function recompute() {
    var wanted = changes();
    if (Object.keys(wanted).length === 0) { return; }
    var ticket = ++sent;
    form.setAttribute("aria-busy", "true");
    if (inflight && window.AbortController) { inflight.abort(); }
    inflight = window.AbortController ? new AbortController() : null;
    fetch(form.action, {
      method: "POST",
      signal: inflight ? inflight.signal : undefined,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ changes: wanted })
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (ticket !== sent) { return; }  // a newer request is on its way
      form.removeAttribute("aria-busy");
      if (!answer.after) { return; }
      document.getElementById("whatif-before").textContent = show(answer.before.readiness_score, 1);
      var after = document.getElementById("whatif-after");
      after.textContent = show(answer.after.readiness_score, 1);
      after.setAttribute("data-value", answer.after.readiness_score);
      var tier = document.getElementById("whatif-tier");
      tier.textContent = answer.after.readiness_tier;
      tier.className = "tier tier-" + answer.after.readiness_tier;
      document.getElementById("whatif-uplift").textContent = show(answer.uplift.readiness_score, 1);
    }).catch(function () { form.removeAttribute("aria-busy"); });
  }

  // Each change is sent at once (a round trip is a few milliseconds); a newer one aborts it.
  form.addEventListener("input", recompute);
  form.addEventListener("submit", function (event) { event.preventDefault(); recompute(); });
}());
