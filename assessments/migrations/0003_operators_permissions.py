"""Give the ``operators`` group what it needs in the admin: read quizzes and attempts, manage allowances."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = {
    "quiz": ("view",),
    "question": ("view",),
    "choice": ("view",),
    "attempt": ("view",),
    "answer": ("view",),
    "attemptallowance": ("add", "change", "delete", "view"),
}


def grant_operator_permissions(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so the group can hold them.
    app_config = apps.get_app_config("assessments")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="operators")
    codenames = [f"{action}_{model}" for model, actions in OPERATOR_PERMISSIONS.items() for action in actions]
    group.permissions.add(*Permission.objects.filter(content_type__app_label="assessments", codename__in=codenames))


def revoke_operator_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="operators").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="assessments"))


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0002_attempts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_operator_permissions, revoke_operator_permissions)]
