"""The log file for support: rotating, under ``paths.log_dir()``, secrets redacted from every record."""

from __future__ import annotations

import logging
import sys

from epay_desktop.paths import LOG_FILE_NAME as LOG_FILE_NAME  # one name, kept by paths

LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 5


def setup_logging(level: int = logging.INFO) -> logging.Handler:
    """A rotating log file under ``paths.log_dir()`` for support, with secrets redacted from every
    record (``install_redaction`` on the root logger and on each of its handlers). Returns the file
    handler (``close_logging`` removes it)."""
    from logging.handlers import RotatingFileHandler

    from epay_desktop import paths
    from epay_desktop.api import install_redaction

    handler = RotatingFileHandler(
        paths.log_file(), maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if not any(getattr(h, "_epay_console", False) for h in root.handlers):
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console._epay_console = True  # type: ignore[attr-defined]
        root.addHandler(console)
    handler._epay_previous_level = root.level  # type: ignore[attr-defined]  # close_logging restores it
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    # One line per HTTP request would bury what support needs; warnings and errors still get through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_redaction()  # after the handlers exist: the filter goes on each of them
    return handler


def close_logging(handler: logging.Handler) -> None:
    root = logging.getLogger()
    root.removeHandler(handler)
    handler.close()
    root.setLevel(getattr(handler, "_epay_previous_level", root.level))
    for console in [h for h in root.handlers if getattr(h, "_epay_console", False)]:
        root.removeHandler(console)
