"""The terminal client of the running stack (`make demo`, `make executions`): HTTP only."""
