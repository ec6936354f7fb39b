#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    # manage.py is the developer's tool: DEBUG unless told otherwise. The web server
    # (oms.wsgi) and the Celery processes keep DEBUG off unless DEBUG=true is set.
    os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
