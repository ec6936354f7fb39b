"""Test settings: the real settings, with DEBUG allowed on for the local key and fast
password hashing. DATABASE_URL and CELERY_BROKER_URL/REDIS_URL still choose the
database and broker, so CI runs the same suite against PostgreSQL and Redis."""

import os

os.environ.setdefault("DEBUG", "true")

from oms.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests call tasks in-process unless a test starts a worker against the broker itself.
CELERY_TASK_ALWAYS_EAGER = True
OMS_TEST_BROKER_URL = CELERY_BROKER_URL  # noqa: F405
# The relay runs when a test runs it (tests/oms/test_relay.py), not after every commit.
OMS_RELAY_KICK = False
# Serve static files from the apps' folders, as runserver does, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests make many unauthenticated API calls from one address in a minute.
OMS_API_ANON_THROTTLE_RATE = "100000/min"
