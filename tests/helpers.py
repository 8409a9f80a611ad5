"""Small helpers to talk to the API through Chalice's test client."""

from __future__ import annotations

import json
from typing import Any

JSON = {"Content-Type": "application/json"}


def post_user(client: Any, email: str, name: str = "Ada", key: str | None = None) -> Any:
    headers = dict(JSON, **({"Idempotency-Key": key} if key else {}))
    return client.http.post(
        "/users", headers=headers, body=json.dumps({"email": email, "name": name})
    )


def body(response: Any) -> Any:
    return json.loads(response.body)


def operation(client: Any, operation_id: str) -> dict[str, Any]:
    response = client.http.get(f"/operations/{operation_id}")
    assert response.status_code == 200, response.body
    return body(response)
