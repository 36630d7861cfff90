"""Log records on stderr, as text or as JSON (one object a line), at the level the options say.

Every command logs through one handler on the root logger (``configure``), Scrapy's loggers
too: the crawl is told not to install a handler of its own. Celery's worker and beat set up
their own handlers; with ``LOG_JSON`` the ``workers.celery`` app gives those handlers
``JsonFormatter`` (``use_json``), and ``newsdesk serve`` hands uvicorn's loggers to the root
handler.

A JSON record holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the
``exception`` text when there is one, and every ``extra`` field the call passed.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from workers.errors import ConfigurationError

# Scrapy's own format (its LOG_FORMAT), so a crawl's text logs look as Scrapy's always did.
TEXT_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"

# What every record has; any other attribute came from a call's ``extra``. uvicorn adds
# ``color_message``, the message again with terminal colours, which a JSON line does not need.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object a record: time, level, logger, message, exception and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        # An extra field that JSON cannot hold (Scrapy passes the spider) is written as text.
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record.

    The live progress display of a crawl stands in for ``sys.stderr`` while it runs, so log
    lines print above it instead of through it.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # always the current sys.stderr


def level_name(verbose: int, quiet: bool, default: str) -> str:
    """The level of ``-q`` (ERROR), ``-v`` (INFO) or ``-vv`` (DEBUG), else ``default``.

    ``-v`` never makes a more verbose ``default`` (``LOG_LEVEL=DEBUG``) less verbose.
    """
    levels = logging.getLevelNamesMapping()
    if default.upper() not in levels:
        raise ConfigurationError(f"LOG_LEVEL is {default!r}, not one of {', '.join(levels)}")
    if quiet:
        return "ERROR"
    wanted = {0: default, 1: "INFO"}.get(verbose, "DEBUG").upper()
    return logging.getLevelName(min(levels[wanted], levels[default.upper()]))


def configure(level: str, *, json_lines: bool) -> None:
    """Send every log record at ``level`` or above to stderr, as text or as JSON lines."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    handler.setLevel(level.upper())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Python's warnings become log records too, so that JSON logs hold nothing else.
    logging.captureWarnings(True)


def release() -> None:
    """Remove the handler ``configure`` installed, for a program that sets up its own (Celery)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)


def use_json(logger: logging.Logger) -> None:
    """Make every handler of ``logger`` write JSON lines (Celery's, after it set them up)."""
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
