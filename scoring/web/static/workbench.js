// The workbench's small script: progressive enhancement only (every form works without it).
// - the upload form says it is scoring while the file is scored;
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

  var upload = document.getElementById("upload-form");
  if (upload) {
    upload.addEventListener("submit", function () {
      var busy = upload.querySelector(".busy");
      busy.textContent = upload.getAttribute("data-busy");
      busy.hidden = false;
      upload.querySelector("button").disabled = true;
    });
  }

  var printer = document.querySelector("[data-print]");
  if (printer) {
    printer.hidden = false;
    printer.addEventListener("click", function () { window.print(); });
  }

  var form = document.getElementById("whatif-form");
  if (!form) { return; }
  var timer = null;
  var sent = 0;

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
    fetch(form.action, {
      method: "POST",
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

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(recompute, 200);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); recompute(); });
}());
