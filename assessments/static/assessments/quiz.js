/* Quiz page: count down from the server's time left, save each answer as it is chosen, confirm before submitting.
   Without JavaScript the form still works: "Save answers" and "Submit answers" post it normally. */
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var statusLine = document.getElementById("quiz-save-status");
  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var saveUrl = form.dataset.saveUrl;
  var submitting = false;
  var pending = {};
  var retryTimer = null;

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("error", !!isError);
  }

  function answerOf(fieldset) {
    var choices = [];
    fieldset.querySelectorAll("input:checked").forEach(function (input) { choices.push(parseInt(input.value, 10)); });
    return { question: parseInt(fieldset.dataset.question, 10), choices: choices };
  }

  function flush() {
    retryTimer = null;
    var answers = Object.keys(pending).map(function (key) { return pending[key]; });
    if (!answers.length || submitting) { return; }
    pending = {};
    setStatus(form.dataset.saving, false);
    fetch(saveUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfInput.value },
      body: JSON.stringify({ answers: answers })
    }).then(function (response) {
      if (response.status === 409) { window.location.assign(form.dataset.resultUrl); return; }
      if (!response.ok) { throw new Error(String(response.status)); }
      if (!Object.keys(pending).length) { setStatus(form.dataset.saved, false); }
    }).catch(function () {
      // Keep the unsaved answers (newer choices win) and try again shortly.
      answers.forEach(function (answer) { if (!pending[answer.question]) { pending[answer.question] = answer; } });
      setStatus(form.dataset.saveFailed, true);
      if (!retryTimer) { retryTimer = window.setTimeout(flush, 5000); }
    });
  }

  if (saveUrl && window.fetch) {
    form.addEventListener("change", function (event) {
      var fieldset = event.target.closest("[data-question]");
      if (!fieldset) { return; }
      var answer = answerOf(fieldset);
      pending[answer.question] = answer;
      if (retryTimer) { window.clearTimeout(retryTimer); }
      retryTimer = window.setTimeout(flush, 300);
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
    if (submitter && submitter.value === "submit" && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    submitting = true;
  });

  var timer = document.getElementById("quiz-timer");
  if (timer) {
    var value = document.getElementById("quiz-timer-value");
    // The server says how many seconds are left, so a wrong phone clock does not matter.
    var deadline = Date.now() + parseInt(timer.dataset.remainingSeconds, 10) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      value.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      timer.classList.toggle("low", left <= 60);
      if (left === 0) {
        window.clearInterval(interval);
        if (!submitting) { setStatus(form.dataset.timeUp, false); submitNow(); }
      }
    };
    var interval = window.setInterval(tick, 1000);
    tick();
  }
})();
