"""Once created the ``operators`` group here; kept for history, it does nothing now.

The group (named by ``COURSES_OPERATORS_GROUP``) and its permissions are synced after every migrate by
``courses.groups.operators_group_sync`` from what each app declares; databases that ran the old
version keep the group it made."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0002_cohorts_enrollments"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
