"""The OpenAPI schema declares what the API answers: every error status, its body and headers, the request shapes."""

import inspect
import re

import jsonschema
import pytest
from django.urls import resolve
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from courses.api.errors import DomainErrorsMixin
from courses.api.renderers import FileRenderersMixin
from courses.api.schema import AppAutoSchema
from tests.factories import (
    CohortFactory,
    EnrollmentFactory,
    LessonFactory,
    ModuleFactory,
    ParticipantProfileFactory,
    QuizFactory,
)

pytestmark = pytest.mark.django_db

# Path parameters that name nothing: every operation is reached, none finds its object.
PLACEHOLDERS = {"id": "999999", "code": "0000-0000-0000", "slug": "nope"}


@pytest.fixture(scope="module")
def doc(django_db_blocker):
    with django_db_blocker.unblock():
        return APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def operations(doc):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS[m.group(1)], path)


def _resolved(schema, doc):
    """``schema`` with its ``$ref``s inlined and OpenAPI 3.0's ``nullable`` spelled as JSON Schema's null type."""
    if isinstance(schema, list):
        return [_resolved(item, doc) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _resolved(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], doc)
    result = {key: _resolved(value, doc) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        result = {"anyOf": [result, {"type": "null"}]}
    return result


def check_declared(doc, path: str, method: str, response) -> None:
    """The response's status, media type, body and headers are the ones the schema declares for it."""
    where = f"{method.upper()} {path} → {response.status_code}"
    declared = doc["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{where}: not declared (declared: {sorted(declared)})"
    content = declared[status].get("content")
    if not content:
        assert not response.content, f"{where}: a body the schema does not declare: {response.content[:200]}"
        return
    media_type = response["Content-Type"].split(";")[0].strip()
    assert media_type in content, f"{where}: {media_type} not declared ({sorted(content)})"
    if media_type == "application/json":
        schema = _resolved(content[media_type]["schema"], doc)
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(response.json())]
        assert not errors, f"{where}: body {response.json()} does not fit the schema: {errors}"
    for header in declared[status].get("headers", {}):
        if header == "WWW-Authenticate":  # DRF always sends its challenge with a 401
            assert response.has_header(header), f"{where}: no {header}"


@pytest.fixture
def clients():
    participant = ParticipantProfileFactory()
    EnrollmentFactory(participant=participant, cohort=CohortFactory())
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    operator = UserFactory(username="operator-schema")
    operator.groups.add(Group.objects.get(name="operators"))
    result = {"anonymous": APIClient(), "invalid token": APIClient(HTTP_AUTHORIZATION="Token not-a-token")}
    for name, user in (("participant", participant.user), ("operator", operator)):
        result[name] = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return result


def _requests(path: str, method: str, operation: dict):
    """Requests that each end in an error: as they are, with an Accept nothing serves, an unknown ``?format=``,
    a NUL in the query string, and for a body: an empty one, one that is not JSON, one of a type not read."""
    url = concrete(path)
    yield "plain", url, {}
    yield "accept", url, {"HTTP_ACCEPT": "text/html"}
    yield "format", f"{url}?format=nope", {}
    yield "nul", f"{url}?q=%00", {}
    if "requestBody" in operation:
        yield "empty body", url, {"data": "{}", "content_type": "application/json"}
        yield "not json", url, {"data": "{", "content_type": "application/json"}
        yield "unread type", url, {"data": "x", "content_type": "text/plain"}


def test_every_error_the_api_gives_is_declared_with_the_body_it_has(doc, clients):
    checked = set()
    for path, method, operation in operations(doc):
        for client in clients.values():
            for _, url, extra in _requests(path, method, operation):
                response = getattr(client, method)(url, **extra)
                check_declared(doc, path, method, response)
                checked.add(response.status_code)
    assert {400, 401, 403, 404, 406, 415} <= checked


def test_every_operation_that_authenticates_declares_401_with_its_challenge(doc):
    for path, method, operation in operations(doc):
        if path.startswith("/api/v1/verify/"):  # public and unauthenticated: no credentials are read
            assert "401" not in operation["responses"]
            continue
        response = operation["responses"].get("401")
        assert response is not None, f"{method.upper()} {path}: 401 not declared"
        assert "WWW-Authenticate" in response["headers"]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_every_operation_limited_to_a_role_declares_403(doc):
    from courses.permissions import IsOperator, IsParticipant

    limited = 0
    for path, method, operation in operations(doc):
        view = resolve(concrete(path)).func.cls
        if any(issubclass(p, (IsOperator, IsParticipant)) for p in view.permission_classes):
            limited += 1
            assert "403" in operation["responses"], f"{method.upper()} {path}: 403 not declared"
    assert limited == 20  # fifteen operator operations, five participant ones


def test_every_operation_declares_400_404_and_406_and_a_body_415(doc):
    for path, method, operation in operations(doc):
        responses = operation["responses"]
        assert {"400", "404", "406"} <= set(responses), f"{method.upper()} {path}: {sorted(responses)}"
        assert ("415" in responses) == ("requestBody" in operation), f"{method.upper()} {path}"


def test_error_bodies_carry_a_code(clients, doc):
    lesson = LessonFactory()
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    cases = [
        (clients["anonymous"].get("/api/v1/courses/", **english), 401, "not_authenticated"),
        (clients["invalid token"].get("/api/v1/courses/", **english), 401, "authentication_failed"),
        (clients["participant"].get("/api/v1/cohorts/", **english), 403, "permission_denied"),
        (clients["participant"].get("/api/v1/lessons/999999/", **english), 404, "not_found"),
        (clients["operator"].get("/api/v1/lessons/999999/?format=nope", **english), 404, "not_found"),
        (clients["participant"].get(f"/api/v1/lessons/{lesson.pk}/", **english), 403, "not_enrolled"),
        (clients["participant"].get("/api/v1/courses/", HTTP_ACCEPT="text/html", **english), 406, "not_acceptable"),
        (clients["operator"].post("/api/v1/cohorts/", "x", content_type="text/plain", **english), 415, None),
        (clients["operator"].post("/api/v1/cohorts/", "{", content_type="application/json", **english), 400, None),
    ]
    for response, status, code in cases:
        body = response.json()
        assert response.status_code == status, body
        assert set(body) == {"detail", "code"}, body
        assert code is None or body["code"] == code, body
    assert cases[0][0]["WWW-Authenticate"] == "Token"
    assert cases[7][0].json()["code"] == "unsupported_media_type"
    assert cases[8][0].json()["code"] == "parse_error"


def test_validation_errors_keep_drfs_field_shape_and_are_declared(doc, clients):
    response = clients["operator"].post("/api/v1/cohorts/", {"name": "A", "course": "nope"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"course", "starts_on", "ends_on"}
    check_declared(doc, "/api/v1/cohorts/", "post", response)
    schema = doc["components"]["schemas"]["CohortValidationError"]
    assert set(schema["properties"]) == {"name", "course", "starts_on", "ends_on", "non_field_errors"}


def test_the_token_endpoint_declares_its_400_for_wrong_credentials(doc):
    participant = ParticipantProfileFactory()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": participant.nip, "password": "wrong"}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"non_field_errors"}
    check_declared(doc, "/api/v1/auth/token/", "post", response)
    declared = doc["paths"]["/api/v1/auth/token/"]["post"]["responses"]["400"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/AuthTokenValidationError"} in declared["schema"]["oneOf"]
    # Anyone may ask for a token: the schema does not demand credentials for it.
    assert {} in doc["paths"]["/api/v1/auth/token/"]["post"]["security"]


def test_the_verification_throttle_is_declared(doc, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"verify": "1/minute"}}
    client = APIClient()
    client.get("/api/v1/verify/0000-0000-0000/")
    response = client.get("/api/v1/verify/0000-0000-0000/")
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    check_declared(doc, "/api/v1/verify/{code}/", "get", response)
    assert "Retry-After" in doc["paths"]["/api/v1/verify/{code}/"]["get"]["responses"]["429"]["headers"]


def test_a_url_the_api_does_not_match_answers_a_json_404():
    response = APIClient().get("/api/v1/lessons/not-a-number/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    # Pages keep Django's HTML 404.
    assert APIClient().get("/no-such-page/")["Content-Type"].startswith("text/html")


def _request_schema(doc, path: str, method: str) -> dict:
    content = doc["paths"][path][method]["requestBody"]["content"]
    return _resolved(content["application/json"]["schema"], doc)


def test_what_the_schema_lets_through_the_server_accepts_blank_for_blank(doc, clients):
    token = _request_schema(doc, "/api/v1/auth/token/", "post")
    cohort = _request_schema(doc, "/api/v1/cohorts/", "post")
    for blank in ("", " ", "\t\u3000\x1c"):
        # DRF strips whitespace (Python's, \x1c included) and refuses the blank rest; so does the schema.
        body = {"username": blank, "password": "x"}
        assert not jsonschema.Draft7Validator(token).is_valid(body), repr(blank)
        response = APIClient().post("/api/v1/auth/token/", body, format="json")
        assert response.status_code == 400 and "username" in response.json()
        body = {"name": blank, "course": "gcio", "starts_on": "2026-01-05", "ends_on": "2026-02-05"}
        assert not jsonschema.Draft7Validator(cohort).is_valid(body), repr(blank)
    assert jsonschema.Draft7Validator(token).is_valid({"username": " x ", "password": " "})
    revoke = _request_schema(doc, "/api/v1/certificates/{code}/revoke/", "post")
    assert not jsonschema.Draft7Validator(revoke).is_valid({"reason": "  "})
    assert jsonschema.Draft7Validator(revoke).is_valid({"reason": "Salah nama"})


def test_the_enrollment_file_is_an_upload_and_answers_are_json_only(doc):
    from assessments.services import attempt_start

    enrollment = EnrollmentFactory()
    quiz = QuizFactory(module=ModuleFactory(course=enrollment.cohort.course, order=1))
    attempt = attempt_start(user=enrollment.participant.user, quiz=quiz).attempt
    client = APIClient()
    client.force_authenticate(enrollment.participant.user)
    upload = doc["paths"]["/api/v1/cohorts/{id}/enrollments/import/"]["post"]["requestBody"]["content"]
    schema = _resolved(upload["multipart/form-data"]["schema"], doc)
    assert schema["properties"]["file"]["format"] == "binary"
    for path, method in (("/api/v1/attempts/{id}/answers/", "put"), ("/api/v1/attempts/{id}/submit/", "post")):
        assert set(doc["paths"][path][method]["requestBody"]["content"]) == {"application/json"}
        # A form cannot carry the nested answers: refused, not read as no answers at all.
        url = path.replace("{id}", str(attempt.pk))
        response = getattr(client, method)(url, "answers=1", content_type=FORM)
        assert response.status_code == 415, response.content
    attempt.refresh_from_db()
    assert attempt.status == "in_progress" and not attempt.answers.exists()


FORM = "application/x-www-form-urlencoded"


def test_an_empty_format_is_declared_where_formats_are(doc, clients):
    cohort = CohortFactory()
    response = clients["operator"].get(f"/api/v1/cohorts/{cohort.pk}/progress/?format=")
    assert response.status_code == 200 and response.json() == []
    (parameter,) = [
        p for p in doc["paths"]["/api/v1/cohorts/{id}/progress/"]["get"]["parameters"] if p["name"] == "format"
    ]
    assert "" in parameter["schema"]["enum"]


def test_descriptions_are_the_operations_own(doc):
    mixin_docs = [inspect.getdoc(cls).split("\n")[0] for cls in (DomainErrorsMixin, FileRenderersMixin)]
    for path, method, operation in operations(doc):
        for text in mixin_docs:
            assert text not in operation.get("description", ""), f"{method.upper()} {path}"


def test_every_api_view_of_the_apps_renders_and_declares_errors_the_same_way(doc):
    """Whatever schema class a host configures by default, the apps' views declare their errors."""
    for path, _method, _operation in operations(doc):
        view = resolve(concrete(path)).func.cls
        assert issubclass(view, DomainErrorsMixin), view
        assert isinstance(inspect.getattr_static(view, "schema"), AppAutoSchema), view
