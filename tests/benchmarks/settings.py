"""Settings for the benchmarks: the real settings, plus the bare Django floor views."""

from oms.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.urls"

# The phases run their tasks in process (an allocation run asked for is executed by the
# phase that asks, and timed there), never through a broker.
CELERY_TASK_ALWAYS_EAGER = True
