"""The cohort progress report as a selector: states, filters, sorting and the summary, without a page."""

import pytest

from courses.selectors import cohort_progress_report, cohort_progress_selection, progress_state
from courses.services import lesson_complete, quiz_result_record
from tests.factories import CohortFactory, CourseFactory, EnrollmentFactory, LessonFactory, ModuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort():
    """Two modules of one lesson; Ani completed the course, Budi started, Citra did nothing."""
    course = CourseFactory()
    modules = [ModuleFactory(course=course, order=order) for order in (1, 2)]
    lessons = [LessonFactory(module=module) for module in modules]
    cohort = CohortFactory(course=course)
    people = {}
    for name, unit in (("Citra", "Dinkes"), ("Ani", "Bappeda"), ("Budi", "Dinkes")):
        people[name] = EnrollmentFactory(cohort=cohort, participant__full_name=name, participant__unit=unit)
    for lesson in lessons:
        lesson_complete(enrollment=people["Ani"], lesson=lesson)
    lesson_complete(enrollment=people["Budi"], lesson=lessons[0])
    quiz_result_record(enrollment=people["Budi"], module=modules[1], score_percent=40, passed=False)
    return cohort


def names(rows):
    return [item.enrollment.participant.full_name for item in rows]


def test_the_report_sorts_and_summarises_the_whole_cohort(cohort, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        report = cohort_progress_report(cohort=cohort)
    assert names(report.rows) == ["Ani", "Budi", "Citra"]
    assert [progress_state(item) for item in report.rows] == ["completed", "in_progress", "not_started"]
    assert [(row.module.order, row.completed, row.percent) for row in report.summary] == [(1, 2, 67), (2, 1, 33)]
    assert (report.total, report.courses_done, report.units) == (3, 1, ["Bappeda", "Dinkes"])
    assert names(cohort_progress_report(cohort=cohort, sort="-progress").rows) == ["Ani", "Budi", "Citra"]
    assert names(cohort_progress_report(cohort=cohort, sort="-name").rows) == ["Citra", "Budi", "Ani"]
    assert names(cohort_progress_report(cohort=cohort, sort="nonsense").rows) == ["Ani", "Budi", "Citra"]


def test_filters_keep_rows_but_not_the_summary(cohort):
    report = cohort_progress_report(cohort=cohort, unit="Dinkes", state="not_started")
    assert names(report.rows) == ["Citra"]
    assert (report.total, report.unit, report.state) == (3, "Dinkes", "not_started")
    assert cohort_progress_report(cohort=cohort, state="bogus").state == ""


def test_the_export_selection_is_the_reports_filter(cohort):
    enrollments, keep = cohort_progress_selection(cohort=cohort, unit="Dinkes", state="in_progress")
    report = cohort_progress_report(cohort=cohort, unit="Dinkes", state="in_progress")
    from courses.selectors import enrollments_progress

    assert names(item for item in enrollments_progress(enrollments) if keep(item)) == names(report.rows) == ["Budi"]
    assert cohort_progress_selection(cohort=cohort)[1] is None
