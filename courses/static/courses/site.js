/* Behaviour every page shares, kept in this file so the Content-Security-Policy can forbid inline
   script and style: the language menu submits itself, a form marked "confirm-submit" asks before it
   is sent, a bar takes its width from its data-percent attribute (the number is in the text too), and a
   table that scrolls sideways in its card (on a phone) can be focused and scrolled with the keyboard. */
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
  function markScrollingTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
      }
    });
  }
  function ready() {
    drawBars();
    markScrollingTables();
  }
  window.addEventListener("resize", markScrollingTables);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
