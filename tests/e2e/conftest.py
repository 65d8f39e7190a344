"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against pytest-django's live server,
and the page check every journey runs (untranslated text in both languages, layout at phone width,
accessibility with axe-core)."""

import importlib
import os
import re
from pathlib import Path
from typing import NoReturn

import polib
import pytest
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# The machine has no network beyond localhost: keep Chromium from trying to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LANGUAGE_COOKIE = "django_language"
LANGUAGES = ("id", "en")
PASSWORD = "correct horse battery"  # tests.factories.UserFactory's

# Placeholders and markup inside catalogue entries: the text between them is what a page shows verbatim.
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|%[sd]|\{\{[^}]*\}\}|<[^>]+>")
_WORD = re.compile(r"[^\W\d_]+")
_EDGE = " \t\n.,:;·—–-“”\"‘’'()«»…"


def _fragments(text: str, min_words: int, other: str) -> set[str]:
    """Literal runs of ``text`` with at least ``min_words`` words that the other language's string lacks."""
    found = set()
    for part in _PLACEHOLDER.split(text):
        part = " ".join(part.split()).strip(_EDGE)
        if len(_WORD.findall(part)) >= min_words and part not in other:
            found.add(part)
    return found


def load_catalogue_phrases() -> dict[str, set[str]]:
    """Per language, the phrases that must not show on a page in the *other* language.

    English msgids of two words or more whose Indonesian differs must not appear on Indonesian pages;
    Indonesian msgstrs of three words or more must not appear on English pages.
    """
    english: set[str] = set()
    indonesian: set[str] = set()
    for path in sorted(ROOT.glob("*/locale/id/LC_MESSAGES/django.po")):
        for entry in polib.pofile(str(path)).translated_entries():
            sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
            targets = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
            if sources == targets[: len(sources)]:
                continue
            for source in sources:
                english |= _fragments(source, 2, " ".join(targets))
            for target in targets:
                indonesian |= _fragments(target, 3, " ".join(sources))
    return {"id": english, "en": indonesian}


@pytest.fixture(scope="session")
def catalogue_phrases() -> dict[str, set[str]]:
    return load_catalogue_phrases()


_LAYOUT_JS = r"""() => {
  const width = window.innerWidth;
  const overflowing = [];
  for (const el of document.body.querySelectorAll('*')) {
    // Tables scroll inside their .table-wrap; an absolutely placed element there may still escape it.
    if (el.closest('.table-wrap') && !['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      overflowing.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
                       + ' right=' + Math.round(box.right));
    }
  }
  const small = [];
  const controls = 'a.btn, button, select, textarea, input:not([type=hidden]):not([type=radio]):not([type=checkbox])';
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    if (el.offsetParent !== null && box.height && box.height < 40) {
      const label = (el.innerText || el.value || el.name || el.id || '').replace(/\s+/g, ' ').trim().slice(0, 30);
      small.push(el.tagName.toLowerCase() + ' "' + label + '" ' + Math.round(box.height) + 'px');
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          lang: document.documentElement.lang, overflowing: overflowing.slice(0, 10), small: small};
}"""


# WCAG 2.1 A and AA rules; axe-core ships inside axe-playwright-python (nothing is fetched at test time).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BLOCKING_IMPACTS = ("serious", "critical")


class Accessibility:
    """Runs axe-core on the page shown now and fails on any serious or critical WCAG 2.1 AA violation."""

    def __init__(self) -> None:
        try:
            from axe_playwright_python.sync_playwright import Axe
        except ImportError:
            browser_unavailable("axe-playwright-python is not installed")
        self._axe = Axe()

    def violations(self, page) -> list[dict]:
        results = self._axe.run(page, options=AXE_OPTIONS).response
        return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]

    def check(self, page, where: str) -> None:
        found = self.violations(page)
        report = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(" ".join(node["target"]) + " " + node["html"][:120] for node in v["nodes"][:5])
            for v in found
        ]
        assert not found, f"{where}: accessibility violations:\n" + "\n".join(report)


