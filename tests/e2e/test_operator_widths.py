"""The operator's cohort pages on a 390 px phone and a 1280 px desktop: nothing makes the page scroll
sideways, tables scroll inside their card with the name column kept in view, no column spills out of
its card, and the revoke form's reason field and button can be used on a phone."""

import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from certificates.models import Certificate
from courses.models import Course
from courses.services import lesson_complete, quiz_result_record
from tests.e2e.conftest import DESKTOP, SCREENSHOTS, import_playwright, log_in
from tests.e2e.test_browser import submit_action_plan
from tests.factories import CohortFactory, EnrollmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

playwright = import_playwright()
expect = playwright.expect

PHONE_390 = {"width": 390, "height": 844}
WIDTHS = {"phone": PHONE_390, "desktop": DESKTOP}

# Per page: how wide the document is, every element sticking out of the viewport, and every card whose
# content (a table's columns included) is wider than the card itself.
_MEASURE_JS = r"""() => {
  const width = window.innerWidth;
  const outside = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-wrap') && !['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1) outside.push(el.tagName.toLowerCase() + '.' + el.className);
  }
  const spilling = [];
  for (const card of document.querySelectorAll('.card')) {
    const cardBox = card.getBoundingClientRect();
    for (const cell of card.querySelectorAll('th, td, input, button, .btn')) {
      const box = cell.getBoundingClientRect();
      if (box.width && box.right > cardBox.right + 1) {
        spilling.push(cell.tagName.toLowerCase() + ' "' + (cell.innerText || cell.name || '').trim().slice(0, 20)
                      + '" right=' + Math.round(box.right) + ' card=' + Math.round(cardBox.right));
      }
    }
    if (card.scrollWidth > card.clientWidth + 1) spilling.push('card scrolls: ' + card.className);
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          outside: outside.slice(0, 10), spilling: spilling.slice(0, 10)};
}"""


@pytest.fixture
def cohort_with_certificate(db):
    call_command("loadcurriculum", stdout=io.StringIO())
    gcio = Course.objects.get(slug="gcio")
    cohort = CohortFactory(course=gcio, name="Angkatan III 2026 Kepala Perangkat Daerah Kalimantan Timur")
    done = EnrollmentFactory(
        cohort=cohort,
        participant__full_name="Dr. Hj. Sri Wahyuni Kusumaningrum, S.Kom., M.T.I.",
        participant__unit="Dinas Komunikasi, Informatika, Statistik dan Persandian Provinsi Kalimantan Timur",
        participant__position="Kepala Dinas Komunikasi, Informatika, Statistik dan Persandian",
    )
    for n in range(3):
        EnrollmentFactory(
            cohort=cohort,
            participant__full_name=f"Muhammad Rizky Ramadhan Saputra Nomor {n}",
            participant__unit="Badan Perencanaan Pembangunan, Riset dan Inovasi Daerah",
        )
    for module in gcio.modules.order_by("order"):
        for lesson in module.lessons.all():
            lesson_complete(enrollment=done, lesson=lesson)
        quiz_result_record(enrollment=done, module=module, score_percent=90, passed=True)
    submit_action_plan(done)  # the course's last step: then the certificate is issued
    return cohort, Certificate.objects.get(enrollment=done)


def check_widths(page, where: str) -> None:
    measured = page.evaluate(_MEASURE_JS)
    assert measured["scrollWidth"] <= measured["innerWidth"], (
        f"{where}: the page is {measured['scrollWidth']} px wide at {measured['innerWidth']} px: {measured['outside']}"
    )
    if page.viewport_size["width"] >= DESKTOP["width"]:
        assert not measured["spilling"], f"{where}: content spills out of its card: {measured['spilling']}"


def name_column_stays_in_view(page, table: str, where: str) -> None:
    """Scrolled sideways, the name column's cell is still where the table's card starts."""
    wrap = page.locator(f"{table}").first.locator("xpath=ancestor::div[contains(@class,'table-wrap')][1]")
    overflow = wrap.evaluate("w => w.scrollWidth - w.clientWidth")
    if page.viewport_size["width"] < 760:
        assert overflow > 0, f"{where}: expected the table to scroll sideways on a phone"
    if overflow <= 0:
        return  # the whole table fits: nothing to keep in view
    name_cell = page.locator(f"{table} tbody tr").first.locator(".col-name")
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    left = name_cell.evaluate(
        "c => c.getBoundingClientRect().left - c.closest('.table-wrap').getBoundingClientRect().left"
    )
    assert -1 <= left <= 24, f"{where}: the name column scrolled out of view ({left} px)"
    expect(name_cell).to_be_visible()
    wrap.evaluate("w => { w.scrollLeft = 0; }")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_operator_cohort_pages_fit_the_screen(
    live_server, new_page, operator, cohort_with_certificate, accessibility, width
):
    cohort, certificate = cohort_with_certificate
    page = new_page(WIDTHS[width])
    log_in(page, operator.username)
    pages = {
        "cohorts": "/operator/cohorts/",
        "cohort": f"/operator/cohorts/{cohort.pk}/",
        "import": f"/operator/cohorts/{cohort.pk}/import/",
        "progress": f"/operator/cohorts/{cohort.pk}/progress/",
        "certificates": f"/operator/cohorts/{cohort.pk}/certificates/",
    }
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_load_state("load")
        where = f"{name} at {page.viewport_size['width']} px"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / f"operator-widths-{name}-{page.viewport_size['width']}.png"), full_page=True
        )
        check_widths(page, where)
        accessibility.check(page, where)
    for name, table in (("cohort", "main table"), ("progress", "table.progress-table")):
        page.goto(pages[name])
        name_column_stays_in_view(page, table, f"{name} at {page.viewport_size['width']} px")

    # The export buttons: the workbook and the CSV as an operator opens them.
    page.goto(pages["progress"])
    with page.expect_download() as download_info:
        page.locator('a[href^="?format=xlsx"]').click()
    sheet = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["NIP", "Nama", "Unit kerja (OPD)", "Progres (%)"] and sheet.freeze_panes == "A2"
    done = next(row for row in sheet.iter_rows(min_row=2) if row[1].value.startswith("Dr. Hj."))
    assert (done[0].data_type, done[0].number_format, len(done[0].value)) == ("s", "@", 18)
    completed_at = done[header.index("Selesai pada")]
    assert isinstance(completed_at.value, datetime.datetime), completed_at.value
    with page.expect_download() as download_info:
        page.locator('a[href^="?format=csv"]').click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:4] == header[:4] and len(table) == 5

    # The revoke form: the reason field and the button are on screen and work, without scrolling sideways.
    page.goto(pages["certificates"])
    row = page.locator("table tbody tr", has_text=certificate.number)
    reason_field = row.locator("input[name=reason]")
    button = row.get_by_role("button", name="Cabut")
    for control in (reason_field, button):
        control.scroll_into_view_if_needed()
        expect(control).to_be_visible()
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], (width, box)
        assert box["height"] >= 40, (width, box)
    assert page.evaluate(
        "() => document.querySelector('.table-wrap') && "
        "[...document.querySelectorAll('.table-wrap')].every(w => w.scrollLeft === 0)"
    )
    reason = "Diterbitkan untuk peserta yang salah"
    reason_field.fill(reason)
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(page.locator(".messages")).to_contain_text(re.compile(r"telah dicabut"))
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revoked_reason) == ("revoked", reason)
    check_widths(page, f"certificates after revoking at {page.viewport_size['width']} px")
