"""App settings with defaults, read at call time so a host project can override them."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Seconds after ``expires_at`` during which saves and submits are still accepted (network slack).
    "GRACE_SECONDS": 30,
}


def assessments_setting(name: str) -> Any:
    """Return ``ASSESSMENTS_<name>`` from the host settings, or this app's default."""
    return getattr(settings, f"ASSESSMENTS_{name}", DEFAULTS[name])


# The periodic tasks a host's Celery beat must run (courses.W002 warns when one is missing).
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "assessments-expire-attempts": {"task": "assessments.tasks.attempts_expire_task", "schedule": 60.0},
}

# What the operators group may do with this app's models in the admin: read quizzes and attempts,
# manage allowances (synced after every migrate by courses.groups).
OPERATOR_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "quiz": ("view",),
    "question": ("view",),
    "choice": ("view",),
    "attempt": ("view",),
    "answer": ("view",),
    "attemptallowance": ("add", "change", "delete", "view"),
}
