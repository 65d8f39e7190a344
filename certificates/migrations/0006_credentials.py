# Open Badges credentials of certificates: one per certificate, the status list counter, the published list.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0005_official_snapshot'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatusList',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=32, unique=True, verbose_name='list')),
                ('encoded_list', models.TextField(verbose_name='encoded list')),
                ('token', models.TextField(verbose_name='signed status list (VC-JWT)')),
                ('key_id', models.CharField(max_length=255, verbose_name='signing key')),
                ('revoked', models.PositiveIntegerField(default=0, verbose_name='revoked entries')),
                ('updated_at', models.DateTimeField(verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'status list',
                'verbose_name_plural': 'status lists',
            },
        ),
        migrations.CreateModel(
            name='StatusListCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=32, unique=True, verbose_name='list')),
                ('last', models.IntegerField(default=-1, verbose_name='last index')),
            ],
            options={
                'verbose_name': 'status list counter',
                'verbose_name_plural': 'status list counters',
            },
        ),
        migrations.CreateModel(
            name='Credential',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.TextField(verbose_name='signed credential (VC-JWT)')),
                ('status_index', models.PositiveIntegerField(unique=True, verbose_name='status list index')),
                ('salt', models.CharField(max_length=64, verbose_name='identity hash salt')),
                ('key_id', models.CharField(max_length=255, verbose_name='signing key')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('certificate', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='credential', to='certificates.certificate', verbose_name='certificate')),
            ],
            options={
                'verbose_name': 'credential',
                'verbose_name_plural': 'credentials',
            },
        ),
    ]
