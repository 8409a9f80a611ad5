"""moto's Step Functions parser without moto's EC2 models.

The parser imports `moto.batch.utils` (for JobStatus, in its Batch integration), and importing
a module imports its package first: `moto/batch/__init__.py` imports Batch's models, which
import EC2's, which load botocore's EC2 model three times. That is about a second of CPU (of a
stack's three to start) for an integration the workflow does not use. So the two modules of
the package the parser needs, `moto.batch.exceptions` and `moto.batch.utils` (which imports
only the first from its package), are loaded from their files under their own names, ahead
of the package: an import of them then finds them loaded and imports nothing else. Whoever
imports `moto.batch` itself (a Batch call, `submitJob.sync`) gets the whole package as
before, these same two modules in it. Nothing of moto's is replaced: where moto has moved
them, or the package is imported already, this does nothing and the parser imports as it
always did (slower, not wrong).

Applied when local.patches is first imported (local/patches/__init__.py), before the
registry imports the parser; the registry's check() stops the stack, as for any patch, when
moto no longer has these modules where this loads them from.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

PACKAGE = "moto.batch"
AHEAD = ("moto.batch.exceptions", "moto.batch.utils")  # in import order


def _where() -> list[str]:
    spec = importlib.util.find_spec("moto")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [str(Path(location) / "batch") for location in spec.submodule_search_locations]


def missing() -> list[str]:
    """The modules to load ahead that the installed moto no longer has where this expects
    them (the registry's check() names them: the preload would do nothing)."""
    where = _where()
    return [name for name in AHEAD if importlib.machinery.PathFinder.find_spec(name, where) is None]


def load_ahead() -> None:
    if PACKAGE in sys.modules or all(name in sys.modules for name in AHEAD):
        return
    where = _where()
    for name in AHEAD:
        if name in sys.modules:
            continue
        found = importlib.machinery.PathFinder.find_spec(name, where)
        if found is None or found.loader is None:
            return
        module = importlib.util.module_from_spec(found)
        sys.modules[name] = module
        try:
            found.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
