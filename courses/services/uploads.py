"""Staged enrollment files: kept between the dry-run report and the confirmation, then deleted."""

import datetime
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from ..conf import courses_setting

# Where the operator pages keep an enrolment file between its dry-run report and the confirmation.
# Names are "<unix time>-<random>", so the purge needs no storage metadata to find stale ones.
# The folder keeps its first spelling: the purge must still find files staged before a deploy.
STAGED_UPLOADS_DIR = "enrolment-uploads"


def enrollment_upload_stage(*, data: bytes) -> str:
    """Keep an enrolment file until the operator confirms the import; return its storage path.

    Side effects: writes one file to the default storage. It holds participants' personal data, so
    it is removed by ``enrollment_upload_take`` / ``enrollment_upload_discard`` and, if the operator
    never comes back, by ``enrollment_uploads_purge``. Not idempotent: every call writes a new file.
    """
    name = f"{STAGED_UPLOADS_DIR}/{int(timezone.now().timestamp())}-{uuid.uuid4().hex}"
    return default_storage.save(name, ContentFile(data))


def _is_staged(path: str) -> bool:
    # Paths come from the session; refuse anything outside the staging folder all the same.
    folder, _, name = path.partition("/")
    return folder == STAGED_UPLOADS_DIR and bool(name) and "/" not in name and ".." not in name


def enrollment_upload_take(*, path: str) -> bytes | None:
    """Read a staged enrolment file and delete it; None when it is gone (purged or already taken).

    Side effects: deletes the file, so the confirmation is one-use and the personal data does not
    outlive the import, whatever its outcome. Idempotent: a second call returns None.
    """
    if not _is_staged(path) or not default_storage.exists(path):
        return None
    try:
        with default_storage.open(path, "rb") as stored:
            return stored.read()
    finally:
        default_storage.delete(path)


def enrollment_upload_discard(*, path: str) -> bool:
    """Delete a staged enrolment file the operator cancelled; True if there was one. Idempotent."""
    if not _is_staged(path) or not default_storage.exists(path):
        return False
    default_storage.delete(path)
    return True


def _staged_at(name: str) -> datetime.datetime | None:
    stamp = name.split("-", 1)[0]
    if not stamp.isdigit():
        return None
    return datetime.datetime.fromtimestamp(int(stamp), tz=datetime.UTC)


def enrollment_uploads_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete staged enrolment files older than ``IMPORT_STAGED_MAX_AGE_SECONDS``; return how many.

    For operators who never confirmed or cancelled (closed the tab, walked away). Side effects:
    deletes files from the default storage. Idempotent. A file whose name carries no time (written
    before names did) falls back to the storage's modification time, or counts as stale.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=courses_setting("IMPORT_STAGED_MAX_AGE_SECONDS"))
    try:
        _, names = default_storage.listdir(STAGED_UPLOADS_DIR)
    except FileNotFoundError:  # nothing was ever staged
        return 0
    deleted = 0
    for name in names:
        path = f"{STAGED_UPLOADS_DIR}/{name}"
        staged_at = _staged_at(name)
        if staged_at is None:
            try:
                staged_at = default_storage.get_modified_time(path)
            except (NotImplementedError, OSError):
                staged_at = None
        if staged_at is None or staged_at < cutoff:
            default_storage.delete(path)
            deleted += 1
    return deleted
