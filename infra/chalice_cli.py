"""Chalice's command line, told the names infra/definition.py derives.

.chalice/config.json names the app once (`app_name`) and no resource: this runs Chalice's own
command line with each stage's environment completed by `stage_environment()` (APP_NAME, the
tables, the stream, the state machine, the topic), so that `chalice package` writes them into
every function's environment, `chalice deploy` sets them on the functions it deploys and
`chalice local` runs the app with them; and so that app.py, which Chalice imports with a
stage's environment, subscribes the starter to the stage's own stream.

    python -m infra.chalice_cli [chalice options] <command> ...   (make package, make
    chalice-deploy, make chalice-local)
"""

from __future__ import annotations

import sys
from typing import Any

import chalice.cli
from chalice.cli.factory import CLIFactory

from infra.definition import stage_environment


def with_stage_environments(config: dict[str, Any]) -> dict[str, Any]:
    """A Chalice config whose every stage states its whole environment (stage_environment)."""
    stages = {
        stage: {**settings, "environment_variables": stage_environment(stage)}
        for stage, settings in config.get("stages", {}).items()
    }
    return {**config, "stages": stages}


class DerivedNamesFactory(CLIFactory):
    """Chalice's factory, reading the project's config with the derived names in it."""

    def load_project_config(self) -> dict[str, Any]:
        return with_stage_environments(super().load_project_config())


def main() -> int:
    # Chalice's command group builds its factory from this module attribute.
    chalice.cli.CLIFactory = DerivedNamesFactory  # type: ignore[attr-defined]
    return chalice.cli.main()


if __name__ == "__main__":
    sys.exit(main())
