"""An operator's correction on the participant page re-issues the participant's certificate."""

import pytest
from django.urls import reverse

from certificates import tasks
from certificates.models import Certificate, CertificateStatus
from courses.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_name_corrected_on_the_operators_page_re_issues_the_certificate_once(
    client, operator, issued, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.certificate_correct_task, "delay", lambda *args: tasks.certificate_correct_task(*args))
    monkeypatch.setattr(tasks.status_list_publish_task, "delay", lambda *args: None)
    client.force_login(operator)
    url = reverse("courses:operator-participant", args=[issued.enrollment_id])
    form = {
        "full_name": "Siti Rahmawati, S.Kom., M.Si., M.T.",
        "position": issued.holder_position,
        "unit": issued.holder_unit,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302, response.content[:500]

    old, new = Certificate.objects.filter(enrollment_id=issued.enrollment_id).order_by("issued_at", "pk")
    assert (old.pk, old.status) == (issued.pk, CertificateStatus.REVOKED)
    assert old.revoked_reason.startswith(f"diganti oleh {new.number}")
    assert (new.status, new.holder_name, new.replaces_id) == (
        CertificateStatus.VALID,
        "Siti Rahmawati, S.Kom., M.Si., M.T.",
        old.pk,
    )
    assert new.sha256 and new.number != old.number
    assert AuditEntry.objects.filter(action="correction", enrollment_id=issued.enrollment_id).count() == 1

    # The same correction again changes nothing and issues nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, form)
    assert Certificate.objects.filter(enrollment_id=issued.enrollment_id).count() == 2
