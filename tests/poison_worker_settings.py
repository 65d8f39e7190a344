"""Worker settings for the poison-message test: issuing for a holder named "Racun…" SIGKILLs the pool child.

Test-only, so production code carries no test hook: a real worker started with
DJANGO_SETTINGS_MODULE=tests.poison_worker_settings wraps the PDF renderer in each pool process.
"""

import os
import signal

from celery.signals import worker_process_init

from config.settings import *  # noqa: F403

# Set aside after three unfinished deliveries (the default is twelve), so the test stays short.
CERTIFICATES_MAX_DELIVERIES = 3

POISON_MARKER = "Racun"


@worker_process_init.connect
def render_kills_the_process_for_poison(**kwargs) -> None:
    """In each freshly forked pool process: rendering a poison holder's PDF kills that process outright,
    as a crash in a native library would (no exception, no clean-up, no acknowledgement)."""
    from certificates import services

    render = services.render_sealed_certificate

    def render_or_die(content, **kwargs):
        if content.holder_name.startswith(POISON_MARKER):
            os.kill(os.getpid(), signal.SIGKILL)
        return render(content, **kwargs)

    services.render_sealed_certificate = render_or_die
