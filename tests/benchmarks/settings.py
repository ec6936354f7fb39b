"""Settings for the API benchmark: the real settings, plus the bare Django floor views."""

from oms.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.urls"
