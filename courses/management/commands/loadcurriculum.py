"""``manage.py loadcurriculum``: load or update a course from its curriculum files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses.curriculum import CurriculumError
from courses.services import curriculum_load


class Command(BaseCommand):
    help = "Load or update a course (default: the GCIO course) from its curriculum files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--slug", default="gcio", help="Course slug (folder name); default gcio.")
        parser.add_argument("--source", type=Path, help="Folder holding course.yaml; default from settings.")

    def handle(self, *args, slug: str, source: Path | None, **options) -> None:
        try:
            report = curriculum_load(slug=slug, source_dir=source)
        except CurriculumError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
        verdict = "Curriculum '%s' loaded." if report.changed else "Curriculum '%s' already up to date."
        self.stdout.write(self.style.SUCCESS(verdict % slug))
