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