@pytest.fixture(scope="session")
def accessibility() -> Accessibility:
    """``accessibility.check(page, where)``: axe-core on the page, failing on serious or critical violations."""
    return Accessibility()


class SiteCheck:
    """Checks each page a journey visits, in Indonesian and English, and screenshots it.

    For every page: its ``<html lang>`` is the language asked for; its visible text holds no phrase of the
    other language's catalogue and no raw template syntax; the Content-Security-Policy has blocked nothing
    so far (``new_page`` records what Chromium's console reports); at 375 px the document does not scroll sideways
    (tables may scroll inside their ``.table-wrap``); axe-core finds no serious or critical WCAG 2.1 AA
    violation. Controls lower than 40 px are noted, not failed.
    """

    def __init__(
        self,
        *,
        journey: str,
        base_url: str,
        phrases: dict[str, set[str]],
        csp_violations: list[str] | None = None,
        accessibility: "Accessibility | None" = None,
    ):
        self.journey = journey
        self.base_url = base_url
        self.phrases = phrases
        self.csp_violations = csp_violations if csp_violations is not None else []
        self.accessibility = accessibility
        self.checked: list[str] = []
        self.notes: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def set_language(self, page, language: str) -> None:
        page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": self.base_url}])

    def screenshot(self, page, step: str) -> Path:
        path = SCREENSHOTS / f"{self.journey}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def page(self, page, step: str, *, redo=None, english_screenshot: bool = False) -> None:
        """Check the page shown now (Indonesian), then in English, then show it in Indonesian again for the
        journey to go on. The page is reloaded, or re-created by ``redo`` when it answers a POST."""
        self._check(page, step, "id")
        self.screenshot(page, step)
        self.set_language(page, "en")
        try:
            redo() if redo else page.reload()
            self._check(page, step, "en")
            if english_screenshot:
                self.screenshot(page, f"{step}-en")
        finally:
            self.set_language(page, "id")
        redo() if redo else page.reload()

    def _check(self, page, step: str, language: str) -> None:
        page.wait_for_load_state("load")
        where = f"{self.journey}/{step} [{language}] {page.url}"
        text = " ".join(page.inner_text("body").split())
        leaked = sorted(phrase for phrase in self.phrases[language] if phrase in text)
        assert not leaked, f"{where}: text of the other language shows: {leaked}"
        raw = [token for token in ("{{", "{%", "%(", "}}") if token in text]
        assert not raw, f"{where}: raw template syntax in the page: {raw}"
        assert_no_csp_violation(self.csp_violations, where)
        if self.accessibility is not None:
            self.accessibility.check(page, where)

        viewport = page.viewport_size
        if viewport["width"] != PHONE["width"]:
            page.set_viewport_size(PHONE)
        try:
            layout = page.evaluate(_LAYOUT_JS)
        finally:
            if viewport["width"] != PHONE["width"]:
                page.set_viewport_size(viewport)
        assert layout["lang"] == language, f"{where}: the page is in {layout['lang']!r}, not {language!r}"
        assert layout["scrollWidth"] <= layout["innerWidth"], (
            f"{where}: the document is {layout['scrollWidth']} px wide at {layout['innerWidth']} px; "
            f"too wide: {layout['overflowing']}"
        )
        if layout["small"]:
            self.notes.append(f"{where}: controls under 40 px at 375 px: {', '.join(layout['small'])}")
        path = page.url.removeprefix(self.base_url)
        self.checked.append(f"{self.journey}/{step} [{language}] {path}")

    def write_report(self) -> None:
        report = ROOT / "test-artifacts" / f"pages-{self.journey}.txt"
        report.write_text("\n".join(self.checked + [""] + self.notes) + "\n", encoding="utf-8")


