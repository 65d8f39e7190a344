"""The operators group (``COURSES_OPERATORS_GROUP``) and the permissions each app declares for it, synced after migrate."""

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

from .conf import courses_setting


def operators_group_sync(sender, *, app_config=None, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:
    """``post_migrate`` receiver: give the operators group the permissions ``app_config`` declares.

    An app declares them as ``operator_permissions`` on its AppConfig ({model: actions}, e.g. from its
    ``conf.OPERATOR_PERMISSIONS``). Runs after Django's own receiver has created the app's
    permissions, for every migrate (a flush too), so a host that names the group differently gets
    that group, with the permissions. Idempotent: it only adds what is missing, and never takes away
    what an administrator granted. The group is created on the first app that declares anything.
    """
    declared = getattr(app_config, "operator_permissions", None)
    if not declared:
        return
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # auth not migrated (yet) in this database
        return
    group, _ = Group.objects.using(using).get_or_create(name=courses_setting("OPERATORS_GROUP"))
    codenames = [f"{action}_{model}" for model, actions in declared.items() for action in actions]
    group.permissions.add(
        *Permission.objects.using(using).filter(content_type__app_label=app_config.label, codename__in=codenames)
    )
