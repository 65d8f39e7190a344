"""Using certificates: holder list and PDF, public verification and its throttle, revoke, re-issue, ZIP, admin."""

import io
import zipfile

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certificates.codes import code_display
from certificates.models import Certificate, CertificateArchive
from certificates.throttles import VerifyThrottle
from tests.factories import CohortFactory, EnrollmentFactory, ParticipantProfileFactory

from .conftest import complete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle_cache():
    cache.clear()
    yield
    cache.clear()


class Clock:
    """The throttle's clock, set by the test: a window boundary never falls inside a test by chance."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0 + 5  # 5 s into a one-minute window

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def throttle_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(VerifyThrottle, "timer", staticmethod(clock))
    return clock


@pytest.fixture
def certificate(completed):
    return Certificate.objects.get(enrollment=completed)


def code_of(certificate):
    return code_display(certificate.code)


def issue(capture_on_commit, *, cohort, **enrollment_fields) -> Certificate:
    """Complete a new enrolment in ``cohort`` and let the (eager) task issue its certificate."""
    enrollment = EnrollmentFactory(cohort=cohort, **enrollment_fields)
    with capture_on_commit(execute=True):
        complete(enrollment)
    return Certificate.objects.get(enrollment=enrollment)


def test_holder_lists_their_certificates(api_client, certificate, settings):
    api_client.force_authenticate(certificate.enrollment.participant.user)
    (item,) = api_client.get("/api/v1/me/certificates/").json()
    code = code_of(certificate)
    assert item["number"] == certificate.number
    assert item["code"] == code
    assert item["course"] == {"slug": certificate.enrollment.cohort.course.slug, "title": "Pelatihan GCIO"}
    assert item["status"] == "valid"
    assert item["pdf_url"] == f"http://testserver/api/v1/certificates/{code}/pdf/"
    assert item["verify_url"] == f"{settings.SITE_URL}/verify/{code}/"


@pytest.mark.parametrize("who, expected", [("anonymous", 404), ("stranger", 404), ("holder", 200), ("operator", 200)])
def test_pdf_download_permissions(api_client, certificate, operator, who, expected):
    user = {
        "anonymous": None,
        "stranger": ParticipantProfileFactory().user,
        "holder": certificate.enrollment.participant.user,
        "operator": operator,
    }[who]
    if user:
        api_client.force_authenticate(user)
    response = api_client.get(f"/api/v1/certificates/{code_of(certificate).lower()}/pdf/")
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == certificate.pdf.read()
    else:
        # An outsider, signed in or not, learns nothing: the same 404 as for a code that does not exist.
        unknown = api_client.get("/api/v1/certificates/0000-0000-0000/pdf/")
        assert (response.status_code, response.json()) == (unknown.status_code, unknown.json())


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    "accept", ["application/pdf", "*/*", None, "application/pdf, application/json;q=0.5", BROWSER_ACCEPT]
)
def test_pdf_download_honours_the_accept_header(api_client, certificate, accept):
    api_client.force_authenticate(certificate.enrollment.participant.user)
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api_client.get(f"/api/v1/certificates/{code_of(certificate)}/pdf/", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == certificate.pdf.read()


def test_pdf_refusals_stay_json_when_a_pdf_is_asked_for(api_client, certificate):
    response = api_client.get("/api/v1/certificates/0000-0000-0000/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail", "code"} and response.json()["code"] == "not_found"
    Certificate.objects.filter(pk=certificate.pk).update(sha256="")
    api_client.force_authenticate(certificate.enrollment.participant.user)
    pending = api_client.get(
        f"/api/v1/certificates/{code_of(certificate)}/pdf/", HTTP_ACCEPT="application/pdf", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert (pending.status_code, pending["Content-Type"]) == (409, "application/json")
    assert pending.json() == {"detail": "The PDF is being prepared; try again in a few seconds.", "code": "pdf_pending"}


def test_pdf_download_while_the_pdf_is_pending_is_409(api_client, certificate):
    Certificate.objects.filter(pk=certificate.pk).update(sha256="")
    api_client.force_authenticate(certificate.enrollment.participant.user)
    response = api_client.get(f"/api/v1/certificates/{code_of(certificate)}/pdf/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The PDF is being prepared; try again in a few seconds.",
        "code": "pdf_pending",
    }


def test_pdf_download_responses_are_in_the_openapi_schema(api_client):
    schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    responses = schema["paths"]["/api/v1/certificates/{code}/pdf/"]["get"]["responses"]
    # Besides the errors every operation declares (400, 406), an invalid token gets 401.
    assert set(responses) == {"200", "400", "401", "404", "406", "409"}
    assert set(responses["200"]["content"]) == {"application/pdf"}
    pending = responses["409"]["content"]["application/json"]["schema"]
    assert pending["properties"]["code"] == {"type": "string", "enum": ["pdf_pending"]}
    assert set(pending["required"]) == {"detail", "code"}


def my_certificates_queries(api_client, user) -> tuple[int, int]:
    """The queries and the number of certificates listed for ``user``."""
    api_client.force_authenticate(user)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/me/certificates/")
    assert response.status_code == 200
    return len(queries), len(response.json())


# Measured: the participant-profile check and one query for the certificates with their course.
MY_CERTIFICATES_MAX_QUERIES = 2


def test_my_certificates_costs_a_fixed_number_of_queries(
    api_client, course, certificate, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    one = certificate.enrollment.participant
    many = ParticipantProfileFactory()
    for _ in range(5):  # one certificate per enrolment: five cohorts of the course
        issue(django_capture_on_commit_callbacks, cohort=CohortFactory(course=course), participant=many)
    small_queries, small_listed = my_certificates_queries(api_client, one.user)
    large_queries, large_listed = my_certificates_queries(api_client, many.user)
    assert (small_listed, large_listed) == (1, 5)
    assert small_queries == large_queries
    for holder in (one, many):
        api_client.force_authenticate(holder.user)
        with django_assert_max_num_queries(MY_CERTIFICATES_MAX_QUERIES):
            assert api_client.get("/api/v1/me/certificates/").status_code == 200


def test_verify_reports_a_valid_certificate_without_the_full_nip(api_client, certificate):
    for typed in (code_of(certificate), code_of(certificate).lower(), certificate.code):
        response = api_client.get(f"/api/v1/verify/{typed}/")
        assert response.status_code == 200
        body = response.json()
        assert body["valid"] is True and body["status"] == "valid"
        assert body["number"] == certificate.number
        assert body["holder_name"] == "Siti Rahmawati"
        assert body["course"] == "Pelatihan GCIO" and body["cohort"] == "Angkatan I 2026"
        assert body["issued_at"]
        assert "198503302010011002" not in response.content.decode()


def test_verify_unknown_code_is_404(api_client):
    for code in ("0000-0000-0000", "not-a-code"):
        response = api_client.get(f"/api/v1/verify/{code}/")
        assert response.status_code == 404
        assert response.json() == {"valid": False, "status": "not_found"}


@pytest.mark.parametrize("who, expected", [("anonymous", 401), ("holder", 403), ("operator", 200)])
def test_revoke_permissions(api_client, certificate, operator, who, expected):
    user = {"anonymous": None, "holder": certificate.enrollment.participant.user, "operator": operator}[who]
    if user:
        api_client.force_authenticate(user)
    response = api_client.post(
        f"/api/v1/certificates/{code_of(certificate)}/revoke/", {"reason": "Data salah"}, format="json"
    )
    assert response.status_code == expected
    certificate.refresh_from_db()
    assert certificate.status == ("revoked" if expected == 200 else "valid")


def test_revoked_certificate_verifies_as_revoked_with_reason(api_client, certificate, operator):
    api_client.force_authenticate(operator)
    response = api_client.post(
        f"/api/v1/certificates/{code_of(certificate)}/revoke/", {"reason": "Diterbitkan keliru"}, format="json"
    )
    assert response.status_code == 200
    assert (
        api_client.post(
            f"/api/v1/certificates/{code_of(certificate)}/revoke/", {"reason": "lagi"}, format="json"
        ).json()["code"]
        == "already_revoked"
    )
    assert (
        api_client.post(
            f"/api/v1/certificates/{code_of(certificate)}/revoke/", {"reason": " "}, format="json"
        ).status_code
        == 400
    )
    api_client.force_authenticate(None)
    body = api_client.get(f"/api/v1/verify/{code_of(certificate)}/").json()
    assert body["valid"] is False and body["status"] == "revoked"
    assert body["reason"] == "Diterbitkan keliru" and body["revoked_at"]


def test_reissue_after_revocation_gives_a_new_number_and_code(api_client, certificate, operator):
    api_client.force_authenticate(operator)
    conflict = api_client.post(f"/api/v1/certificates/{code_of(certificate)}/reissue/")
    assert conflict.status_code == 409 and conflict.json()["code"] == "still_valid"
    api_client.post(f"/api/v1/certificates/{code_of(certificate)}/revoke/", {"reason": "Nama salah"}, format="json")
    response = api_client.post(f"/api/v1/certificates/{code_of(certificate)}/reissue/")
    assert response.status_code == 201
    new = Certificate.objects.exclude(pk=certificate.pk).get()
    assert response.json()["number"] == new.number != certificate.number
    assert new.code != certificate.code and new.status == "valid"
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    assert api_client.get(f"/api/v1/verify/{code_of(certificate)}/").json()["status"] == "revoked"
    assert api_client.get(f"/api/v1/verify/{code_of(new)}/").json()["status"] == "valid"


def test_verification_is_rate_limited_per_client(api_client, certificate, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "3/minute"}}
    statuses = [api_client.get(f"/api/v1/verify/{code_of(certificate)}/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = api_client.get(f"/api/v1/verify/{code_of(certificate)}/", REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200  # another client has its own allowance
    page = [api_client.get(f"/verify/{code_of(certificate)}/", REMOTE_ADDR="10.9.9.9").status_code for _ in range(4)]
    assert page == [200, 200, 200, 429]


def test_the_limit_is_a_window_that_opens_again(api_client, certificate, settings, throttle_clock):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "2/minute"}}
    url = f"/api/v1/verify/{code_of(certificate)}/"
    assert [api_client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    throttled = api_client.get(url)
    assert throttled.status_code == 429 and throttled["Retry-After"] == "55"  # the window ends in 55 s
    throttle_clock.now += 55
    assert [api_client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(api_client, certificate, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "3/minute"}}
    statuses = [
        api_client.get(f"/api/v1/verify/{code_of(certificate)}/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_the_client_is_the_address_it_appends(api_client, certificate, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"verify": "2/minute"},
        "NUM_PROXIES": 1,
    }
    url = f"/api/v1/verify/{code_of(certificate)}/"
    # What the client wrote comes first; the proxy appends the address it saw.
    first = [api_client.get(url, HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.7").status_code for n in range(3)]
    assert first == [200, 200, 429]
    assert api_client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_verify_page_in_both_languages(client, certificate, operator):
    url = f"/verify/{code_of(certificate).lower()}/"
    html = client.get(url).content.decode()
    assert "Sertifikat sah" in html and "Siti Rahmawati" in html and "198503302010011002" not in html
    assert "19850330********02" in html
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Valid certificate" in english
    client.force_login(operator)
    client.post(f"/operator/certificates/{code_of(certificate)}/revoke/", {"reason": "Keliru"})
    client.logout()
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Revoked certificate" in html and "Keliru" in html
    missing = client.get("/verify/0000-0000-0000/")
    assert missing.status_code == 404


def test_the_verify_form_takes_a_typed_code_or_the_pasted_link(client, certificate, settings):
    display = code_of(certificate)
    for typed in (display.lower(), display.replace("-", " "), f"{settings.SITE_URL}/verify/{display}/"):
        response = client.get("/verify/", {"code": typed})
        assert (response.status_code, response["Location"]) == (302, f"/verify/{display}/")
    for typed in ("abcd", "https://example.org/verify/", "0000-0000-0000-0000"):
        response = client.get("/verify/", {"code": typed}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "is not a verification code" in response.content.decode()


def test_holder_page_and_dashboard_link(client, certificate):
    client.force_login(certificate.enrollment.participant.user)
    dashboard = client.get("/dashboard/").content.decode()
    assert f"/certificates/{code_of(certificate)}/" in dashboard and certificate.number in dashboard
    page = client.get(f"/certificates/{code_of(certificate)}/")
    assert page.status_code == 200 and certificate.number in page.content.decode()
    client.force_login(ParticipantProfileFactory().user)
    assert client.get(f"/certificates/{code_of(certificate)}/").status_code == 404


def test_cohort_zip_is_built_by_a_task_with_progress(
    api_client, client, certificate, operator, django_capture_on_commit_callbacks
):
    cohort = certificate.enrollment.cohort
    api_client.force_authenticate(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/cohorts/{cohort.pk}/certificates/archive/")
    assert response.status_code == 202
    archive = CertificateArchive.objects.get()
    status = api_client.get(f"/api/v1/certificate-archives/{archive.pk}/").json()
    assert status["status"] == "ready" and status["done"] == status["total"] == 1
    client.force_login(operator)
    download = client.get(status["download_url"])
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    (name,) = bundle.namelist()
    assert name.endswith("_198503302010011002.pdf")
    assert bundle.read(name) == certificate.pdf.read()
    page = client.get(f"/operator/cohorts/{cohort.pk}/certificates/").content.decode()
    assert certificate.number in page and "1 / 1" in page


def test_archive_endpoints_are_for_operators(api_client, certificate):
    api_client.force_authenticate(certificate.enrollment.participant.user)
    assert (
        api_client.post(f"/api/v1/cohorts/{certificate.enrollment.cohort_id}/certificates/archive/").status_code == 403
    )
    assert not CertificateArchive.objects.exists()


def test_admin_search_by_number_code_and_nip_lists_only_the_match(
    client, admin_user, certificate, django_capture_on_commit_callbacks
):
    cohort = certificate.enrollment.cohort
    others = [
        issue(
            django_capture_on_commit_callbacks,
            cohort=cohort,
            participant__full_name=name,
            participant__nip=nip,
        )
        for name, nip in (("Budi Santoso", "199001152015031003"), ("Dewi Lestari", "198811222012122001"))
    ]
    certificates = [certificate, *others]
    assert len({c.number for c in certificates}) == len({c.code for c in certificates}) == 3
    client.force_login(admin_user)

    def found(term: str) -> list[int]:
        response = client.get("/admin/certificates/certificate/", {"q": term})
        assert response.status_code == 200
        return [c.pk for c in response.context["cl"].result_list]

    assert sorted(found("")) == sorted(c.pk for c in certificates)
    for wanted in certificates:
        display = code_of(wanted)
        misread = display.replace("0", "O").replace("1", "l")  # Crockford: O reads as 0, l as 1
        spellings = (display, display.lower(), wanted.code, display.replace("-", " ").lower(), misread)
        for term in (wanted.number, *spellings, wanted.holder_nip):
            assert found(term) == [wanted.pk], term


def test_admin_revoke_action_and_read_only_hash(client, admin_user, certificate):
    client.force_login(admin_user)
    detail = client.get(f"/admin/certificates/certificate/{certificate.pk}/change/").content.decode()
    assert certificate.sha256 in detail
    response = client.post(
        "/admin/certificates/certificate/",
        {"action": "revoke_selected", "_selected_action": [certificate.pk], "apply": "1", "reason": "Admin: salah"},
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "revoked" and certificate.revoked_reason == "Admin: salah"
