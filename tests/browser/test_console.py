"""The local console and the reviewer page in a real browser: users created through the API,
seen live in the list, an execution opened, its path found on the graph, a state selected with
the keyboard and its log lines read; the system page; the page at a laptop's width; the
picture in docs/operators.md. The reviewer page (/review/): signing in (a first sign-in's new
password too), approving and rejecting, paging, a decision another reviewer took first (409),
signing out.

The stack is shared with the other modules that take `local_stack`: the users here are the
module's own (unique emails, but for the screenshot's), what is asserted of a list is asserted
of them, and no review is left waiting.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from infra.definition import api_stage, app_name, resource_name
from local.console.model import choice_label
from tests.browser.conftest import WINDOW, require_browser
from tests.builders import unique_email
from tests.local_stack_process import wait_until
from tests.workflow_paths import NO_REVIEW, REVIEW_CHOICE, STATES, reviewed, succeeded
from tests.workflow_paths import REVIEW_WAIT as AWAIT

require_browser()
pytestmark = pytest.mark.browser
# The state that concludes a review, however the wait ended.
CONCLUDE = STATES[AWAIT]["Next"]


def _wait(driver, condition, timeout: float = 15):
    # The page re-renders as it polls: an element found a moment ago may have been replaced.
    return WebDriverWait(
        driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
    ).until(condition)


def _listed(driver) -> list[str]:
    """The operation ids in the executions table, read in one go."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#executions tr[data-operation]')]"
        ".map(row => row.dataset.operation)"
    )


def _css(driver, selector: str):
    return driver.find_elements(By.CSS_SELECTOR, selector)


# The emails of the module's operations: the one the screenshot shows (docs/console.png) is a
# name; a reviewer rejects it, so it is never registered and may be used again.
EMAILS = {
    "approved": unique_email(),
    "rejected": unique_email("example.test"),  # a reserved domain: refused
    "reviewed": "mallory@review.example.org",
}


@pytest.fixture(scope="module")
def operations(local_stack) -> dict[str, str]:
    """An approved user, a rejected one (reserved .test domain) and one a reviewer rejected
    (through the API), all done."""
    created = {}
    for name, email in EMAILS.items():
        accepted = local_stack.create_user(email)
        assert accepted.status_code == 202
        created[name] = accepted.json()["id"]
    _awaiting_review(local_stack, created["reviewed"])
    decided = local_stack.decide(
        created["reviewed"], {"decision": "reject", "reason": "an impersonation"}
    )
    assert decided.status_code == 200, decided.text
    for operation_id in created.values():
        local_stack.wait_ended(operation_id)
    return created


def _open_execution(driver, local_stack, operation_id: str) -> None:
    driver.get(f"{local_stack.api}/_local/#/executions/{operation_id}")
    _wait(driver, lambda d: _css(d, f"g.node[data-state='{succeeded()[0]}']"))
    _wait(driver, lambda d: "…" not in d.find_element(By.ID, "operation-outcome").text)


def _node(driver, state: str):
    return driver.find_element(By.CSS_SELECTOR, f"g.node[data-state='{state}']")


def _details(driver) -> str:
    return driver.find_element(By.ID, "state-details").text


def test_new_executions_appear_in_the_list_without_a_reload(driver, local_stack):
    driver.get(f"{local_stack.api}/_local/")
    _wait(driver, lambda d: d.find_element(By.ID, "updated").text)
    driver.execute_script("window.sameDocument = true")
    email = unique_email()
    accepted = local_stack.create_user(email).json()["id"]
    row = f"#executions tr[data-operation='{accepted}']"
    _wait(driver, lambda d: _css(d, row))
    assert driver.execute_script("return window.sameDocument") is True
    _wait(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "SUCCEEDED",
    )
    cells = driver.find_element(By.CSS_SELECTOR, row).text
    assert "succeeded" in cells and email in cells and " ms" in cells


