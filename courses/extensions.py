"""Extension points through which other apps add to courses' read models without courses importing them."""

from collections.abc import Callable, Iterable
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


def register_enrollment_extra(name: str, provider: Callable[[list[int]], dict[int, Any]]) -> None:
    """Let an app attach a value (e.g. ``certificate``) to each enrolment in progress reports."""
    _enrollment_extras[name] = provider


def enrollment_extras(enrollment_ids: Iterable[int], names: Iterable[str]) -> dict[str, dict[int, Any]]:
    """Return each named extra for the given enrolments; a missing provider yields an empty mapping."""
    ids = list(enrollment_ids)
    return {name: (_enrollment_extras[name](ids) if name in _enrollment_extras else {}) for name in names}
