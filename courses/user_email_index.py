"""An index on the user table's email in lower case, which a host may install, and its use.

The enrolment import must find every account whose address is one of a file's, in any letter case.
Participants' addresses are in the app's own unique index (``ParticipantProfile.email_key``); other
accounts (staff, operators, other apps' users) are found on the user table, which has no index on
email, so without one that lookup reads the table whole. A plugin does not migrate a table it does
not own, so the index is the host's to install: ``python manage.py indexuseremails`` creates it
(PostgreSQL, ``CREATE INDEX CONCURRENTLY``: the table stays writable), and a host may create the same
index by hand under any name. The import uses it whenever it is there and valid.

The index is on ``lower(email)`` with ``text_pattern_ops``: equality lookups (a sign-in by email)
use it too, and so does a range of addresses that begin with one local part, whatever their domain
(``accounts_by_local_part``). A file's addresses are compared in their canonical form, whose domain
may differ from the stored one (Unicode against ``xn--``), so the lookup goes by the local part,
which that form only puts in lower case.
"""

from __future__ import annotations

import re
from enum import Enum

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper

INDEX_NAME = "courses_user_email_lower"
# How PostgreSQL writes the index's key back (pg_get_indexdef), whatever name a host gave it.
_KEY = re.compile(r"\(lower\(\(?\"?(?P<column>\w+)\"?\)?(::text)?\) text_pattern_ops\)$")


class IndexState(Enum):
    INSTALLED = "installed"
    INVALID = "invalid"  # a CREATE INDEX CONCURRENTLY that failed half-way: PostgreSQL does not use it
    MISSING = "missing"
    UNSUPPORTED = "unsupported"  # not PostgreSQL: its small user tables do without


def _user_table() -> tuple[str, str, BaseDatabaseWrapper]:
    User = get_user_model()
    column = User._meta.get_field(User.get_email_field_name()).column
    return User._meta.db_table, column, connections[router.db_for_read(User)]


def _indexes(connection: BaseDatabaseWrapper, table: str, column: str) -> tuple[list[tuple[str, bool]], bool]:
    """(name, valid) of the indexes on ``table`` whose whole key is ``lower(column) text_pattern_ops``,
    and whether the database puts in lower case the one non-ASCII letter that Python lowers to ASCII
    (the Kelvin sign, to "k"): then an ASCII local part in lower case has the same accounts by the
    database's ``lower()`` as by Python's (a database whose character type is C does not). One query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid), lower(%s) = 'k' "
            "FROM (SELECT 1) AS one LEFT JOIN pg_index i ON i.indrelid = to_regclass(%s) AND i.indpred IS NULL "
            "LEFT JOIN pg_class c ON c.oid = i.indexrelid",
            ["\u212a", connection.ops.quote_name(table)],
        )
        rows = cursor.fetchall()
    found = []
    for name, valid, definition, _lowers in rows:
        key = _KEY.search(definition or "")
        if key and key["column"] == column:
            found.append((name, valid))
    return found, bool(rows[0][3])


def _state(found: list[tuple[str, bool]]) -> IndexState:
    if any(valid for _name, valid in found):
        return IndexState.INSTALLED
    return IndexState.INVALID if found else IndexState.MISSING


def index_state() -> IndexState:
    table, column, connection = _user_table()
    if connection.vendor != "postgresql":
        return IndexState.UNSUPPORTED
    return _state(_indexes(connection, table, column)[0])


def index_install() -> IndexState:
    """Create the index unless a valid one is there; invalid ones with its key are dropped first.

    Concurrently, so it must run outside a transaction (the management command does)."""
    table, column, connection = _user_table()
    if connection.vendor != "postgresql":
        return IndexState.UNSUPPORTED
    found = _indexes(connection, table, column)[0]
    if _state(found) is IndexState.INSTALLED:
        return IndexState.INSTALLED
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name, _valid in found:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}")
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY {quote(INDEX_NAME)} ON {quote(table)} (lower({quote(column)}) text_pattern_ops)"
        )
    return index_state()


def index_drop() -> bool:
    """Drop the index this module installs (by its name); True when there was one."""
    table, column, connection = _user_table()
    if connection.vendor != "postgresql":
        return False
    names = [name for name, _valid in _indexes(connection, table, column)[0] if name == INDEX_NAME]
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {connection.ops.quote_name(name)}")
    return bool(names)


def index_usable() -> bool:
    """Whether ``accounts_by_local_part`` finds every account it should: a valid index is installed
    and the database lowers letters as Python does (one query)."""
    table, column, connection = _user_table()
    if connection.vendor != "postgresql":
        return False
    found, lowers = _indexes(connection, table, column)
    return lowers and _state(found) is IndexState.INSTALLED


def accounts_by_local_part(local_parts: list[str], *, unkeyed_only_of: tuple[str, str, str]) -> list[int]:
    """The ids of the accounts whose address, in lower case, begins with ``local@`` for one of
    ``local_parts`` (ASCII, in lower case) and that have no row in the table ``unkeyed_only_of``
    (table, its user column, its key column) with a non-empty key.

    One statement, each local part a range of the index (``~>=~``/``~<~``, the operators of
    ``text_pattern_ops``; ``A`` is the character after ``@``): the work follows the file, not the
    table. The caller checks each address found in full."""
    table, column, connection = _user_table()
    other, other_user, other_key = unkeyed_only_of
    quote = connection.ops.quote_name
    pk = quote(get_user_model()._meta.pk.column)
    lowered = f"lower(u.{quote(column)})"
    statement = (
        "WITH file_local AS MATERIALIZED (SELECT unnest(string_to_array(%s, E'\\n')) AS value) "
        f"SELECT DISTINCT found.pk FROM file_local CROSS JOIN LATERAL (SELECT u.{pk} AS pk FROM {quote(table)} u "
        f"WHERE {lowered} ~>=~ (file_local.value || '@') AND {lowered} ~<~ (file_local.value || 'A') "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(other)} p WHERE p.{quote(other_user)} = u.{pk} "
        f"AND p.{quote(other_key)} <> '')) AS found"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, ["\n".join(sorted(set(local_parts)))])
        return [row[0] for row in cursor.fetchall()]
