"""bench/load.py's accounting: every failed request is an error, also when it never got a response."""

import asyncio
import importlib.util
import math

import pytest

from tests.processes import ROOT, free_port


@pytest.fixture(scope="module")
def load():
    """bench/load.py as a module (it is a script, not a package; importing it sets nothing up)."""
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def refused_calls(load, recorder, name: str, times: int) -> None:
    """Requests to a port nobody listens on: they fail at the connection, with no status and no latency."""

    async def run():
        async with load.session(f"http://127.0.0.1:{free_port()}") as client:
            for _ in range(times):
                assert await recorder.call(client, name, "GET", "/api/v1/verify/X/") is None

    asyncio.run(run())


def test_an_endpoint_whose_every_request_failed_to_connect_is_reported_and_counted(load, capsys):
    recorder = load.Recorder()
    recorder.latencies["GET lesson"] += [0.010, 0.020, 0.030]
    recorder.errors["GET lesson"].append("500 b'oops'")
    refused_calls(load, recorder, "GET verify", 3)
    assert "GET verify" not in recorder.latencies
    assert len(recorder.errors["GET verify"]) == 3
    assert all("ClientConnectorError" in message for message in recorder.errors["GET verify"])

    assert load.report(recorder, 1.0) == 4
    rows = {line[:24].strip(): line[24:].split() for line in capsys.readouterr().out.splitlines()[1:3]}
    assert rows["GET lesson"] == ["3.0", "20.0", "30.0", "30.0", "1"]
    assert rows["GET verify"] == ["0.0", "nan", "nan", "nan", "3"]


def test_the_run_fails_when_any_request_failed(load, capsys):
    clean, failed = load.Recorder(), load.Recorder()
    clean.latencies["GET trivial (/livez)"].append(0.001)
    assert load.summary(clean) == 0
    assert capsys.readouterr().out == "errors: 0\n"
    refused_calls(load, failed, "verify", 2)  # the saturation phase's own recorder
    assert load.summary(clean, failed) == 1
    assert capsys.readouterr().out == "errors: 2\n"


def test_percentiles_of_no_requests_are_not_a_number(load):
    assert math.isnan(load.percentile([], 95))
    assert load.percentile([0.001, 0.002, 0.003, 0.004], 50) == pytest.approx(3.0)
