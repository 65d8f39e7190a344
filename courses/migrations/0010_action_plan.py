# The action plan (rencana aksi): the course's settings and one plan per enrolment.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0009_course_apparatus"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="action_plan_required",
            field=models.BooleanField(
                default=False,
                help_text="The course counts as completed only once the participant has submitted an action plan.",
                verbose_name="action plan required",
            ),
        ),
        migrations.AddField(
            model_name="course",
            name="action_plan_title",
            field=models.CharField(blank=True, max_length=200, verbose_name="action plan title"),
        ),
        migrations.AddField(
            model_name="course",
            name="action_plan_instructions",
            field=models.TextField(blank=True, verbose_name="action plan instructions (Markdown)"),
        ),
        migrations.CreateModel(
            name="ActionPlan",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("change", models.TextField(verbose_name="the change to lead")),
                ("lead", models.TextField(verbose_name="who leads it, with whom")),
                ("due_on", models.DateField(verbose_name="due on")),
                ("indicator", models.TextField(verbose_name="success indicator")),
                ("submitted_at", models.DateTimeField(verbose_name="submitted at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "enrollment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="action_plan",
                        to="courses.enrollment",
                        verbose_name="enrolment",
                    ),
                ),
            ],
            options={
                "verbose_name": "action plan",
                "verbose_name_plural": "action plans",
                "ordering": ["enrollment"],
            },
        ),
    ]
