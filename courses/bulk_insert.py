"""Inserting many new rows of one model: PostgreSQL's COPY for a large batch, ``bulk_create`` otherwise.

Both paths write the same rows: the values given, each other field's default, ``auto_now`` and
``auto_now_add`` fields stamped with the time of the call. Signals are not sent, as with
``bulk_create``. COPY cannot skip conflicts: a duplicate key raises IntegrityError and, inside the
caller's transaction, nothing of the batch stays.
"""

import datetime
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from .conf import courses_setting


def bulk_insert(
    model: type[models.Model], rows: list[dict[str, Any]], *, batch_size: int, keys: bool = True
) -> list[int] | None:
    """Insert ``rows`` (field attname -> value; the primary key left out) as new rows of ``model`` and
    return their primary keys, in order (None with ``keys=False``, when the caller needs none: the
    database then numbers the rows itself, without a statement to reserve the keys first).

    COPY on PostgreSQL when there are at least ``COURSES_IMPORT_COPY_MIN_ROWS`` of them (a COPY costs
    two statements, whatever the number of rows), ``bulk_create`` in ``batch_size`` statements otherwise.
    The COPY path builds no model instances and prepares the values a column at a time: for thousands
    of rows, building instances or converting each value costs more than the database's work.
    """
    if not rows:
        return [] if keys else None
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql" or len(rows) < courses_setting("IMPORT_COPY_MIN_ROWS"):
        created = model._default_manager.using(alias).bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return [obj.pk for obj in created] if keys else None
    meta = model._meta
    if not keys and not isinstance(meta.pk, models.fields.AutoFieldMixin):
        raise ValueError("keys=False needs a key the database numbers itself")
    now = timezone.now()
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    constant, given = {}, []
    for field in fields:
        if field.attname in rows[0]:
            given.append(field)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            constant[field.attname] = _prepared(field, [now], connection)[0]
        else:
            # A callable default (date_joined's timezone.now, say) once for the batch.
            constant[field.attname] = _prepared(field, [field.get_default()], connection)[0]
    quote = connection.ops.quote_name
    written = [*([meta.pk] if keys else []), *given, *(f for f in fields if f.attname in constant)]
    columns = ", ".join(quote(field.column) for field in written)
    values = [_prepared(field, [row[field.attname] for row in rows], connection) for field in given]
    tail = tuple(constant.values())
    with connection.cursor() as cursor:
        if keys:
            # The keys first, from the table's own sequence, so that the caller knows them as with bulk_create.
            # The sequence's name first: passed as a constant, nextval finds the sequence once, not once a
            # row (for 10,000 keys, 2 ms against 22).
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
            (sequence,) = cursor.fetchone()
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
            pks = [pk for (pk,) in cursor.fetchall()]
            values.insert(0, pks)
        # Django's own errors (IntegrityError for a duplicate key), as its cursor raises them.
        with connection.wrap_database_errors:
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                write = copy.write_row
                for row in zip(*values, strict=True):
                    write(row + tail)
    return pks if keys else None


# Per kind of field, the types of the values its ``get_db_prep_save`` returns unchanged on PostgreSQL.
_AS_THEY_ARE = (
    ((models.CharField, models.TextField), frozenset({str, type(None)})),
    ((models.BooleanField,), frozenset({bool, type(None)})),
    ((models.IntegerField,), frozenset({int, type(None)})),  # AutoField and BigAutoField among them
)


def _prepared(field: models.Field, values: list[Any], connection) -> list[Any]:
    """``values`` as the field's ``get_db_prep_save`` gives them, for a whole column at once.

    Values that psycopg writes as they are (plain text, numbers, keys, aware datetimes) are checked by
    their types for the column and kept; only other columns are converted value by value."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field  # a key prepares as its target
    types = set(map(type, values))
    if not field.choices and not target.choices:
        for kinds, as_they_are in _AS_THEY_ARE:
            if isinstance(target, kinds) and types <= as_they_are:
                return values
        if isinstance(field, models.DateTimeField) and types <= {datetime.datetime, type(None)}:
            # Aware datetimes go to PostgreSQL unchanged (Django's own adaptation returns them as they are).
            if all(value is None or value.tzinfo for value in values):
                return values
    return [field.get_db_prep_save(value, connection) for value in values]
