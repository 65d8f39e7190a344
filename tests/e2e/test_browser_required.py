"""Without Chromium the browser journeys skip on a developer's machine, but fail under CI (CI=true)."""

import sys

import pytest

from tests.e2e.conftest import import_playwright, in_ci, require_chromium


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_under_ci_a_missing_chromium_fails(monkeypatch, tmp_path, value):
    monkeypatch.setenv("CI", value)
    assert in_ci() is True
    with pytest.raises(pytest.fail.Exception) as failed:
        require_chromium(tmp_path / "chromium")
    assert str(failed.value) == (
        f"Chromium is not installed at {tmp_path / 'chromium'} (apt-get install chromium); "
        "CI is set, so the browser tests must run"
    )


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_outside_ci_a_missing_chromium_skips_with_its_message(monkeypatch, tmp_path, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is False
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_chromium(tmp_path / "chromium")
    assert str(skipped.value) == f"Chromium is not installed at {tmp_path / 'chromium'} (apt-get install chromium)"


def test_an_installed_chromium_passes_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("CI", "true")
    chromium = tmp_path / "chromium"
    chromium.touch()
    assert require_chromium(chromium) is None


def test_under_ci_a_missing_playwright_fails(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # makes the import raise ImportError
    with pytest.raises(pytest.fail.Exception, match="^Playwright for Python is not installed; CI is set"):
        import_playwright()
