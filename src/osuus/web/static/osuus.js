// osuus: small enhancements; every page works without this file.
// The upload drop zone: a file dropped on it goes into its file field.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
    });
  });
  // The upload's progress: htmx reports it on the form; the bar is shown while a file is sent.
  document.body.addEventListener("htmx:xhr:progress", function (event) {
    var bar = event.target.querySelector ? event.target.querySelector("progress") : null;
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round(event.detail.loaded / event.detail.total * 100);
    }
  });
  // An error summary takes the focus, so that a screen reader says it at once.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
});
