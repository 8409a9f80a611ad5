import json


def test_happy_path(stack):
    response = stack.client.http.post(
        "/users",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"email": "ada@example.org", "name": "Ada"}),
    )
    print(response.status_code, response.headers, response.body)
    assert response.status_code == 202
    stack.drain()
    location = response.headers["Location"]
    got = stack.client.http.get(location)
    print(got.body)
    assert json.loads(got.body)["status"] == "SUCCEEDED"
