// Starts ReDoc on /api/v1/redoc/ (a file, not an inline script, for the Content-Security-Policy).
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  if (!container || !window.Redoc) { return; }
  window.Redoc.init(container.dataset.specUrl, { nonce: container.dataset.nonce }, container);
})();