def test_executions_are_newest_first_filtered_by_status_and_searched(
    driver, local_stack, operations
):
    driver.get(f"{local_stack.api}/_local/")
    _wait(driver, lambda d: set(operations.values()) <= set(_listed(d)))
    listed = _listed(driver)
    assert listed.index(operations["rejected"]) < listed.index(operations["approved"])
    # Each row leads with the operation's outcome, then its execution's status: the refused
    # user's workflow ran to its end.
    rejected = driver.find_element(
        By.CSS_SELECTOR, f"tr[data-operation='{operations['rejected']}']"
    )
    outcome, execution = (cell.text for cell in rejected.find_elements(By.TAG_NAME, "td")[:2])
    assert (outcome, execution) == ("✗ failed USER_REJECTED", "✓ succeeded")

    search = driver.find_element(By.ID, "search")
    search.send_keys(operations["approved"][:8])
    _wait(driver, lambda d: _listed(d) == [operations["approved"]])
    search.clear()
    search.send_keys(EMAILS["rejected"])
    _wait(driver, lambda d: _listed(d) == [operations["rejected"]])
    # Its execution succeeded (the workflow recorded the refusal): not a FAILED one.
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("FAILED")
    _wait(driver, lambda d: "No execution matches." in d.find_element(By.ID, "executions").text)
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("")
    _wait(driver, lambda d: _listed(d) == [operations["rejected"]])
    search.clear()
    search.send_keys(Keys.BACKSPACE)
    _wait(driver, lambda d: set(operations.values()) <= set(_listed(d)))


def test_the_graph_draws_every_state_and_marks_the_path_taken(driver, local_stack, operations):
    driver.get(f"{local_stack.api}/_local/")
    link = f"#executions tr[data-operation='{operations['rejected']}'] a"
    _wait(driver, lambda d: _css(d, link))
    driver.find_element(By.CSS_SELECTOR, link).click()
    _wait(driver, lambda d: _css(d, f"g.node[data-state='{NO_REVIEW}']"))

    drawn = {n.get_attribute("data-state") for n in _css(driver, "g.node")}
    assert drawn == set(STATES) | {"__start__", "__end__"}
    taken = succeeded()
    for state in taken:  # in colour (the class) and in words (the text)
        node = _node(driver, state)
        assert "status-succeeded" in node.get_attribute("class").split(), state
        assert "✓ succeeded" in node.text, state
    for state in set(STATES) - set(taken):
        node = _node(driver, state)
        assert "status-not-reached" in node.get_attribute("class").split(), state
        assert "not reached" in node.text, state
    edges = {
        (e.get_attribute("data-from"), e.get_attribute("data-to"))
        for e in _css(driver, "path.edge.taken")
    }
    assert edges == set(itertools.pairwise(["__start__", *taken, "__end__"]))
    (choice,) = _css(driver, f"path.edge.kind-choice[data-from='{REVIEW_CHOICE}']")
    assert choice.get_attribute("data-to") == AWAIT
    (rule,) = STATES[REVIEW_CHOICE]["Choices"]
    title = choice.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert choice_label(rule) in title and "{%" not in title
    catch_edges = _css(driver, "path.edge.kind-catch")
    assert len(catch_edges) == sum(len(s.get("Catch", [])) for s in STATES.values())
    header = driver.find_element(By.CSS_SELECTOR, ".execution-header").text
    assert "FAILED · USER_REJECTED" in header  # the operation, from GET /operations/{id}


def test_a_state_selected_with_the_keyboard_shows_its_details_and_log_lines(
    driver, local_stack, operations
):
    _open_execution(driver, local_stack, operations["rejected"])
    approve = _node(driver, "ApproveUser")
    driver.execute_script("arguments[0].focus()", approve)
    assert driver.switch_to.active_element == approve
    approve.send_keys(Keys.ENTER)
    _wait(driver, lambda d: _details(d).startswith("ApproveUser"))
    assert approve.get_attribute("aria-pressed") == "true"
    details = _details(driver)
    assert "user rejected" in details  # the app's log line, written during this state
    assert "chalicelib.services.steps" in details
    assert "lambda:invoke" in details and "Attempts" in details
    assert "ASSIGNED VARIABLES\nnone" in details  # beside its input and output (CSS capitals)

    create = _node(driver, "CreateUser")
    create.send_keys(Keys.SPACE)
    _wait(driver, lambda d: _details(d).startswith("CreateUser"))
    assert "user created" in _details(driver)
    assert operations["rejected"] in _details(driver)  # its input
    # The variables it assigned: the request, kept for the states after it.
    (assigned,) = _css(driver, "#state-details dl.variables")
    names = [dt.text for dt in assigned.find_elements(By.TAG_NAME, "dt")]
    (value,) = [dd.text for dd in assigned.find_elements(By.TAG_NAME, "dd")]
    assert names == ["$request"]
    assert operations["rejected"] in value and EMAILS["rejected"] in value

    _node(driver, "__start__").click()
    _wait(driver, lambda d: _details(d).startswith("Start"))
    assert "operation accepted" in _details(driver)  # the API's line, before any state

    _node(driver, AWAIT).send_keys(Keys.ENTER)
    _wait(driver, lambda d: "did not reach this state" in _details(d))


