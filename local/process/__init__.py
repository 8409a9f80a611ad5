"""The local stack's process: what `make run` is asked for (options) and one run of it."""
