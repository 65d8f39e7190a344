"""Facts that change only when the curriculum changes, kept in the shared cache.

The progress engine asks for a module's lesson ids and a course's module count on every lesson
completion and quiz result; both change only when the curriculum is loaded (or edited in the
admin). They are kept in the default cache (``CACHE_URL``, shared by the web processes) and
forgotten by ``curriculum_load`` and by the model signals of Module and Lesson, at once and again
after the commit (a reader that read the old rows just before the commit cannot keep them past
that second forget). ``CONTENT_CACHE_SECONDS`` bounds what a cache that misses an invalidation
(several processes on in-process memory) can serve.

Other apps keep their own per-curriculum facts the same way (assessments: the answer key) with
``content_cached`` and ``content_forget``.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction

T = TypeVar("T")

CONTENT_CACHE_SECONDS = 600
_PREFIX = "content:v1:"


def _changing_content() -> bool:
    """True inside a transaction that changed cached content: what it reads is not committed yet
    (and may roll back), so it must not be stored for the other processes."""
    return any(getattr(func, "content_forget", False) for _, func, _ in connection.run_on_commit)


def content_cached(key: str, build: Callable[[], T]) -> T:
    """The value cached under ``key``, or ``build()`` (stored for next time)."""
    full = _PREFIX + key
    value = cache.get(full)
    if value is None:
        value = build()
        if not _changing_content():
            cache.set(full, value, CONTENT_CACHE_SECONDS)
    return value


def content_forget(keys: Iterable[str]) -> None:
    """Forget ``keys`` now and once more after the current transaction commits."""
    full = [_PREFIX + key for key in keys]
    if not full:
        return
    cache.delete_many(full)

    def forget_again() -> None:
        cache.delete_many(full)

    forget_again.content_forget = True
    transaction.on_commit(forget_again)


def _course_key(course_id: int) -> str:
    return f"course:{course_id}:lessons"


def course_lessons(course_id: int) -> dict[int, frozenset[int]]:
    """The course's modules, each with the ids of its lessons (one query when not cached)."""
    from .models import Module

    def build() -> dict[int, frozenset[int]]:
        lessons: dict[int, set[int]] = {}
        for module_id, lesson_id in (
            Module.objects.filter(course_id=course_id).order_by().values_list("pk", "lessons__pk")
        ):
            bucket = lessons.setdefault(module_id, set())
            if lesson_id is not None:
                bucket.add(lesson_id)
        return {module_id: frozenset(ids) for module_id, ids in lessons.items()}

    return content_cached(_course_key(course_id), build)


def module_lesson_ids(module) -> frozenset[int]:
    """Ids of the lessons of ``module`` (a Module), from ``course_lessons``."""
    return course_lessons(module.course_id).get(module.pk, frozenset())


def course_module_count(course_id: int) -> int:
    """How many modules the course has, from ``course_lessons``."""
    return len(course_lessons(course_id))


def _outline_key(course_id: int) -> str:
    return f"course:{course_id}:outline"


def course_outline(course_id: int) -> tuple[list[Any], dict[int, Any]]:
    """The course's modules in order, each annotated with ``lesson_count``, and their ``quiz`` module
    extra (``extensions.module_extras``: per module id, its quiz's summary), for progress reports (the
    modules' query and the quiz provider's, when not cached). The providing app forgets the course
    (``course_content_forget``) when what it provides changes."""
    from django.db.models import Count

    from .extensions import module_extras
    from .models import Module

    def build() -> tuple[list[Any], dict[int, Any]]:
        modules = list(
            Module.objects.filter(course_id=course_id).annotate(lesson_count=Count("lessons")).order_by("order", "id")
        )
        return modules, module_extras([m.pk for m in modules], ["quiz"])["quiz"]

    return content_cached(_outline_key(course_id), build)


def course_content_forget(*, course_id: int) -> None:
    """Forget what is cached about the course's modules, lessons and their quizzes' summaries."""
    content_forget([_course_key(course_id), _outline_key(course_id)])


def content_model_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save/post_delete of Module and Lesson: forget the facts they change."""
    from .models import Lesson, Module

    if isinstance(instance, Module):
        course_content_forget(course_id=instance.course_id)
    elif isinstance(instance, Lesson):
        course_id = Module.objects.filter(pk=instance.module_id).values_list("course_id", flat=True).first()
        if course_id is not None:
            course_content_forget(course_id=course_id)