def test_the_execution_links_to_its_operation_and_user(driver, local_stack, operations):
    _open_execution(driver, local_stack, operations["approved"])
    header = driver.find_element(By.CSS_SELECTOR, ".execution-header")
    links = {a.text: a.get_attribute("href") for a in header.find_elements(By.TAG_NAME, "a")}
    operation_url = f"{local_stack.api}/operations/{operations['approved']}"
    assert operation_url in links.values()
    (user_url,) = [href for href in links.values() if "/users/" in href]
    user = requests.get(user_url, timeout=10).json()
    assert user["email"] == EMAILS["approved"] and user["status"] == "ACTIVE"
    operation = requests.get(operation_url, timeout=10).json()
    assert operation["result"]["user"]["id"] == user["id"]
    events = driver.find_element(By.CSS_SELECTOR, ".events-table").text
    assert "ExecutionStarted" in events and "ExecutionSucceeded" in events


def _review_token(local_stack, operation_id: str) -> str:
    """The task token the stack stored for a review (read from its table, as only a
    decision does)."""
    item = local_stack.aws("dynamodb").get_item(
        TableName=resource_name("local", "reviews"), Key={"pk": {"S": operation_id}}
    )["Item"]
    return item["taskToken"]["S"]


def _review_row(driver, operation_id: str):
    return driver.find_element(By.CSS_SELECTOR, f"#reviews tr[data-operation='{operation_id}']")


def _sign_in(driver, local_stack, username: str = "reviewer", password: str | None = None):
    """Signs in on the reviewer page with the keyboard alone: type, Tab, type, Enter."""
    driver.get(f"{local_stack.api}/review/")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    user = _wait(driver, lambda d: d.find_element(By.ID, "username"))
    assert driver.switch_to.active_element == user  # focused, ready to type
    user.send_keys(username)
    user.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(password or local_stack.reviewer_password, Keys.ENTER)


def _signed_in(driver) -> None:
    _wait(driver, lambda d: "Signed in as" in d.find_element(By.ID, "who").text)
    _wait(driver, lambda d: d.find_element(By.ID, "summary").text)


def _page_row(driver, operation_id: str):
    return driver.find_element(By.CSS_SELECTOR, f"#reviews tr[data-operation='{operation_id}']")


def _outcome(driver, operation_id: str) -> str:
    return _page_row(driver, operation_id).find_element(By.CSS_SELECTOR, ".outcome").text


