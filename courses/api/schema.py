"""The apps' OpenAPI schema class: every operation declares the errors the API can really answer it with."""

import inspect

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer
from drf_spectacular.settings import spectacular_settings
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.settings import api_settings

from .serializers import ErrorSerializer

# What DRF's CharField strips before its blank check (``str.strip()``), so a non-blank field needs one
# character outside it. Spelled out: ECMA's ``\s`` (the schema's regex dialect) is a different set.
_PY_WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
NOT_BLANK_PATTERN = "[^" + "".join(f"\\u{ord(ch):04x}" for ch in _PY_WHITESPACE) + "]"

_MESSAGES = {"type": "array", "items": {"type": "string"}}
# A nested serializer, a list of them or a list field: messages, one error object per item, or an
# object keyed by field name (or by index, for a list field's items).
_NESTED_ERRORS = {
    "anyOf": [
        {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
        {"type": "object"},
    ]
}
_COMPOSITE_FIELDS = (serializers.BaseSerializer, serializers.ListField, serializers.DictField)

_DESCRIPTIONS = {
    "400": 'The request is not valid. `{"detail", "code"}`: a NUL character in the path, query string, a '
    "header or the body (`null_character`), or a body that cannot be parsed (`parse_error`).",
    "400-body": ' Otherwise Django REST framework\'s field errors: `{"<field>": ["message", …]}`, '
    "`non_field_errors` for the body as a whole.",
    "400-own": " Otherwise the operation's own error body.",
    "401": "No credentials, or credentials that are not valid (`not_authenticated`, `authentication_failed`).",
    "403": "Not allowed to do this (`permission_denied`, or the reason's own code).",
    "404": "Not found (`not_found`): the object named in the path does not exist or is not yours to see, or "
    "`?format=` names a format this operation does not serve.",
    "406": "None of the media types in `Accept` can be served (`not_acceptable`).",
    "415": "The body's `Content-Type` is not one this operation reads (`unsupported_media_type`).",
    "429": "Too many requests (`throttled`); try again after `Retry-After` seconds.",
}


def _own_doc(obj) -> str:
    """``obj``'s own docstring: not one inherited from a base class or a mixin, which describes that."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


class AppAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding to each operation the error responses its view can give.

    Derived from the view as configured at run time (its authenticators, permissions, throttles,
    renderers and request body), so a host's own REST_FRAMEWORK settings are described as they are.
    Every error body is ``{"detail", "code"}`` (``courses.api.errors.DomainErrorsMixin``), except
    validation errors, which keep DRF's field shape and are declared as such, per request serializer.
    A status the view declares itself keeps its description; a body it declares other than the plain
    error is offered beside it (``oneOf``), and the generic headers (``WWW-Authenticate``,
    ``Retry-After``) are added.
    """

    def get_description(self) -> str:
        method = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        return _own_doc(method) or _own_doc(self.view.__class__)

    def get_auth(self):
        auth = super().get_auth()
        # No permission class at all (the token endpoint): anyone may call it, credentials or not.
        if not self.view.get_permissions() and {} not in auth:
            auth.append({})
        return auth

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            enum = parameter.get("schema", {}).get("enum")
            if parameter["in"] == "query" and parameter["name"] == api_settings.URL_FORMAT_OVERRIDE and enum:
                # DRF reads an empty `?format=` as no format at all.
                if "" not in enum:
                    enum.append("")
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.FileField) and schema.get("format") == "uri":
            # Uploaded, not linked: drf-spectacular says `uri` unless COMPONENT_SPLIT_REQUEST is on.
            schema["format"] = "binary"
        if (
            direction == "request"
            and spectacular_settings.COMPONENT_SPLIT_REQUEST
            and isinstance(field, serializers.CharField)
            and not field.allow_blank
            and field.trim_whitespace
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            # DRF strips the value before its blank check: whitespace alone is refused as blank.
            schema["pattern"] = NOT_BLANK_PATTERN
        return schema

    # --- Error responses -----------------------------------------------------------------------------

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        declared = self._declared_bodies()
        for status, description in self._error_statuses().items():
            response = responses.setdefault(status, {})
            declared_json = response.get("content", {}).get("application/json")
            if status in declared and self._body_kind(declared[status]) == "other" and declared_json:
                # The view's own body (the import's row errors, verification's not_found) or the plain
                # error any view can give; a 400 of its own stands for DRF's field errors.
                declared_json["schema"] = {"oneOf": [declared_json["schema"], self._error_ref()]}
                if status == "400":
                    description = _DESCRIPTIONS["400"] + _DESCRIPTIONS["400-own"]
            else:
                response["content"] = self._error_content(status)
            headers = {**self._error_headers(status), **response.get("headers", {})}
            if headers:
                response["headers"] = headers
            own = response.get("description", "")
            response["description"] = f"{own}\n\n{description}" if own and own != description else description
        return dict(sorted(responses.items()))

    def _declared_bodies(self) -> dict:
        """What the view's ``@extend_schema(responses=…)`` gives for each status code, unwrapped."""
        declared = self.get_response_serializers()
        if not isinstance(declared, dict):
            return {}
        bodies = {}
        for code, body in declared.items():
            code = str(code[0] if isinstance(code, tuple) else code)
            bodies[code] = getattr(body, "response", body)
        return bodies

    @staticmethod
    def _body_kind(body) -> str:
        body = force_instance(body)
        if body is None:
            return "none"
        if is_serializer(body) and not getattr(body, "many", False) and set(body.fields) == {"detail", "code"}:
            return "error"
        return "other"

    def _error_statuses(self) -> dict[str, str]:
        view = self.view
        authenticators = view.get_authenticators()
        permissions = view.get_permissions()
        challenge = bool(authenticators) and bool(authenticators[0].authenticate_header(getattr(view, "request", None)))
        body = self._reads_body()
        statuses = {"400": _DESCRIPTIONS["400"] + (_DESCRIPTIONS["400-body"] if body else "")}
        if challenge:
            # DRF answers 401 (with WWW-Authenticate) when the first authenticator has a challenge to offer.
            statuses["401"] = _DESCRIPTIONS["401"]
        limited = any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions)
        csrf = self.method not in SAFE_METHODS and any(isinstance(a, SessionAuthentication) for a in authenticators)
        if limited or csrf or (authenticators and not challenge):
            # Without a challenge DRF answers failed authentication with 403; a session-authenticated
            # unsafe request without a valid CSRF token is refused with 403 too.
            statuses["403"] = _DESCRIPTIONS["403"]
        if api_settings.URL_FORMAT_OVERRIDE or "{" in self.path:
            statuses["404"] = _DESCRIPTIONS["404"]
        if not any(renderer.media_type == "*/*" for renderer in view.get_renderers()):
            statuses["406"] = _DESCRIPTIONS["406"]
        if body:
            statuses["415"] = _DESCRIPTIONS["415"]
        if view.get_throttles():
            statuses["429"] = _DESCRIPTIONS["429"]
        return statuses

    def _reads_body(self) -> bool:
        return self.method in ("PUT", "PATCH", "POST") and self.get_request_serializer() is not None

    def _error_ref(self) -> dict:
        return self.resolve_serializer(ErrorSerializer(), "response").ref

    def _error_content(self, status: str) -> dict:
        schema = self._error_ref()
        if status == "400":
            validation = self._validation_error_component()
            if validation is not None:
                schema = {"oneOf": [validation.ref, schema]}
        return {"application/json": {"schema": schema}}

    @staticmethod
    def _error_headers(status: str) -> dict:
        if status == "401":
            return {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "description": "The authentication scheme to use, e.g. `Token`.",
                }
            }
        if status == "429":
            return {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}
        return {}

    def _request_serializer(self):
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict):  # per media type: they describe one body
            serializer = next(iter(serializer.values()), None)
        serializer = force_instance(getattr(serializer, "request", serializer))
        return serializer if is_serializer(serializer) and not getattr(serializer, "many", False) else None

    def _validation_error_component(self) -> ResolvedComponent | None:
        """``<Request>ValidationError``: DRF's field errors for the request serializer's writable fields."""
        serializer = self._request_serializer() if self._reads_body() else None
        if serializer is None:
            return None
        properties = {
            name: _NESTED_ERRORS if isinstance(field, _COMPOSITE_FIELDS) else _MESSAGES
            for name, field in serializer.fields.items()
            if not field.read_only
        }
        properties[api_settings.NON_FIELD_ERRORS_KEY] = _MESSAGES
        name = self._get_serializer_name(serializer, "response").removesuffix("Request")
        component = ResolvedComponent(
            name=f"{name}ValidationError",
            type=ResolvedComponent.SCHEMA,
            object=f"{type(serializer).__module__}.{type(serializer).__qualname__}.validation_error",
            schema={
                "type": "object",
                "description": "Field errors: each field's messages (or, for a nested field, its own errors); "
                f"`{api_settings.NON_FIELD_ERRORS_KEY}` for the body as a whole.",
                "properties": properties,
                "additionalProperties": False,
            },
        )
        self.registry.register_on_missing(component)
        return component
