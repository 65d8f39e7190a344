# Per-course certificate settings, starting with the number prefix that courses.Course held.

import django.db.models.deletion
from django.db import migrations, models


def copy_prefixes(apps, schema_editor):
    """Each course's certificate_prefix becomes its settings' number_prefix (idempotent)."""
    Course = apps.get_model('courses', 'Course')
    CertificateSettings = apps.get_model('certificates', 'CertificateSettings')
    for course_id, prefix in Course.objects.values_list('pk', 'certificate_prefix'):
        CertificateSettings.objects.update_or_create(course_id=course_id, defaults={'number_prefix': prefix})


def copy_prefixes_back(apps, schema_editor):
    """Reversed after courses' 0008 has brought the column back: the prefixes return to it."""
    Course = apps.get_model('courses', 'Course')
    CertificateSettings = apps.get_model('certificates', 'CertificateSettings')
    for course_id, prefix in CertificateSettings.objects.values_list('course_id', 'number_prefix'):
        Course.objects.filter(pk=course_id).update(certificate_prefix=prefix)


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0003_issue_job_attempts'),
        ('courses', '0006_names_visible_text'),
    ]
    # The prefixes are read from courses' column before courses' 0008 drops it.
    run_before = [
        ('courses', '0008_course_certificate_prefix_to_certificates'),
    ]

    operations = [
        migrations.CreateModel(
            name='CertificateSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number_prefix', models.CharField(help_text='Start of every certificate number, e.g. GCIO-KALTIM.', max_length=32, verbose_name='certificate number prefix')),
                ('course', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='certificate_settings', to='courses.course', verbose_name='course')),
            ],
            options={
                'verbose_name': 'certificate settings',
                'verbose_name_plural': 'certificate settings',
                'constraints': [models.CheckConstraint(condition=models.Q(('number_prefix__regex', '^[A-Z0-9][A-Z0-9-]*$')), name='certificate_settings_prefix_format')],
            },
        ),
        migrations.RunPython(copy_prefixes, copy_prefixes_back),
    ]
