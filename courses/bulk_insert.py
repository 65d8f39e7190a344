"""Inserting many new rows of one model: PostgreSQL's COPY for a large batch, ``bulk_create`` otherwise.

Both paths write the same rows: the values given, each other field's default, ``auto_now`` and
``auto_now_add`` fields stamped with the time of the call. Signals are not sent, as with
``bulk_create``. COPY cannot skip conflicts: a duplicate key raises IntegrityError and, inside the
caller's transaction, nothing of the batch stays.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from .conf import courses_setting


def bulk_insert(model: type[models.Model], rows: list[dict[str, Any]], *, batch_size: int) -> list[int]:
    """Insert ``rows`` (field attname -> value; the primary key left out) as new rows of ``model`` and
    return their primary keys, in order.

    COPY on PostgreSQL when there are at least ``COURSES_IMPORT_COPY_MIN_ROWS`` of them (a COPY costs
    two statements, whatever the number of rows), ``bulk_create`` in ``batch_size`` statements otherwise.
    The COPY path builds no model instances: for thousands of rows, building them costs more than the
    database's work.
    """
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql" or len(rows) < courses_setting("IMPORT_COPY_MIN_ROWS"):
        created = model._default_manager.using(alias).bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return [obj.pk for obj in created]
    meta = model._meta
    now = timezone.now()
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    constant, given = {}, []
    for field in fields:
        if field.attname in rows[0]:
            given.append(field)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            constant[field.attname] = _adapt(field, connection)(now)
        else:
            # A callable default (date_joined's timezone.now, say) once for the batch.
            constant[field.attname] = _adapt(field, connection)(field.get_default())
    adapters = [(field.attname, _adapt(field, connection)) for field in given]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(field.column) for field in [meta.pk, *given, *(f for f in fields if f.attname in constant)]
    )
    tail = tuple(constant.values())
    with connection.cursor() as cursor:
        # The keys first, from the table's own sequence, so that the caller knows them as with bulk_create.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        keys = [pk for (pk,) in cursor.fetchall()]
        # Django's own errors (IntegrityError for a duplicate key), as its cursor raises them.
        with connection.wrap_database_errors:
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for pk, row in zip(keys, rows, strict=True):
                    copy.write_row((pk, *(adapt(row[name]) for name, adapt in adapters), *tail))
    return keys


def _adapt(field: models.Field, connection) -> Callable[[Any], Any]:
    """The field's ``get_db_prep_save``, skipped for values psycopg writes as they are."""

    def prepare(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    if isinstance(field, models.DateTimeField):
        # Aware datetimes go to PostgreSQL unchanged (Django's own adaptation returns them as they are).
        return lambda value: (
            value if value is None or (isinstance(value, datetime.datetime) and value.tzinfo) else prepare(value)
        )
    if (
        isinstance(field, (models.CharField, models.TextField, models.BooleanField, models.IntegerField))
        and not field.choices
    ):
        return lambda value: value if value is None or type(value) in (str, bool, int) else prepare(value)
    return prepare
