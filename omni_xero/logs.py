"""Log lines: one JSON object a line in production (LOG_FORMAT=json), each carrying the
request ID of the request or job it was written for; and the middleware that gives every
request its ID."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from sync import request_id

HEADER = "X-Request-ID"


class RequestIdFilter(logging.Filter):
    """Puts the request ID in force on every record (`%(request_id)s` in the text format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current()
        return True


HEARTBEAT_TASK = "path=sync.tasks.heartbeat "


class HeartbeatQuiet(logging.Filter):
    """Leaves out the task worker's lines about the heartbeat task (the scheduler queues one
    every 20 seconds for /health/): they would bury the lines about real work."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("django.tasks") and HEARTBEAT_TASK in record.getMessage()
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC, ISO 8601), level, logger,
    message, request_id, and exc_info as the formatted traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.current(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class RequestIdMiddleware:
    """Gives every request an ID: the caller's X-Request-ID when it is sane (a proxy's or a
    load balancer's, to follow one request across them), else a new one. It is in force
    until the request is finished, and goes back in the response's X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_id.from_header(request.headers.get(HEADER))
        request_id.begin(value)
        response = self.get_response(request)
        response[HEADER] = value
        return response


# Until the response is closed, so that Django's own line for a 404 or a 500 carries it.
request_finished.connect(request_id.end, dispatch_uid="request_id_end")
