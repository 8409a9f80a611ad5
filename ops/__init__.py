"""Operator commands against a stage: `make replay` (the archive, through the replay stream)
and `make redrive` (the on-failure queue). They run on an operator's machine, never in Lambda.
"""