def test_a_reviewer_signs_in_on_the_reviewer_page_and_decides_two_sign_ups(driver, local_stack):
    waiting, emails = {}, {}
    for name in ("approve", "reject"):
        emails[name] = unique_email("review.example.org")
        accepted = local_stack.create_user(emails[name])
        assert accepted.status_code == 202
        waiting[name] = accepted.json()["id"]
    tokens = {name: _review_token_when_stored(local_stack, op) for name, op in waiting.items()}
    _waits_on_the_graph(driver, local_stack, waiting["approve"], tokens)

    # The console's reviews tab: what the topic sent, and the way to the reviewer page.
    tab = driver.find_element(By.ID, "reviews-tab")
    _wait(driver, lambda d: tab.is_displayed())
    tab.click()
    for operation_id in waiting.values():
        _wait(driver, lambda d, op=operation_id: op in d.find_element(By.ID, "notifications").text)
    assert emails["approve"].split("@")[0] not in driver.find_element(By.ID, "notifications").text
    driver.find_element(By.ID, "reviewer-page").click()
    _wait(driver, lambda d: d.current_url == f"{local_stack.api}/review/")

    _sign_in(driver, local_stack)
    _signed_in(driver)
    assert "Signed in as reviewer" in driver.find_element(By.ID, "who").text
    for operation_id in waiting.values():
        _wait(driver, lambda d, op=operation_id: _page_row(d, op))
    listed = driver.find_element(By.ID, "reviews").text
    assert emails["approve"] in listed and emails["reject"] in listed
    assert not [token for token in tokens.values() if token in driver.page_source]
    # The ID token is in the tab's sessionStorage, never in the address.
    stored = driver.execute_script("return sessionStorage.getItem('reviewer-id-token')")
    assert stored and stored not in driver.current_url

    _page_row(driver, waiting["approve"]).find_element(By.CSS_SELECTOR, "button.approve").click()
    _wait(driver, lambda d: "Approved by reviewer" in _outcome(d, waiting["approve"]))
    rejecting = _page_row(driver, waiting["reject"])
    rejecting.find_element(By.CSS_SELECTOR, "button.reject").click()  # no reason yet
    _wait(driver, lambda d: "Give a reason to reject." in _outcome(d, waiting["reject"]))
    reason = rejecting.find_element(By.CSS_SELECTOR, "input")
    assert driver.switch_to.active_element == reason
    reason.send_keys("not a real person")
    rejecting.find_element(By.CSS_SELECTOR, "button.reject").click()
    _wait(driver, lambda d: "Rejected by reviewer" in _outcome(d, waiting["reject"]))
    assert "not a real person" in _outcome(driver, waiting["reject"])

    approved = local_stack.wait_done(waiting["approve"])
    assert approved["status"] == "SUCCEEDED"
    rejected = local_stack.wait_done(waiting["reject"])
    assert rejected["status"] == "FAILED"
    assert rejected["error"]["code"] == "USER_REJECTED"
    assert "not a real person" in rejected["error"]["message"]
    # The page with nothing to review: no test leaves a review waiting on the shared stack
    # (tests/conftest.py: local_stack).
    driver.find_element(By.ID, "refresh").click()
    _wait(driver, lambda d: not _css(d, "#reviews tr[data-operation]"))
    assert "No review is waiting." in driver.find_element(By.ID, "reviews").text

    _went_the_review_s_way(driver, local_stack, waiting, tokens)


def _waits_on_the_graph(driver, local_stack, operation_id: str, tokens: dict[str, str]) -> None:
    """The execution waits for a person, on the graph and in the operation."""
    _open_execution(driver, local_stack, operation_id)
    _wait(driver, lambda d: "status-waiting" in _node(d, AWAIT).get_attribute("class").split())
    assert "waiting" in _node(driver, AWAIT).text
    for state in (CONCLUDE, "__end__"):
        assert "status-not-reached" in _node(driver, state).get_attribute("class").split()
    header = driver.find_element(By.CSS_SELECTOR, ".execution-header").text
    assert "RUNNING · AWAITING_REVIEW" in header
    assert "waiting for a reviewer until" in header
    _node(driver, AWAIT).click()
    _wait(driver, lambda d: _details(d).startswith(AWAIT))
    assert not [token for token in tokens.values() if token in driver.page_source]


def _went_the_review_s_way(driver, local_stack, waiting: dict[str, str], tokens: dict[str, str]):
    """Each execution went the review's way to its end; the console says who decided."""
    path = reviewed()
    for name, outcome, decided in (
        ("approve", "SUCCEEDED", "approved"),
        ("reject", "FAILED · USER_REJECTED", "rejected"),
    ):
        _open_execution(driver, local_stack, waiting[name])
        _wait(driver, lambda d: "status-succeeded" in _node(d, "__end__").get_attribute("class"))
        for state in path:
            assert "status-succeeded" in _node(driver, state).get_attribute("class").split()
        edges = {
            (e.get_attribute("data-from"), e.get_attribute("data-to"))
            for e in _css(driver, "path.edge.taken")
        }
        assert edges == set(itertools.pairwise(["__start__", *path, "__end__"]))
        header = driver.find_element(By.CSS_SELECTOR, ".execution-header").text
        assert outcome in header, header
        assert f"{decided} by reviewer" in driver.find_element(By.ID, "review-summary").text
        assert not [token for token in tokens.values() if token in driver.page_source]


