"""``ids_in``: the same rows as ``__in``, as one array parameter on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.id_lists import ids_in
from courses.models import Course

pytestmark = pytest.mark.django_db


@pytest.fixture
def courses():
    return [Course.objects.create(slug=f"c{n}", title=f"Course {n}") for n in range(5)]


def test_it_filters_the_same_rows_as_in(courses):
    wanted = [courses[0].pk, courses[3].pk, courses[4].pk, 10**9]

    assert sorted(Course.objects.filter(ids_in("id", wanted)).values_list("pk", flat=True)) == sorted(
        Course.objects.filter(id__in=wanted).values_list("pk", flat=True)
    )
    assert Course.objects.filter(ids_in("id", wanted)).count() == 3


def test_no_ids_is_no_rows(courses):
    assert not Course.objects.filter(ids_in("id", [])).exists()


def test_it_combines_with_other_conditions_and_negation(courses):
    wanted = [courses[0].pk, courses[1].pk]

    assert list(Course.objects.filter(ids_in("id", wanted), slug="c1").values_list("slug", flat=True)) == ["c1"]
    assert sorted(Course.objects.exclude(ids_in("id", wanted)).values_list("slug", flat=True)) == ["c2", "c3", "c4"]


def test_ids_given_as_text_are_taken_as_integers(courses):
    assert Course.objects.filter(ids_in("id", [str(courses[2].pk)])).get() == courses[2]


def test_thousands_of_ids_are_one_parameter_on_postgresql(courses):
    wanted = [courses[1].pk, *range(10**8, 10**8 + 5000)]
    with CaptureQueriesContext(connection) as captured:
        assert list(Course.objects.filter(ids_in("id", wanted)).values_list("slug", flat=True)) == ["c1"]
    sql = captured.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql
