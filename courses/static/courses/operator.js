/* While today's invitations or reminders are still being sent, reload the participants page every
   few seconds so the operator sees the count grow (the element says how many are pending). */
(function () {
  "use strict";
  var progress = document.querySelector("[data-pending]");
  if (progress && parseInt(progress.dataset.pending, 10) > 0) {
    window.setTimeout(function () { window.location.reload(); }, 5000);
  }
})();
