/* Quiz page: count down from the server's time left, save each answer as it is chosen (and keep trying
   through a lost connection), confirm before submitting.
   Without JavaScript the form still works: "Save answers" and "Submit answers" post it normally. */
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var statusLine = document.getElementById("quiz-save-status");
  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var saveUrl = form.dataset.saveUrl;
  var submitting = false;
  var saving = false;
  var pending = {};
  var retryTimer = null;
  var retryDelay = 2000;  // doubles after each failure, up to 30 s; back to 2 s after a success
  var MAX_RETRY_DELAY = 30000;

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", !!isError);
  }

  function offline() { return navigator.onLine === false; }

  function answerOf(fieldset) {
    var choices = [];
    fieldset.querySelectorAll("input:checked").forEach(function (input) { choices.push(parseInt(input.value, 10)); });
    return { question: parseInt(fieldset.dataset.question, 10), choices: choices };
  }

  function schedule(delay) {
    if (retryTimer) { window.clearTimeout(retryTimer); }
    retryTimer = window.setTimeout(flush, delay);
  }

  function flush() {
    retryTimer = null;
    var answers = Object.keys(pending).map(function (key) { return pending[key]; });
    if (!answers.length || submitting || saving) { return; }
    if (offline()) {
      // Nothing can reach the server: say so, keep the answers, and save on the "online" event.
      setStatus(form.dataset.offline, true);
      return;
    }
    pending = {};
    saving = true;
    setStatus(form.dataset.saving, false);
    fetch(saveUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfInput.value },
      body: JSON.stringify({ answers: answers })
    }).then(function (response) {
      saving = false;
      if (response.status === 409) { window.location.assign(form.dataset.resultUrl); return; }
      if (!response.ok) { throw new Error(String(response.status)); }
      retryDelay = 2000;
      if (Object.keys(pending).length) { schedule(0); } else { setStatus(form.dataset.saved, false); }
    }).catch(function () {
      saving = false;
      // Keep the unsaved answers (newer choices win) and try again, less often the longer it fails.
      answers.forEach(function (answer) { if (!pending[answer.question]) { pending[answer.question] = answer; } });
      setStatus(offline() ? form.dataset.offline : form.dataset.saveFailed, true);
      schedule(retryDelay);
      retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY);
    });
  }

  if (saveUrl && window.fetch) {
    form.addEventListener("change", function (event) {
      var fieldset = event.target.closest("[data-question]");
      if (!fieldset) { return; }
      var answer = answerOf(fieldset);
      pending[answer.question] = answer;
      schedule(300);
    });
    window.addEventListener("offline", function () { setStatus(form.dataset.offline, true); });
    window.addEventListener("online", function () {
      retryDelay = 2000;
      if (Object.keys(pending).length) { schedule(0); } else { setStatus(form.dataset.saved, false); }
    });
  }

  function submitNow() {
    // Programmatic submit skips the confirmation; the hidden field says "submit" like the button would.
    submitting = true;
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "submit";
    form.appendChild(action);
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitting) { return; }
    if (offline()) {
      // The post would fail and show the browser's error page; the answers stay here instead.
      event.preventDefault();
      setStatus(form.dataset.offlineSubmit, true);
      return;
    }
    if (submitter && submitter.value === "submit" && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    submitting = true;
  });

  var timer = document.getElementById("quiz-timer");
  if (timer) {
    var value = document.getElementById("quiz-timer-value");
    var alertLine = document.getElementById("quiz-timer-alert");
    // The server says how many seconds are left, so a wrong phone clock does not matter.
    var deadline = Date.now() + parseInt(timer.dataset.remainingSeconds, 10) * 1000;
    var initial = Math.round((deadline - Date.now()) / 1000);
    // Screen readers hear the time left twice, at 5 minutes and at 1 minute, not every second.
    var thresholds = [{ at: 300, text: alertLine.dataset.five }, { at: 60, text: alertLine.dataset.one }]
      .filter(function (threshold) { return initial > threshold.at; });
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      value.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      timer.classList.toggle("low", left <= 60);
      while (thresholds.length && left <= thresholds[0].at) {
        alertLine.textContent = thresholds.shift().text;
      }
      if (left === 0) {
        window.clearInterval(interval);
        if (!submitting) { setStatus(form.dataset.timeUp, false); submitNow(); }
      }
    };
    var interval = window.setInterval(tick, 1000);
    tick();
  }
})();
