"""The host's index on lower(email) of the user table: its command, its warning, and an import that finds
the same accounts with it as without it while it follows the file rather than the table."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import user_email_index
from courses.checks import user_email_index_missing
from courses.enrollment_file import EnrollmentFileInvalid
from courses.services import enrollment_import
from courses.user_email_index import INDEX_NAME, IndexState, index_state
from tests.courses.enrollment_files import csv_bytes, person
from tests.factories import CohortFactory, ParticipantProfileFactory, UserFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the index is PostgreSQL's")
User = get_user_model()
# DDL commits, so these tests do; serialized_rollback puts back what the migrations wrote (the operators
# group, content types) after the flush, for the tests that run after them.
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def command(*args) -> str:
    out = io.StringIO()
    call_command("indexuseremails", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def no_index():
    """No index on lower(email) before and after the test (DDL commits: these tests run outside a transaction)."""
    call_command("indexuseremails", "--drop", stdout=io.StringIO())
    assert index_state() is IndexState.MISSING
    yield
    call_command("indexuseremails", "--drop", stdout=io.StringIO())


@pytest.fixture(params=["scan", "index"])
def lookup(request, no_index):
    """Each import test twice: with the user table read whole, and with the host's index."""
    if request.param == "index":
        command()
        assert user_email_index.index_usable()
    return request.param


@committed
def test_the_command_creates_the_index_once_and_reports_and_drops_it(no_index):
    assert "missing" in command("--check")
    assert [w.id for w in user_email_index_missing(databases=["default"])] == ["courses.W003"]
    assert f"Created {INDEX_NAME}" in command()
    assert "already installed" in command()
    assert "is installed" in command("--check")
    assert index_state() is IndexState.INSTALLED
    assert user_email_index_missing(databases=["default"]) == []
    # Only `check --database` and `migrate` ask the database.
    assert user_email_index_missing(databases=None) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [INDEX_NAME])
        assert cursor.fetchone()[0] == 1
    assert f"Dropped {INDEX_NAME}" in command("--drop")
    assert index_state() is IndexState.MISSING


@committed
def test_an_index_a_host_made_by_hand_under_another_name_counts(no_index):
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX host_email_idx ON auth_user (lower(email) text_pattern_ops)")
    try:
        assert index_state() is IndexState.INSTALLED
        assert user_email_index.index_usable()
        assert "already installed" in command()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX host_email_idx")
    # One on another expression or operator class does not.
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX host_email_idx ON auth_user (lower(email))")
    try:
        assert index_state() is IndexState.MISSING
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX host_email_idx")


@committed
def test_an_invalid_index_is_not_used_and_the_command_rebuilds_it(no_index):
    command()
    with connection.cursor() as cursor:  # what a CREATE INDEX CONCURRENTLY that failed half-way leaves
        cursor.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass", [INDEX_NAME])
    assert index_state() is IndexState.INVALID
    assert not user_email_index.index_usable()
    assert [w.id for w in user_email_index_missing(databases=["default"])] == ["courses.W003"]
    assert f"Created {INDEX_NAME}" in command()
    assert index_state() is IndexState.INSTALLED


@committed
def test_the_lookup_probes_the_index(no_index):
    command()
    UserFactory(username="kabid", email="Kepala.Bidang@kaltimprov.go.id", is_staff=True)
    with CaptureQueriesContext(connection) as queries:
        found = user_email_index.accounts_by_local_part(
            ["kepala.bidang"], unkeyed_only_of=("courses_participantprofile", "user_id", "email_key")
        )
    assert found == [User.objects.get(username="kabid").pk]
    (probe,) = [q["sql"] for q in queries.captured_queries if "file_local" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be read whole anyway
        cursor.execute(f"EXPLAIN {probe}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert INDEX_NAME in plan


def _refused_emails(cohort, rows) -> list[tuple[int, str]]:
    with pytest.raises(EnrollmentFileInvalid) as refused:
        enrollment_import(cohort=cohort, upload=io.BytesIO(csv_bytes(rows)), name="p.csv")
    return [(error.line, error.column) for error in refused.value.errors]


@committed
@pytest.mark.parametrize(
    "stored, in_file",
    [
        ("Kepala.Bidang@KALTIMPROV.go.id", "kepala.bidang@kaltimprov.go.id"),
        ("kepala.bidang@ＫＡＬＴＩＭＰＲＯＶ.go.id", "kepala.bidang@kaltimprov.go.id"),  # full-width domain
        ("siti@BÜCHER.example", "siti@xn--bcher-kva.example"),
        ('"a@b"@kaltimprov.go.id', '"A@B"@kaltimprov.go.id'),  # an @ in a quoted local part
        ("ſam@kaltimprov.go.id", "ſam@kaltimprov.go.id"),  # a local part outside ASCII: the scan
    ],
    ids=["case", "full-width-domain", "unicode-domain", "quoted-at", "non-ascii-local"],
)
def test_the_email_of_an_account_without_a_profile_is_refused_either_way(lookup, stored, in_file):
    cohort = CohortFactory()
    ParticipantProfileFactory(user__email="kepala.bidang@other.example")  # same local part, other address
    UserFactory(username="kabid", email=stored, is_staff=True)
    before = User.objects.count()
    assert _refused_emails(cohort, [person(1), person(2, email=in_file)]) == [(3, "email")]
    assert User.objects.count() == before


@committed
def test_a_local_part_alone_is_no_conflict_either_way(lookup):
    cohort = CohortFactory()
    UserFactory(username="kabid", email="kepala.bidang@kaltimprov.go.id", is_staff=True)
    UserFactory(username="kabid2", email="kepala.bidang@kaltimprov.go.id.example", is_staff=True)
    result = enrollment_import(
        cohort=cohort,
        upload=io.BytesIO(csv_bytes([person(1, email="kepala.bidang@dinas.example")])),
        name="p.csv",
    )
    assert result.created == 1


@committed
def test_an_index_a_database_lowers_differently_from_python_is_not_used(no_index, monkeypatch):
    command()
    real = user_email_index._indexes
    monkeypatch.setattr(user_email_index, "_indexes", lambda *a: (real(*a)[0], False))
    assert index_state() is IndexState.INSTALLED
    assert not user_email_index.index_usable()


@pytest.mark.django_db
def test_the_imports_probes_run_without_jit_compiling():
    with CaptureQueriesContext(connection) as queries:
        enrollment_import(cohort=CohortFactory(), upload=io.BytesIO(csv_bytes([person(1)])), name="p.csv")
        with connection.cursor() as cursor:  # still the import's transaction (the test's)
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    statements = [q["sql"] for q in queries.captured_queries]
    jit_off = statements.index("SET LOCAL jit = off")
    assert jit_off < min(n for n, sql in enumerate(statements) if "file_nip" in sql)
