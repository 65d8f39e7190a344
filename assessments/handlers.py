"""Receivers of courses' signals; each only calls this app's own services."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from courses.content_cache import course_content_forget
from courses.models import Module
from courses.signals import curriculum_module_loaded

from .models import Choice, Question, Quiz
from .services import answer_key_forget, quiz_sync


@receiver(curriculum_module_loaded, dispatch_uid="assessments.quiz_sync")
def load_module_quiz(sender, *, module, source_dir, report, **kwargs) -> None:
    quiz_sync(module=module, path=source_dir / "quiz.yaml", report=report)


def quiz_content_changed(sender, instance, **kwargs) -> None:
    """post_save/post_delete of a quiz, question or choice: forget the quiz's cached answer key (and,
    for a quiz, the course outline holding its summary, ``courses.content_cache.course_outline``)."""
    if isinstance(instance, Quiz):
        quiz_id = instance.pk
        course_id = Module.objects.filter(pk=instance.module_id).values_list("course_id", flat=True).first()
        if course_id is not None:
            course_content_forget(course_id=course_id)
    elif isinstance(instance, Question):
        quiz_id = instance.quiz_id
    else:
        quiz_id = Question.objects.filter(pk=instance.question_id).values_list("quiz_id", flat=True).first()
    if quiz_id is not None:
        answer_key_forget(quiz_id=quiz_id)


for _model in (Quiz, Question, Choice):
    post_save.connect(quiz_content_changed, sender=_model, dispatch_uid=f"assessments.content.{_model.__name__}")
    post_delete.connect(quiz_content_changed, sender=_model, dispatch_uid=f"assessments.content.{_model.__name__}")
