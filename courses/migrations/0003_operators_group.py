"""Create the ``operators`` group with the permissions operators need on courses' data."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = {
    "course": ("view",),
    "module": ("view",),
    "lesson": ("view",),
    "cohort": ("add", "change", "view"),
    "enrollment": ("add", "change", "delete", "view"),
    "participantprofile": ("add", "change", "view"),
}


def create_operators_group(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the group can hold them.
    app_config = apps.get_app_config("courses")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="operators")
    codenames = [f"{action}_{model}" for model, actions in OPERATOR_PERMISSIONS.items() for action in actions]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="courses", codename__in=codenames))


def remove_operators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="operators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0002_cohorts_enrollments"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_operators_group, remove_operators_group)]
