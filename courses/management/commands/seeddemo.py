"""``manage.py seeddemo``: a demo operator and a demo participant for trying the platform locally."""

import datetime
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from courses.conf import courses_setting
from courses.models import Cohort, Course, Enrollment, ParticipantProfile
from courses.signals import demo_seeded

DEMO_NIP = "198503302010011002"


class Command(BaseCommand):
    help = "Create or refresh a demo operator and a demo participant, and print their credentials."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off.")

    @transaction.atomic
    def handle(self, *args, force: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("Demo accounts are for local use; pass --force to create them with DEBUG off.")
        User = get_user_model()
        operators, _ = Group.objects.get_or_create(name=courses_setting("OPERATORS_GROUP"))

        operator, _ = User.objects.get_or_create(username="operator", defaults={"email": "operator@example.org"})
        operator.is_staff = True
        operator_password = secrets.token_urlsafe(9)
        operator.set_password(operator_password)
        operator.save()
        operator.groups.add(operators)

        participant, _ = User.objects.get_or_create(username=DEMO_NIP, defaults={"email": "peserta@example.org"})
        participant_password = secrets.token_urlsafe(9)
        participant.set_password(participant_password)
        participant.save()
        ParticipantProfile.objects.update_or_create(
            user=participant,
            defaults={
                "nip": DEMO_NIP,
                "full_name": "Siti Rahmawati",
                "unit": "Dinas Komunikasi dan Informatika",
                "position": "Kepala Dinas",
            },
        )
        # Enrol the demo participant in a demo cohort of the GCIO course, if it is loaded.
        course = Course.objects.filter(slug="gcio").first()
        if course is not None:
            today = timezone.localdate()
            cohort, _ = Cohort.objects.get_or_create(
                course=course,
                name="Angkatan Demo",
                defaults={"starts_on": today, "ends_on": today + datetime.timedelta(days=60)},
            )
            Enrollment.objects.get_or_create(cohort=cohort, participant=participant.participant_profile)
        # Other apps prepare what the demo needs of them (certificates: the demo seal).
        for _receiver, message in demo_seeded.send_robust(sender=self.__class__):
            if message:
                self.stdout.write(str(message))
        self.stdout.write(self.style.SUCCESS("Demo accounts (passwords are new on every run):"))
        self.stdout.write(f"  operator     username: operator            password: {operator_password}")
        self.stdout.write(f"  participant  NIP:      {DEMO_NIP}  password: {participant_password}")
