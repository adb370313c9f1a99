"""The production settings plus one bench-only URL (the baseline view). Never deployed: only the
benchmark starts gunicorn with DJANGO_SETTINGS_MODULE=bench.settings."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