def test_a_decision_another_reviewer_took_first_shows_the_409_in_the_page(driver, local_stack):
    accepted = local_stack.create_user(unique_email("review.example.org")).json()["id"]
    _awaiting_review(local_stack, accepted)
    _sign_in(driver, local_stack)
    _signed_in(driver)
    _wait(driver, lambda d: _page_row(d, accepted))
    # Meanwhile a second reviewer, signed in elsewhere, approves it.
    local_stack.add_user("second", reviewer=True)
    first = local_stack.decide(
        accepted, {"decision": "approve"}, local_stack.reviewer_token("second")
    )
    assert first.status_code == 200 and first.json()["decidedBy"] == "second"

    row = _page_row(driver, accepted)
    row.find_element(By.CSS_SELECTOR, "input").send_keys("a duplicate")
    row.find_element(By.CSS_SELECTOR, "button.reject").click()
    _wait(driver, lambda d: "409" in _outcome(d, accepted))
    assert "409 · Review already decided" in _outcome(driver, accepted)
    assert row.find_element(By.CSS_SELECTOR, "button.approve").get_attribute("disabled")
    # The browser logs the refused request; nothing else.
    logged = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert len(logged) == 1 and "409" in logged[0], logged
    assert local_stack.wait_done(accepted)["status"] == "SUCCEEDED"  # the first decision stands


def test_a_first_sign_in_sets_a_new_password_and_signing_out_forgets_the_token(driver, local_stack):
    cognito = local_stack.aws("cognito-idp")
    (pool,) = cognito.list_user_pools(MaxResults=60)["UserPools"]
    temporary = "Temporary-password-1"
    cognito.admin_create_user(
        UserPoolId=pool["Id"],
        Username="newcomer",
        TemporaryPassword=temporary,
        MessageAction="SUPPRESS",
    )
    cognito.admin_add_user_to_group(
        UserPoolId=pool["Id"], Username="newcomer", GroupName="reviewers"
    )
    _sign_in(driver, local_stack, "newcomer", temporary)
    new = _wait(driver, lambda d: d.find_element(By.ID, "new-password"))
    assert driver.switch_to.active_element == new
    new.send_keys("Chosen-password-22")
    driver.find_element(By.ID, "new-password-again").send_keys("Chosen-password-22", Keys.ENTER)
    _signed_in(driver)
    assert "Signed in as newcomer" in driver.find_element(By.ID, "who").text
    # The new password is the one now.
    assert local_stack.reviewer_token("newcomer", "Chosen-password-22")

    driver.find_element(By.ID, "sign-out").click()
    _wait(driver, lambda d: d.find_element(By.ID, "username"))
    assert driver.execute_script("return sessionStorage.length") == 0
    assert "Signed out." in driver.find_element(By.ID, "main").text


