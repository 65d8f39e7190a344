"""Signals other apps subscribe to; courses never imports them (dependencies point one way)."""

from django.dispatch import Signal

# Sent inside the curriculum load transaction once the course row is written, before its modules.
# kwargs: course (Course), data (dict: the parsed course.yaml), path (pathlib.Path of course.yaml),
# report (CurriculumReport). A receiving app keeps its own settings for the course from ``data``
# (e.g. certificates: ``certificate_prefix``) and raises CurriculumError, naming ``path``, when
# they are missing or malformed: the whole load then rolls back.
curriculum_course_loaded = Signal()

# Sent inside the curriculum load transaction for every module in the files.
# kwargs: module (Module), source_dir (pathlib.Path), report (CurriculumReport).
# A receiving app loads its own content for that module (e.g. the quiz) from source_dir.
curriculum_module_loaded = Signal()

# Sent once per enrolment, after the transaction that completed its last module commits.
# kwargs: enrollment_id (int). Sent robustly: a receiver that raises is logged and the others
# still run, so a receiver must not rely on its exception reaching anyone.
course_completed = Signal()

# Sent by ``manage.py seeddemo`` (``make run``) once the demo accounts exist. No kwargs. A receiver
# prepares what the local demo needs of its app (certificates: the demo seal) and may return a line
# for the command to print.
demo_seeded = Signal()

# Sent after the transaction of ``participant_correct`` commits (an operator corrected a participant's
# name, position or unit). kwargs: enrollment_id (int), by_id (int or None: the operator),
# changes (dict: field -> [old, new]). Sent robustly. certificates re-issues a valid certificate.
participant_corrected = Signal()
