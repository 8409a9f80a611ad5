"""The app's Lambda functions, as `chalice package` names them: derived from app.py."""

from __future__ import annotations

import importlib
import sys

from chalice import Chalice
from chalice.utils import to_cfn_resource_name

from infra.definition import ROOT

# Chalice serves every route from one function, which its template calls APIHandler.
API_HANDLER = "api_handler"
API_HANDLER_LOGICAL_ID = "APIHandler"


def load_app() -> Chalice:
    """app.py's Chalice app. Which functions it has does not depend on the stage."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    app: Chalice = importlib.import_module("app").app
    return app


def logical_ids(app: Chalice) -> dict[str, str]:
    """Chalice name -> CloudFormation logical id, for every function the app deploys."""
    views = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    found = {name: to_cfn_resource_name(name) for name in app.handler_map if name not in views}
    if app.routes:
        found[API_HANDLER] = API_HANDLER_LOGICAL_ID
    return found