def _awaiting_review(local_stack, operation_id: str) -> None:
    """Waits until the operation waits for a reviewer (its review stored)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        answer = requests.get(f"{local_stack.api}/operations/{operation_id}", timeout=5).json()
        if answer.get("step") == "AWAITING_REVIEW":
            return
        time.sleep(0.05)
    raise AssertionError(f"no review requested for {operation_id}")


def _review_token_when_stored(local_stack, operation_id: str) -> str:
    _awaiting_review(local_stack, operation_id)
    return _review_token(local_stack, operation_id)


def test_the_system_shows_the_stream_the_on_failure_queue_and_the_tables(driver, local_stack):
    local_stack.aws("kinesis").put_record(
        StreamName=resource_name("local", "events"), Data=b"poison", PartitionKey="poison"
    )
    driver.get(f"{local_stack.api}/_local/#/system")
    message = "#queue article.message"
    _wait(driver, lambda d: _css(d, message), timeout=20)
    assert "poison" in driver.find_element(By.CSS_SELECTOR, message).text
    stream = driver.find_element(By.ID, "stream").text
    assert "shardId-000000000000" in stream
    _wait(driver, lambda d: "up to date" in d.find_element(By.ID, "stream").text)
    tables = driver.find_element(By.ID, "tables").text
    assert all(resource_name("local", table) in tables for table in ("operations", "users"))


def test_the_execution_page_is_readable_at_a_laptop_width(driver, local_stack, operations):
    driver.set_window_size(1366, 768)
    try:
        _open_execution(driver, local_stack, operations["approved"])
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, "the page scrolls sideways"
        scale = driver.execute_script(
            "const svg = document.querySelector('svg.graph');"
            "return svg.getBoundingClientRect().width / svg.viewBox.baseVal.width"
        )
        assert 13 * scale >= 10, f"state names drawn at {13 * scale:.1f}px"
    finally:
        driver.set_window_size(*WINDOW)


def test_a_screenshot_of_an_execution(driver, local_stack, operations, tmp_path):
    """`make console-screenshot` writes it to docs/console.png (CONSOLE_SCREENSHOT)."""
    target = Path(os.environ.get("CONSOLE_SCREENSHOT") or tmp_path / "console.png")
    driver.set_window_size(WINDOW[0], 1700)  # a laptop's width, tall enough for the graph
    try:
        _open_execution(driver, local_stack, operations["reviewed"])
        _node(driver, CONCLUDE).click()
        _wait(driver, lambda d: "user rejected" in _details(d))
        driver.execute_script("document.activeElement.blur()")
        assert driver.save_screenshot(str(target))
    finally:
        driver.set_window_size(*WINDOW)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_reviewer_page_pages_through_the_pending_reviews_oldest_first(driver, local_stack):
    waiting: list[str] = []
    try:
        for _ in range(12):
            waiting.append(local_stack.create_user(unique_email("review.example.org")).json()["id"])
        for operation_id in waiting:
            _awaiting_review(local_stack, operation_id)
        _pages_through(driver, local_stack, waiting)
    finally:  # the shared stack is left with no review waiting (tests/conftest.py: local_stack)
        token = local_stack.reviewer_token()
        for operation_id in waiting:
            local_stack.decide(operation_id, {"decision": "reject", "reason": "paged"}, token)


def _pages_through(driver, local_stack, waiting: list[str]) -> None:
    oldest_first = [
        review["operationId"]
        for review in requests.get(
            f"{local_stack.api}/reviews?limit=100", headers=local_stack.reviewer(), timeout=5
        ).json()["reviews"]
    ]
    assert set(waiting) <= set(oldest_first)
    _sign_in(driver, local_stack)
    _signed_in(driver)

    def shown() -> list[str]:
        return driver.execute_script(
            "return [...document.querySelectorAll('#reviews tr[data-operation]')]"
            ".map(row => row.dataset.operation)"
        )

    _wait(driver, lambda d: shown() == oldest_first[:10])  # ten to a page, the oldest first
    assert "more on the next page" in driver.find_element(By.ID, "summary").text
    assert driver.find_element(By.ID, "previous-page").get_attribute("disabled")
    driver.find_element(By.ID, "next-page").send_keys(Keys.ENTER)  # the keyboard is enough
    _wait(driver, lambda d: shown() == oldest_first[10:20])
    assert driver.find_element(By.ID, "summary").text.startswith("Page 2")
    driver.find_element(By.ID, "previous-page").click()
    _wait(driver, lambda d: shown() == oldest_first[:10])


_TIMELINE_ROWS = (
    "return [...document.querySelectorAll(arguments[0] + ' li.span')].map(li => [li.dataset.kind,"
    " li.dataset.name, li.querySelector('.span-duration').textContent,"
    " li.querySelector('.span-notes').textContent])"
)
OPERATION_TRACE = "#trace .trace-group[data-operation-trace='true']"


def test_an_operations_trace_is_drawn_as_a_timeline(driver, local_stack, operations):
    _open_execution(driver, local_stack, operations["approved"])
    last = succeeded()[-1]
    _wait(driver, lambda d: _css(d, f"{OPERATION_TRACE} li.span[data-name='{last}']"))
    rows = driver.execute_script(_TIMELINE_ROWS, OPERATION_TRACE)
    kinds = {kind for kind, *_ in rows}
    # The API request, the time on the stream, the starter, the execution, each state and its
    # function, the AWS calls inside them.
    assert {"api", "stream", "function", "lambda", "workflow", "state", "local", "aws"} <= kinds
    names = [name for _, name, *_ in rows]
    api = f"{app_name()}/{api_stage('local')}"
    for name in (api, "Kinesis", "start_workflow", resource_name("local", "workflow")):
        assert name in names
    states = [name for kind, name, *_ in rows if kind == "state"]
    assert states == succeeded()
    assert {"user_create", "user_approve", "user_create_response"} <= set(names)
    assert all(duration.endswith(("ms", " s")) for *_, duration, _ in rows), rows
    (api,) = [notes for kind, _, _, notes in rows if kind == "api"]
    assert "HTTP 202" in api
    # The starter's own invocation is shown too, linked.
    headings = driver.find_element(By.ID, "trace").text.lower()
    assert "invocation (linked)" in headings and "starter" in headings
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, "the timeline makes the page scroll sideways"


def test_a_refused_decision_shows_as_an_error_in_the_operations_traces(
    driver, local_stack, operations
):
    reviewed = operations["reviewed"]
    again = local_stack.decide(reviewed, {"decision": "approve"})
    assert again.status_code == 409
    xray = local_stack.aws("xray")
    wait_until(
        lambda: xray.get_trace_summaries(
            StartTime=time.time() - 600,
            EndTime=time.time() + 60,
            FilterExpression=f'annotation.operation_id = "{reviewed}" AND error',
        )["TraceSummaries"],
        10,
        "the refused decision's trace",
    )
    _open_execution(driver, local_stack, reviewed)
    refused = "#trace li.span.error[data-kind='api']"
    _wait(driver, lambda d: _css(d, refused))
    notes = driver.find_element(By.CSS_SELECTOR, f"{refused} .span-notes").text
    assert "⚠ error" in notes and "HTTP 409" in notes
    # The review waited in its own state, shown with its function.
    rows = driver.execute_script(_TIMELINE_ROWS, OPERATION_TRACE)
    assert ["state", "AwaitReview"] in [row[:2] for row in rows]
    assert "user_review_request" in [row[1] for row in rows]


def test_the_metrics_are_drawn_as_the_dashboard_charts_them(driver, local_stack, operations):
    from infra.dashboard import APP_CHARTS

    driver.get(f"{local_stack.api}/_local/#/metrics")
    _wait(driver, lambda d: _css(d, "figure.chart"))
    titles = [figure.get_attribute("data-chart") for figure in _css(driver, "figure.chart")]
    assert titles == [chart.title for chart in APP_CHARTS]

    def value(chart: str, line: str) -> float | None:
        """The line's sum over the window (a count), or its latest value; None: no data."""
        found = _css(driver, f'figure[data-chart="{chart}"] li[data-line="{line}"]')
        given = found[0].get_attribute("data-value") if found else ""
        return float(given) if given else None

    operations_chart, failed_chart = APP_CHARTS[0].title, APP_CHARTS[1].title
    # The module's operations (and those of the tests before): counted over the window.
    _wait(driver, lambda d: (value(operations_chart, "accepted") or 0) >= 3, timeout=20)
    assert (value(operations_chart, "succeeded") or 0) >= 1
    assert (value(failed_chart, "USER_REJECTED") or 0) >= 2  # eve's, and mallory's reviewer
    assert (value("Human review", "decided: reject") or 0) >= 1
    assert (value("Time from accepted to done", "p50") or -1) >= 0
    legend = driver.find_element(By.CSS_SELECTOR, f'figure[data-chart="{operations_chart}"] ul')
    assert "accepted: " in legend.text and " in 15 min" in legend.text
    drawn = _css(driver, f'figure[data-chart="{operations_chart}"] svg.chart-plot')[0]
    assert "accepted" in drawn.get_attribute("aria-label")  # what it shows, in words
    assert _css(driver, f'figure[data-chart="{operations_chart}"] path[data-line="accepted"]')

    # Per minute: the same operations in fewer, fuller periods.
    Select(driver.find_element(By.ID, "period")).select_by_value("60")
    _wait(driver, lambda d: "per 60 s" in d.find_element(By.CSS_SELECTOR, "figure.chart").text)
    assert (value(operations_chart, "accepted") or 0) >= 3
    assert (
        driver.find_element(By.CSS_SELECTOR, "nav a[data-tab='metrics']").get_attribute(
            "aria-current"
        )
        == "page"
    )
