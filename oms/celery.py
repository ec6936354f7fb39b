"""The Celery application. Without a broker URL it uses the embedded broker (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

# Every task retries broker, Redis and database connection errors (oms.retry).
app = Celery("oms", task_cls="oms.retry:RetryOnOutage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
