"""Settings of the verification benchmark's web server: the project's, with the bench URLconf."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.verification_urls"
