"""``manage.py indexuseremails``: the host's index on the user table's email (``courses.user_email_index``)."""

from django.core.management.base import BaseCommand

from courses.user_email_index import INDEX_NAME, IndexState, index_drop, index_install, index_state


class Command(BaseCommand):
    help = (
        "Create (PostgreSQL, concurrently) the index on lower(email) of the user table that lets the "
        "enrolment import find accounts by email without reading the table whole; --check only reports, "
        "--drop removes it."
    )

    def add_arguments(self, parser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--check", action="store_true", help="Report whether the index is there; change nothing.")
        group.add_argument("--drop", action="store_true", help=f"Drop the index {INDEX_NAME}.")

    def handle(self, *args, check: bool, drop: bool, **options) -> None:
        if drop:
            dropped = index_drop()
            self.stdout.write(f"Dropped {INDEX_NAME}." if dropped else f"No index {INDEX_NAME} to drop.")
            return
        before = index_state()
        if before is IndexState.UNSUPPORTED:
            self.stdout.write("Not PostgreSQL: the enrolment import needs no index on this database.")
            return
        if check:
            self.stdout.write(f"The index on lower(email) of the user table is {before.value}.")
            return
        after = index_install()
        if before is IndexState.INSTALLED:
            self.stdout.write("The index on lower(email) of the user table is already installed.")
        elif after is IndexState.INSTALLED:
            self.stdout.write(self.style.SUCCESS(f"Created {INDEX_NAME} on lower(email) of the user table."))
        else:
            self.stderr.write(f"The index could not be built (it is {after.value}); run the command again.")
            raise SystemExit(1)
