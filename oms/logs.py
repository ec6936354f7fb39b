"""Log records carry the correlation id and the actor (person, job or API client);
in production they are written as one JSON object per line."""

import json
import logging

from django.utils.functional import LazyObject

from oms import audit, correlation

# The mark oms.middleware.ActorMiddleware sets on a request once it has read who
# signed in.
USER_READ = "user_read"


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a request's outcome after the middleware has returned, so the
        # request itself (passed as `request`) is the fallback.
        request = getattr(record, "request", None)
        record.correlation_id = correlation.get() or getattr(request, "correlation_id", None) or "-"
        actor = audit.current_actor()
        user = getattr(request, "user", None)
        if isinstance(user, LazyObject) and not getattr(request, USER_READ, False):
            # The session's user, not read by the request (oms.middleware.ActorMiddleware
            # marks it once it has): reading it here would query the database, which may
            # be why this is logged.
            user = None
        if actor is not None:
            record.actor = str(actor)
        elif user is not None and user.is_authenticated:
            record.actor = user.get_username()
        else:
            record.actor = "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
            "actor": getattr(record, "actor", "-"),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)
