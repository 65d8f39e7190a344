"""Receivers of courses' signals; each only calls this app's own services."""

from django.dispatch import receiver

from courses.signals import curriculum_module_loaded

from .services import quiz_sync


@receiver(curriculum_module_loaded, dispatch_uid="assessments.quiz_sync")
def load_module_quiz(sender, *, module, source_dir, report, **kwargs) -> None:
    quiz_sync(module=module, path=source_dir / "quiz.yaml", report=report)