def log_in(page, username: str) -> None:
    """Sign in on the site's login page as ``username`` (with the factories' password)."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form").get_by_role("button").click()
    page.wait_for_load_state("load")


def answers_tick(page, *, right: bool) -> None:
    """Tick the answers on the attempt page (all right, or all wrong), not submitting them.

    The answer key comes from the database: the page shows choices only (by id, in a shuffled order)."""
    from assessments.models import Question, QuestionKind

    fieldsets = page.locator("fieldset[data-question]")
    import_playwright().expect(fieldsets.first).to_be_visible()
    for fieldset in fieldsets.all():
        question = Question.objects.prefetch_related("choices").get(pk=int(fieldset.get_attribute("data-question")))
        correct = [c.pk for c in question.choices.all() if c.is_correct]
        wrong = [c.pk for c in question.choices.all() if not c.is_correct]
        # Wrong: one wrong choice or, where every choice is right, only the first of them.
        chosen = correct if right else (wrong[:1] or correct[:1])
        assert chosen, question
        for choice_id in chosen:
            fieldset.locator(f'input[value="{choice_id}"]').check()
        if question.kind != QuestionKind.MULTIPLE:
            assert fieldset.locator("input:checked").count() == 1


def in_ci() -> bool:
    """The CI runner sets CI=true: there a missing browser is a broken machine, not a reason to skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def browser_unavailable(reason: str) -> NoReturn:
    """Fail under CI (a skipped journey would let the run pass green without a browser); skip elsewhere."""
    if in_ci():
        pytest.fail(f"{reason}; CI is set, so the browser tests must run", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_chromium(path: Path = CHROMIUM) -> None:
    if not path.exists():
        browser_unavailable(f"Chromium is not installed at {path} (apt-get install chromium)")


def import_playwright():
    """Playwright's sync API; skips (fails under CI) when Playwright for Python is not installed."""
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        browser_unavailable("Playwright for Python is not installed")


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium, headless. Skips when it or Playwright is missing, except under CI: there it fails."""
    require_chromium()
    sync_api = import_playwright()
    # Playwright's sync API keeps an asyncio loop marked running on this thread, which would make Django
    # refuse the test's own ORM calls; the live server answers from its own thread, unaffected.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # With that loop running, Django kept this test's database connection apart from the thread's usual
        # one (asgiref's Local acts as a context variable): close it, or dropping the test database fails.
        connections.close_all()


CSP_VIOLATION = "Content Security Policy"


@pytest.fixture
def csp_violations() -> list[str]:
    """What Chromium's console reported as blocked by the Content-Security-Policy, in any page of the test."""
    return []


def assert_no_csp_violation(violations: list[str], where: str) -> None:
    assert not violations, f"{where}: the Content-Security-Policy blocked something: {violations}"


@pytest.fixture
def new_page(browser, live_server, request, csp_violations):
    """Opens a page in a fresh context (its own cookies) on the live server; Indonesian like the users.

    Any Content-Security-Policy violation Chromium reports in the console fails the test."""
    contexts = []
    for stale in SCREENSHOTS.glob(f"FAILED-{request.node.name}-*.png"):
        stale.unlink()

    def record(message) -> None:
        if CSP_VIOLATION in message.text:
            csp_violations.append(f"{message.location.get('url', '?')}: {message.text}")

    def open_page(viewport: dict = PHONE):
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, locale="id-ID", accept_downloads=True
        )
        context.set_default_timeout(15_000)
        context.on("console", record)
        contexts.append(context)
        return context.new_page()

    yield open_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, context in enumerate(contexts):
        if failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for number, page in enumerate(context.pages):
                page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{index}-{number}.png"))
        context.close()
    assert_no_csp_violation(csp_violations, request.node.name)


@pytest.fixture
def site_check(live_server, catalogue_phrases, request, csp_violations, accessibility):
    journey = request.node.name.removeprefix("test_").split("_")[0]
    check = SiteCheck(
        journey=journey,
        base_url=live_server.url,
        phrases=catalogue_phrases,
        csp_violations=csp_violations,
        accessibility=accessibility,
    )
    yield check
    check.write_report()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
