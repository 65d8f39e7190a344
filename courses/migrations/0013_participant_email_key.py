"""The participants' emails in their normal form, unique, so that the import finds an address's owner by index."""

from django.conf import settings
from django.db import migrations, models


def email_keys_fill(apps, schema_editor):
    """Every profile gets its user's email in its normal form; when several profiles share an address
    (possible before the index), the oldest keeps it and the others stay without a key."""
    from courses.validators import email_key

    ParticipantProfile = apps.get_model("courses", "ParticipantProfile")
    db = schema_editor.connection.alias
    taken: set[str] = set()
    pending = []
    rows = ParticipantProfile.objects.using(db).order_by("pk").values_list("pk", "user__email")
    for pk, email in rows.iterator(chunk_size=2000):
        key = email_key(email or "")
        if not key or key in taken:
            continue
        taken.add(key)
        pending.append(ParticipantProfile(pk=pk, email_key=key))
        if len(pending) >= 2000:
            ParticipantProfile.objects.using(db).bulk_update(pending, ["email_key"])
            pending = []
    ParticipantProfile.objects.using(db).bulk_update(pending, ["email_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0012_operator_work"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="participantprofile",
            name="email_key",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=320, verbose_name="email (normalised)"
            ),
        ),
        migrations.RunPython(email_keys_fill, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="participantprofile",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_key", ""), _negated=True),
                fields=("email_key",),
                name="participant_unique_email_key",
            ),
        ),
    ]
