// Polls the archive's status while it is being built and shows the progress.
(function () {
  var box = document.getElementById("archive");
  if (!box || !box.dataset.statusUrl) return;
  var bar = document.getElementById("archive-bar");
  var count = document.getElementById("archive-count");
  var label = document.getElementById("archive-status");
  var link = document.getElementById("archive-download");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (a) {
        var pct = a.total ? Math.round((a.done * 100) / a.total) : (a.status === "ready" ? 100 : 0);
        bar.style.width = pct + "%";
        count.textContent = a.done + " / " + a.total;
        label.firstChild.textContent = (a.status === "ready" ? label.dataset.ready : a.status === "failed" ? label.dataset.failed : label.dataset.building) + " ";
        if (a.download_url) { link.href = a.download_url; link.hidden = false; }
        if (a.status === "pending" || a.status === "running") setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
