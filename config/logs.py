"""Logging helpers the settings' LOGGING refers to by dotted path."""

import logging


class ClientErrorsInOneLine(logging.Filter):
    """A 4xx answer (a missing page, a refused permission) is the client's mistake, not ours:
    its log record keeps its line but loses the traceback Django attaches (403 PermissionDenied,
    400 BadRequest). 5xx records keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


def logging_config(level: str) -> dict:
    """The settings' LOGGING: one plain console handler at `level` (LOG_LEVEL), quieter
    libraries, 4xx records without their tracebacks."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "filters": {"client_errors_in_one_line": {"()": "config.logs.ClientErrorsInOneLine"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["client_errors_in_one_line"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler (DEBUG) would print every 4xx a second time: its records
            # reach the root handler above.
            "django": {"handlers": [], "level": "INFO"},
            # nextcord is chatty at INFO about gateway internals; operators want our lines.
            "nextcord": {"level": "WARNING"},
            "django.db.backends": {"level": "INFO"},
            # urllib3 logs each request's full path at DEBUG: a webhook path carries a token.
            "urllib3": {"level": "WARNING"},
            # django-axes says INFO on every staff login; lockouts are WARNING.
            "axes": {"level": "WARNING"},
        },
    }
