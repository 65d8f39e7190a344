"""Every HTML page carries the Content-Security-Policy, and none holds inline script, event handlers or styles
that the policy would block (so nobody adds one back without a test failing)."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from assessments.services import attempt_start, attempt_submit
from certificates.codes import code_display
from certificates.models import Certificate, CertificateArchive
from tests.certificates.conftest import complete
from tests.factories import CohortFactory, EnrollmentFactory, UserFactory, course_with_modules

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}


def policy_of(header: str) -> dict[str, set[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' blocks: inline scripts and styles, event handlers,
    style attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._inline: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style" or (tag == "script" and not dict(attrs).get("src")):
            self._inline = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._inline:
            self._inline = None

    def handle_data(self, data: str) -> None:
        if self._inline and data.strip():
            self.found.append(f"<{self._inline}>{data.strip()[:60]}…")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_html_check_finds_what_the_policy_blocks():
    html = (
        '<script>alert(1)</script><script src="/static/x.js"></script><script src="/static/y.js">  </script>'
        '<select onchange="this.form.submit()"></select><span style="width: 5%"></span>'
        '<a href="javascript:void(0)">x</a><style>p { color: red }</style><p data-on="x" class="onward">ok</p>'
    )
    assert inline_code(html) == [
        "<script>alert(1)…",
        "<select onchange='this.form.submit()'>",
        "<span style='width: 5%'>",
        "<a href='javascript:void(0)'>",
        "<style>p { color: red }…",
    ]


@pytest.fixture
def site(django_capture_on_commit_callbacks) -> dict:
    """A course with a certificate holder, a learner with a graded and an open attempt, an operator, an admin."""
    cache.clear()  # the verification throttle counts in the cache
    course = course_with_modules(
        questions=1, quiz={"max_attempts": 5, "time_limit_minutes": 30}, slug="gcio-csp", certificate_prefix="GCIO-CSP"
    )
    modules = list(course.modules.order_by("order"))
    cohort = CohortFactory(course=course)
    holder = EnrollmentFactory(cohort=cohort)
    with django_capture_on_commit_callbacks(execute=True):
        complete(holder)
    certificate = Certificate.objects.get(enrollment=holder)
    learner = EnrollmentFactory(cohort=cohort, participant__unit="Bappeda")
    quiz = modules[0].quiz
    graded = attempt_start(user=learner.participant.user, quiz=quiz).attempt
    attempt_submit(attempt=graded, answers=[])
    open_attempt = attempt_start(user=learner.participant.user, quiz=quiz).attempt
    operator = UserFactory(username="operator-csp")
    operator.groups.add(Group.objects.get(name="operators"))
    CertificateArchive.objects.create(cohort=cohort, requested_by=operator, total=1, done=0)
    return {
        "users": {
            "holder": holder.participant.user,
            "learner": learner.participant.user,
            "operator": operator,
            "admin": UserFactory(username="admin-csp", is_staff=True, is_superuser=True),
        },
        "course": course.slug,
        "cohort": cohort.pk,
        "enrollment": learner.pk,
        "lesson": modules[0].lessons.get().pk,
        "locked_lesson": modules[1].lessons.get().pk,
        "quiz": quiz.pk,
        "attempt": open_attempt.pk,
        "graded": graded.pk,
        "code": code_display(certificate.code),
        "certificate": certificate.pk,
    }


# (who, path, expected status): every kind of HTML page the platform serves, the admin's included.
PAGES = {
    "home": (None, "/", 200),
    "course": (None, "/courses/{course}/", 200),
    "login": (None, "/accounts/login/", 200),
    "password-reset": (None, "/accounts/password-reset/", 200),
    "password-reset-sent": (None, "/accounts/password-reset/sent/", 200),
    "password-set-invalid-link": (None, "/accounts/reset/MQ/abc-def/", 200),
    "password-set-done": (None, "/accounts/password-set/", 200),
    "dashboard": ("learner", "/dashboard/", 200),
    "dashboard-completed": ("holder", "/dashboard/", 200),
    "enrollment": ("learner", "/learn/{enrollment}/", 200),
    "lesson": ("learner", "/lessons/{lesson}/", 200),
    "lesson-locked": ("learner", "/lessons/{locked_lesson}/", 403),
    "quiz": ("learner", "/quizzes/{quiz}/", 200),
    "attempt": ("learner", "/attempts/{attempt}/", 200),
    "result": ("learner", "/attempts/{graded}/result/", 200),
    "certificate": ("holder", "/certificates/{code}/", 200),
    "verify-form": (None, "/verify/", 200),
    "verify-form-error": (None, "/verify/?code=not-a-code", 400),
    "verify-valid": (None, "/verify/{code}/", 200),
    "verify-unknown": (None, "/verify/0000-0000-0000/", 404),
    "operator-cohorts": ("operator", "/operator/cohorts/", 200),
    "operator-cohort": ("operator", "/operator/cohorts/{cohort}/", 200),
    "operator-import": ("operator", "/operator/cohorts/{cohort}/import/", 200),
    "operator-progress": ("operator", "/operator/cohorts/{cohort}/progress/", 200),
    "operator-certificates": ("operator", "/operator/cohorts/{cohort}/certificates/", 200),
    "not-found": (None, "/tidak-ada/", 404),
    "forbidden": ("learner", "/operator/cohorts/", 403),
    "api-docs": (None, "/api/v1/docs/", 200),
    "admin-login": (None, "/admin/login/", 200),
    "admin-index": ("admin", "/admin/", 200),
    "admin-certificates": ("admin", "/admin/certificates/certificate/", 200),
    "admin-certificate": ("admin", "/admin/certificates/certificate/{certificate}/change/", 200),
    "admin-user": ("admin", "/admin/auth/user/add/", 200),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_has_the_policy_and_no_inline_code(client, site, page):
    who, path, expected = PAGES[page]
    if who:
        client.force_login(site["users"][who])
    response = client.get(path.format(**site))
    assert response.status_code == expected
    assert response["Content-Type"].startswith("text/html")
    assert policy_of(response["Content-Security-Policy"]) == POLICY
    assert inline_code(response.content.decode()) == []


def test_the_admins_revoke_step_has_the_policy_and_no_inline_code(client, site):
    client.force_login(site["users"]["admin"])
    response = client.post(
        "/admin/certificates/certificate/", {"action": "revoke_selected", "_selected_action": [site["certificate"]]}
    )
    assert response.status_code == 200
    assert "certificates/admin_revoke.html" in [t.name for t in response.templates]
    assert policy_of(response["Content-Security-Policy"]) == POLICY
    assert inline_code(response.content.decode()) == []


def test_bars_take_their_width_from_a_data_attribute(client, site):
    """The widths that were inline styles: site.js sets them from data-percent (CSSOM, which CSP allows)."""
    client.force_login(site["users"]["holder"])
    assert 'data-percent="100"' in client.get("/dashboard/").content.decode()
    client.force_login(site["users"]["operator"])
    progress = client.get(f"/operator/cohorts/{site['cohort']}/progress/").content.decode()
    assert progress.count('<span class="bar"><span data-percent="50"></span></span>') == 2  # 1 of 2 completed each
    archive = client.get(f"/operator/cohorts/{site['cohort']}/certificates/").content.decode()
    assert '<span id="archive-bar" data-percent="0"></span>' in archive


def test_api_and_file_responses_carry_the_policy_too(client, site):
    client.force_login(site["users"]["holder"])
    for path in ("/api/v1/me/certificates/", f"/api/v1/certificates/{site['code']}/pdf/", "/livez"):
        assert policy_of(client.get(path)["Content-Security-Policy"]) == POLICY, path
