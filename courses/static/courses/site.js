/* Behaviour every page shares, kept in this file so the Content-Security-Policy can forbid inline
   script and style: the language menu submits itself, a form marked "confirm-submit" asks before it
   is sent, and a bar takes its width from its data-percent attribute (the number is in the text too). */
(function () {
  "use strict";

  var language = document.getElementById("language-select");
  if (language) {
    language.addEventListener("change", function () { language.form.submit(); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("confirm-submit") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  function drawBars() {
    document.querySelectorAll("[data-percent]").forEach(function (bar) {
      var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.percent) || 0));
      bar.style.width = percent + "%";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawBars);
  } else {
    drawBars();
  }
})();
