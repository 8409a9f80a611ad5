"""The local console: executions drawn from the real ASL, their steps and Lambda log lines,
the stream, the on-failure queue and the tables, at http://127.0.0.1:8000/_local/ ."""

from local.webconsole.http import PREFIX, Console
from local.webconsole.logbook import LogBook

__all__ = ["PREFIX", "Console", "LogBook"]
