# The certificate number prefix belongs to the certificates app (certificates.CertificateSettings).
# Its migration 0004 copies the prefixes first (it declares run_before this one), so courses does
# not depend on certificates: a host that installs courses alone just loses the column.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('courses', '0007_profile_language'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='course',
            name='course_certificate_prefix_format',
        ),
        # Only for going back: the column then returns filled with a valid placeholder (its check
        # constraint needs one in every row), which certificates' 0004, reversed next, overwrites.
        migrations.AlterField(
            model_name='course',
            name='certificate_prefix',
            field=models.CharField(default='COURSE', help_text='Start of every certificate number, e.g. GCIO-KALTIM.', max_length=32, verbose_name='certificate number prefix'),
        ),
        migrations.RemoveField(
            model_name='course',
            name='certificate_prefix',
        ),
    ]
