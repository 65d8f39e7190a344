"""Once gave the ``operators`` group assessments' permissions here; kept for history, it does nothing now.

The permissions come from ``assessments.conf.OPERATOR_PERMISSIONS``, synced after every migrate by
``courses.groups.operators_group_sync``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_attempts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
