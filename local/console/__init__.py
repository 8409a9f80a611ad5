"""The local console: executions drawn from the real ASL, their steps and Lambda log lines,
the stream, the on-failure queue and the tables, at http://127.0.0.1:8000/_local/ ; and its
JSON API under /_local/api/, which the terminal client reads too."""
