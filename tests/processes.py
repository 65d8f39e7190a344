"""Real processes for integration tests: Celery workers (and gunicorn/beat) against the test database."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import redis
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BROKER_URL = os.environ.get("TEST_BROKER_URL") or os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
if not BROKER_URL.startswith("redis"):
    BROKER_URL = "redis://127.0.0.1:6379/15"


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def flush_broker() -> None:
    redis.Redis.from_url(BROKER_URL).flushdb()


def use_broker(url: str) -> None:
    """Point this process's Celery app at ``url``, dropping connections to the previous broker."""
    from config.celery import app

    app.conf.broker_url = url
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def tasks_to_redis():
    """Publish this process's tasks to Redis for a worker process, instead of running them in-process."""
    from config.celery import app

    flush_broker()
    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    use_broker(BROKER_URL)
    try:
        yield
    finally:
        app.conf.task_always_eager = saved[0]
        use_broker(saved[1])
        flush_broker()


def media_root(log_dir: Path) -> Path:
    """Where processes started with ``log_dir`` keep their files (certificate PDFs): the test's own folder."""
    return log_dir / "media"


def process_storage(log_dir: Path):
    """The storage the processes started with ``log_dir`` write to, for a test that reads what they wrote.

    The test process itself stores in memory (config.test_settings), so a file a worker wrote is found
    only through this storage, not through ``certificate.pdf``.
    """
    from django.core.files.storage import FileSystemStorage

    return FileSystemStorage(location=media_root(log_dir))


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a real process; ``extra`` must name a MEDIA_ROOT outside the repository."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=BROKER_URL,
        PYTHONUNBUFFERED="1",
        # The celery script's own folder heads sys.path, not the repository: this makes a test-only
        # settings module (DJANGO_SETTINGS_MODULE=tests.…) importable in the process.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    # The keys the embedded default creates (the credentials' signing key): the test run's folder, so a
    # worker signs with the key the test process publishes.
    from django.conf import settings

    if getattr(settings, "CERTIFICATES_KEY_DIR", ""):
        env["CERTIFICATES_KEY_DIR"] = str(settings.CERTIFICATES_KEY_DIR)
    env.update(extra)
    # Without it, config.settings stores into the repository's own media/ and every run leaves PDFs there.
    media = extra.get("MEDIA_ROOT")
    if not media or Path(media).resolve() == (ROOT / "media").resolve():
        raise ValueError(f"give test processes a temporary MEDIA_ROOT, not {media or ROOT / 'media'}")
    return env


class Process:
    """A child process writing straight to a log file (no pipe a busy test could leave undrained)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(encoding="utf-8", errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"process exited ({self.proc.returncode}):\n{''.join(self.lines[-40:])}")
            time.sleep(0.1)
        raise TimeoutError(f"'{text}' not seen in {timeout}s:\n{''.join(self.lines[-40:])}")

    def children(self) -> list[int]:
        """The pids of this process's children (a prefork worker's pool processes), from /proc."""
        return child_pids(self.proc.pid)

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, no message acknowledged."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(log_dir: Path, *, name: str = "w1", concurrency: int = 1, pool: str = "solo", **env: str) -> Process:
    args = [
        str(BIN / "celery"), "-A", "config", "worker", "--loglevel=INFO", f"--pool={pool}",
        f"--concurrency={concurrency}", f"--hostname={name}@%h", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    env.setdefault("MEDIA_ROOT", str(media_root(log_dir)))
    worker = Process(args, process_env(**env), log_dir / f"worker-{name}.log")
    worker.wait_for("ready.")
    return worker


def child_pids(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (Linux /proc; psutil is not a dependency)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # the command name may hold spaces
        except (OSError, IndexError):
            continue  # exited meanwhile
        if fields[0] != "Z" and int(fields[1]) == pid:  # state, then parent pid; zombies are gone
            found.append(int(stat.parent.name))
    return sorted(found)


def wait_until(predicate, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def compose_command(service: str) -> str:
    """The shell command docker-compose.yml runs for ``service`` (``$$`` unescaped for a plain shell)."""
    import yaml

    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = spec["services"][service]["command"]
    if isinstance(command, list):
        import shlex

        command = shlex.join(command)
    return command.replace("$$", "$")


def start_compose_service(service: str, log_dir: Path, ready: str, **env: str) -> Process:
    """Run a docker-compose service's own command as a local process (no Docker engine needed)."""
    env.setdefault("MEDIA_ROOT", str(media_root(log_dir)))
    environment = process_env(**env)
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    process = Process(["sh", "-c", compose_command(service)], environment, log_dir / f"{service}.log")
    process.wait_for(ready, timeout=120)
    return process


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
