"""The cycle collector held back during an import, and as it was afterwards."""

import gc
import io

import pytest

from courses import enrollment_file
from courses.gc_pause import gc_paused
from courses.services import enrollment_import
from tests.courses.enrollment_files import csv_bytes, person
from tests.factories import CohortFactory


@pytest.fixture
def collector_as_it_was():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_the_block_runs_without_the_collector_and_it_is_back_on_after(collector_as_it_was):
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off and leaves it off
    assert gc.isenabled()


def test_an_error_in_the_block_switches_the_collector_back_on(collector_as_it_was):
    gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off(collector_as_it_was):
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.django_db
def test_an_import_reads_its_file_with_the_collector_off(collector_as_it_was, monkeypatch):
    gc.enable()
    seen = []
    read = enrollment_file.read_enrollment_file

    def reading(*args, **kwargs):
        seen.append(gc.isenabled())
        return read(*args, **kwargs)

    monkeypatch.setattr("courses.services.enrollment.read_enrollment_file", reading)
    result = enrollment_import(cohort=CohortFactory(), upload=io.BytesIO(csv_bytes([person(1)])), name="p.csv")
    assert (result.created, seen, gc.isenabled()) == (1, [False], True)
