"""Extension points through which other apps add to courses' read models without courses importing them."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

# name -> provider(module_ids) -> {module_id: value}. Registered in the providing app's ready().
_module_extras: dict[str, Callable[[list[int]], dict[int, Any]]] = {}
# name -> provider(enrollment_ids) -> {enrollment_id: value}, e.g. the certificate number.
_enrollment_extras: dict[str, Callable[[list[int]], dict[int, Any]]] = {}


def register_module_extra(name: str, provider: Callable[[list[int]], dict[int, Any]]) -> None:
    """Let an app attach a value (e.g. ``quiz``) to each module of a course outline."""
    _module_extras[name] = provider


def module_extras(module_ids: Iterable[int], names: Iterable[str]) -> dict[str, dict[int, Any]]:
    """Return each named extra for the given modules; a missing provider yields an empty mapping."""
    ids = list(module_ids)
    return {name: (_module_extras[name](ids) if name in _module_extras else {}) for name in names}


# name -> provider(enrollment_ids, module_extras) -> {enrollment_id: {module_id: value}}, e.g. the
# attempts left at each module's quiz; ``module_extras`` is ``module_extras(...)`` of the enrolments'
# modules (e.g. ``{"quiz": {module_id: summary}}``), so a provider needs no query for the modules.
_enrollment_module_extras: dict[str, Callable[[list[int], dict[str, dict[int, Any]]], dict[int, dict[int, Any]]]] = {}


def register_enrollment_module_extra(
    name: str, provider: Callable[[list[int], dict[str, dict[int, Any]]], dict[int, dict[int, Any]]]
) -> None:
    """Let an app attach a value per enrolment and module (e.g. ``attempts_left``) to progress rows."""
    _enrollment_module_extras[name] = provider


def enrollment_module_extras(
    enrollment_ids: Iterable[int], modules_extras: dict[str, dict[int, Any]], names: Iterable[str] | None = None
) -> dict[str, dict[int, dict[int, Any]]]:
    """Each named per-enrolment-and-module extra (by default every registered one); a missing provider
    yields an empty mapping."""
    ids = list(enrollment_ids)
    names = list(_enrollment_module_extras) if names is None else list(names)
    return {
        name: (_enrollment_module_extras[name](ids, modules_extras) if name in _enrollment_module_extras else {})
        for name in names
    }


def register_enrollment_extra(name: str, provider: Callable[[list[int]], dict[int, Any]]) -> None:
    """Let an app attach a value (e.g. ``certificate``) to each enrolment in progress reports."""
    _enrollment_extras[name] = provider


def enrollment_extras(enrollment_ids: Iterable[int], names: Iterable[str] | None = None) -> dict[str, dict[int, Any]]:
    """Return each named extra (by default every registered one) for the given enrolments; a missing
    provider yields an empty mapping."""
    ids = list(enrollment_ids)
    names = list(_enrollment_extras) if names is None else names
    return {name: (_enrollment_extras[name](ids) if name in _enrollment_extras else {}) for name in names}


@dataclass(frozen=True)
class ProgressColumn:
    """A column an app adds to the cohort progress report: the page's table, the CSV/XLSX export and
    the JSON rows. ``key`` names it in the export header and the JSON (e.g. ``certificate_number``),
    ``label`` heads it on the page, ``value(extras)`` reads the cell from a row's enrollment extras
    (None: empty)."""

    key: str
    label: Any
    value: Callable[[dict[str, Any]], Any]
    # Optional: an expression giving the cell straight from SQL, evaluated against the Enrollment
    # rows (e.g. a Subquery on OuterRef("pk")); the streamed report (``cohort_progress_stream``) then
    # joins it into its one enrolment query instead of calling the enrollment-extras provider.
    annotation: Callable[[], Any] | None = None


_progress_columns: dict[str, ProgressColumn] = {}


def register_progress_column(column: ProgressColumn) -> None:
    """Add a column after the report's own (in registration order); registering a key again replaces it."""
    _progress_columns[column.key] = column


def progress_columns() -> list[ProgressColumn]:
    return list(_progress_columns.values())


# Templates that other apps add to each course card of a participant's dashboard, rendered with
# ``item`` (the enrolment's EnrollmentProgressView) in the context, e.g. a link to the certificate.
_dashboard_templates: list[str] = []


def register_dashboard_template(template: str) -> None:
    if template not in _dashboard_templates:
        _dashboard_templates.append(template)


def dashboard_templates() -> list[str]:
    return list(_dashboard_templates)


# Templates that other apps add to the page a participant sees once the course is completed, rendered
# with ``item`` (the EnrollmentProgressView) in the context: the certificate, the credential, what to
# do with them. The first block may mark its main link ``data-primary-action`` (the page's one).
_completion_templates: list[str] = []


def register_completion_template(template: str) -> None:
    if template not in _completion_templates:
        _completion_templates.append(template)


def completion_templates() -> list[str]:
    return list(_completion_templates)


# Templates that other apps add to an operator's participant page, rendered with ``enrollment`` in
# the context (e.g. the participant's certificates and their status).
_participant_templates: list[str] = []


def register_participant_template(template: str) -> None:
    if template not in _participant_templates:
        _participant_templates.append(template)


def participant_templates() -> list[str]:
    return list(_participant_templates)


@dataclass(frozen=True)
class CohortAction:
    """A button an app adds to an operator's cohort page: ``label`` and ``url_for(cohort)``."""

    name: str
    label: Any
    url_for: Callable[[Any], str]


_cohort_actions: dict[str, CohortAction] = {}


def register_cohort_action(name: str, label: Any, url_for: Callable[[Any], str]) -> None:
    """Let an app put a button on the cohort page (e.g. the cohort's certificates)."""
    _cohort_actions[name] = CohortAction(name=name, label=label, url_for=url_for)


def cohort_actions(cohort) -> list[dict[str, Any]]:
    """The registered actions for ``cohort``: their labels and URLs, in registration order."""
    return [{"name": a.name, "label": a.label, "url": a.url_for(cohort)} for a in _cohort_actions.values()]


class HostNeeds:
    """AppConfig mixin: what a host must provide for the app, read from the app's ``conf`` module.

    ``beat_schedule`` (its ``BEAT_SCHEDULE``: the periodic tasks beat must run; courses.W002 warns
    about any missing from ``CELERY_BEAT_SCHEDULE``) and ``operator_permissions`` (its
    ``OPERATOR_PERMISSIONS``: {model: actions} synced into the operators group, courses.groups)."""

    name: str

    def _conf(self, attribute: str) -> dict:
        return getattr(import_module(f"{self.name}.conf"), attribute, {})

    @property
    def beat_schedule(self) -> dict:
        return self._conf("BEAT_SCHEDULE")

    @property
    def operator_permissions(self) -> dict:
        return self._conf("OPERATOR_PERMISSIONS")
