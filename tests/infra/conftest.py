"""Each stage packaged once per test run, for every test of the packaged stack."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from infra import package


@pytest.fixture(scope="session")
def packaged_stage(tmp_path_factory, worker_id) -> Callable[[str], Path]:
    """`make package` of a stage in a directory of the run's own: its sam.json (deployment.zip
    and the rest beside it). Packaging is pure (the same tree gives the same files) and takes
    seconds, so the first of pytest-xdist's workers to ask builds it and the others wait for
    it and read the same files. Read them; do not change them."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the run's directory, shared by its workers

    def packaged(stage: str) -> Path:
        out = root / f"packaged-{stage}"
        done = out / ".packaged"
        with FileLock(f"{out}.lock"):
            if not done.exists():
                package.package(stage, out, wheels())
                done.touch()
        return out / "sam.json"

    def wheels() -> Path:
        """The runtime's wheels, the same for every stage: downloaded once (a pip process,
        ~0.85 s of CPU)."""
        out = root / "wheels"
        done = out / ".downloaded"
        with FileLock(f"{out}.lock"):
            if not done.exists():
                package.download_wheels(out)
                done.touch()
        return out

    return packaged
