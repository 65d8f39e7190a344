"""Shared by the HTTP benchmarks: gunicorn on a tree (this one or another revision's), and a load generator.

``source_tree(ref)`` extracts a git revision (e.g. ``main``) into a temporary folder, so a benchmark can run
the code before a change and after it in the same run, against the same database. ``Gunicorn`` starts
``config.wsgi`` from a tree with N sync workers and waits until ``/livez`` answers. ``run_requests``
sends prepared requests with N concurrent clients (aiohttp: its C parser leaves the CPU to the server)
and returns the latencies; ``saturate`` hammers a set of URLs for some seconds and returns requests/s.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def source_tree(ref: str) -> Path:
    """The files of git revision ``ref`` in a new temporary folder (the shared virtualenv runs them)."""
    target = Path(tempfile.mkdtemp(prefix=f"gcio-{ref.replace('/', '-')}-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn config.wsgi`` from ``tree`` with ``workers`` sync workers on a free port."""

    def __init__(self, tree: Path, *, workers: int = 2, env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="gcio-gunicorn-")) / "gunicorn.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
        full_env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            PYTHONPATH=str(tree),
            DEBUG="0",
            SECRET_KEY=os.environ.get("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef"),
            ALLOWED_HOSTS="127.0.0.1",
            MEDIA_ROOT=str(self.log.parent / "media"),
            STATIC_ROOT=str(self.log.parent / "static"),
            # Shared by the workers, as deployed (throttles, sign-in failures, the content cache).
            CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
        )
        full_env.update(env or {})
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=tree, env=full_env, check=True
        )
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--backlog",
                "2048",
            ],
            cwd=tree,
            env=full_env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/livez", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-3000:]}") from None
                time.sleep(0.2)
        time.sleep(1.5)  # every worker booted

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)
        self._out.close()
        shutil.rmtree(self.log.parent, ignore_errors=True)

    def __enter__(self) -> "Gunicorn":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def run_requests(base: str, requests: list[tuple[str, str, dict, bytes | None]], *, users: int) -> list[float]:
    """Send every ``(method, path, headers, body)`` once, ``users`` at a time; latencies in ms.

    Raises when a response is not 2xx (a benchmark of failures measures nothing)."""

    async def go() -> list[float]:
        queue: asyncio.Queue = asyncio.Queue()
        for item in requests:
            queue.put_nowait(item)
        latencies: list[float] = []
        connector = aiohttp.TCPConnector(limit=users)
        async with aiohttp.ClientSession(base, connector=connector) as session:

            async def user() -> None:
                while not queue.empty():
                    method, path, headers, body = queue.get_nowait()
                    started = time.perf_counter()
                    async with session.request(method, path, headers=headers, data=body) as response:
                        text = await response.read()
                        if response.status >= 300:
                            raise RuntimeError(f"{method} {path}: {response.status} {text[:300]!r}")
                    latencies.append((time.perf_counter() - started) * 1000)

            await asyncio.gather(*(user() for _ in range(users)))
        return latencies

    return asyncio.run(go())


def saturate(base: str, paths: Sequence[str], *, users: int, seconds: float, headers: dict | None = None) -> float:
    """Requests/s over ``seconds`` with ``users`` clients looping over ``paths`` (2xx only counted; others raise)."""

    async def go() -> float:
        done = 0
        connector = aiohttp.TCPConnector(limit=users)
        async with aiohttp.ClientSession(base, connector=connector, headers=headers) as session:
            deadline = time.perf_counter() + seconds

            async def user(n: int) -> None:
                nonlocal done
                i = n
                while time.perf_counter() < deadline:
                    async with session.get(paths[i % len(paths)]) as response:
                        await response.read()
                        if response.status >= 300:
                            raise RuntimeError(f"GET {paths[i % len(paths)]}: {response.status}")
                    done += 1
                    i += users

            started = time.perf_counter()
            await asyncio.gather(*(user(n) for n in range(users)))
            return done / (time.perf_counter() - started)

    return asyncio.run(go())
