"""The load benchmark, short: 10 participants for a few seconds against gunicorn must see zero errors.

Speed is not asserted here (that is bench/load.py's job, with its 60-second run); this proves the
load script and the deployed web process keep working together.
"""

import subprocess
import sys

import pytest
from django.db import connection

from tests.processes import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_a_short_load_run_has_no_errors(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the load run uses PostgreSQL")
    result = subprocess.run(
        [sys.executable, "bench/load.py", "--users", "10", "--duration", "6", "--saturate", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "errors: 0" in result.stdout
    assert "POST quiz submit" in result.stdout and "GET verify" in result.stdout
