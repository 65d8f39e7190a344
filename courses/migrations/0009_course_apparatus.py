# The course's instructional apparatus from its curriculum files: audience, JP and its basis,
# and per module the learning objectives, recap and references.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0008_course_certificate_prefix_to_certificates"),
    ]

    operations = [
        migrations.AddField(
            model_name="course",
            name="audience",
            field=models.TextField(blank=True, verbose_name="audience"),
        ),
        migrations.AddField(
            model_name="course",
            name="jp",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="JP (lesson hours)"),
        ),
        migrations.AddField(
            model_name="course",
            name="jp_basis",
            field=models.JSONField(blank=True, default=dict, verbose_name="JP basis"),
        ),
        migrations.AddField(
            model_name="module",
            name="objectives",
            field=models.JSONField(blank=True, default=list, verbose_name="learning objectives"),
        ),
        migrations.AddField(
            model_name="module",
            name="recap",
            field=models.TextField(blank=True, verbose_name="recap (Markdown)"),
        ),
        migrations.AddField(
            model_name="module",
            name="references",
            field=models.JSONField(blank=True, default=list, verbose_name="references"),
        ),
    ]
