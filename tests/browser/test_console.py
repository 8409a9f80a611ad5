"""The local console in a real browser: users created through the API, seen live in the
list, an execution opened, its path found on the graph, a state selected with the keyboard
and its log lines read; the system page; the page at a laptop's width; the README's picture.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import WINDOW, require_browser

require_browser()
pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
STATES = json.loads((ROOT / "statemachine" / "user_create.asl.json").read_text())["States"]


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


@pytest.fixture(scope="module")
def operations(local_stack) -> dict[str, str]:
    """An approved user and a rejected one (reserved .test domain), both done."""
    created = {}
    for name, email in (("approved", "ada@example.org"), ("rejected", "eve@example.test")):
        accepted = local_stack.create_user(email)
        assert accepted.status_code == 202
        created[name] = accepted.json()["id"]
        local_stack.wait_done(created[name])
    return created


def _open_execution(driver, local_stack, operation_id: str) -> None:
    driver.get(f"{local_stack.api}/_local/#/executions/{operation_id}")
    _wait(driver, lambda d: _css(d, "g.node[data-state='CreateUser']"))
    _wait(driver, lambda d: "…" not in d.find_element(By.ID, "operation-outcome").text)


def _node(driver, state: str):
    return driver.find_element(By.CSS_SELECTOR, f"g.node[data-state='{state}']")


def _details(driver) -> str:
    return driver.find_element(By.ID, "state-details").text


def test_new_executions_appear_in_the_list_without_a_reload(driver, local_stack):
    driver.get(f"{local_stack.api}/_local/")
    _wait(driver, lambda d: d.find_element(By.ID, "updated").text)
    driver.execute_script("window.sameDocument = true")
    accepted = local_stack.create_user("grace@example.org").json()["id"]
    row = f"#executions tr[data-operation='{accepted}']"
    _wait(driver, lambda d: _css(d, row))
    assert driver.execute_script("return window.sameDocument") is True
    _wait(
        driver,
        lambda d: d.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "SUCCEEDED",
    )
    cells = driver.find_element(By.CSS_SELECTOR, row).text
    assert "succeeded" in cells and "grace@example.org" in cells and " ms" in cells


def test_executions_are_newest_first_filtered_by_status_and_searched(
    driver, local_stack, operations
):
    driver.get(f"{local_stack.api}/_local/")
    _wait(driver, lambda d: set(operations.values()) <= set(_listed(d)))
    listed = _listed(driver)
    assert listed.index(operations["rejected"]) < listed.index(operations["approved"])

    search = driver.find_element(By.ID, "search")
    search.send_keys("eve@example")
    _wait(driver, lambda d: _listed(d) == [operations["rejected"]])
    search.clear()
    search.send_keys(operations["approved"][:8])
    _wait(driver, lambda d: _listed(d) == [operations["approved"]])
    search.clear()
    search.send_keys(Keys.BACKSPACE)
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("FAILED")
    _wait(driver, lambda d: "No execution matches." in d.find_element(By.ID, "executions").text)
    Select(driver.find_element(By.ID, "status-filter")).select_by_value("")
    _wait(driver, lambda d: set(operations.values()) <= set(_listed(d)))


def test_the_graph_draws_every_state_and_marks_the_path_taken(driver, local_stack, operations):
    driver.get(f"{local_stack.api}/_local/")
    link = f"#executions tr[data-operation='{operations['rejected']}'] a"
    _wait(driver, lambda d: _css(d, link))
    driver.find_element(By.CSS_SELECTOR, link).click()
    _wait(driver, lambda d: _css(d, "g.node[data-state='ApproveUserRefused']"))

    drawn = {n.get_attribute("data-state") for n in _css(driver, "g.node")}
    assert drawn == set(STATES) | {"__start__", "__end__"}
    taken = [
        "CreateUser",
        "WasUserCreated",
        "ApproveUser",
        "WasUserApproved",
        "ApproveUserRefused",
        "RecordFailure",
        "HowDidItFail",
        "Refused",
    ]
    for state in taken:  # in colour (the class) and in words (the text)
        node = _node(driver, state)
        assert "status-succeeded" in node.get_attribute("class").split(), state
        assert "✓ succeeded" in node.text, state
    for state in ("CreateResponse", "RecordSuccess", "StepFailed", "ApproveUserBroke"):
        node = _node(driver, state)
        assert "status-not-reached" in node.get_attribute("class").split(), state
        assert "not reached" in node.text, state
    edges = {
        (e.get_attribute("data-from"), e.get_attribute("data-to"))
        for e in _css(driver, "path.edge.taken")
    }
    assert edges == {
        ("__start__", "CreateUser"),
        *itertools.pairwise(taken),
        ("Refused", "__end__"),
    }
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
    assert operations["rejected"] in details  # its input

    create = _node(driver, "CreateUser")
    create.send_keys(Keys.SPACE)
    _wait(driver, lambda d: _details(d).startswith("CreateUser"))
    assert "user created" in _details(driver)

    _node(driver, "__start__").click()
    _wait(driver, lambda d: _details(d).startswith("Start"))
    assert "operation accepted" in _details(driver)  # the API's line, before any state

    _node(driver, "CreateResponse").send_keys(Keys.ENTER)
    _wait(driver, lambda d: "did not reach this state" in _details(d))


def test_the_execution_links_to_its_operation_and_user(driver, local_stack, operations):
    _open_execution(driver, local_stack, operations["approved"])
    header = driver.find_element(By.CSS_SELECTOR, ".execution-header")
    links = {a.text: a.get_attribute("href") for a in header.find_elements(By.TAG_NAME, "a")}
    operation_url = f"{local_stack.api}/operations/{operations['approved']}"
    assert operation_url in links.values()
    (user_url,) = [href for href in links.values() if "/users/" in href]
    user = requests.get(user_url, timeout=10).json()
    assert user["email"] == "ada@example.org" and user["status"] == "ACTIVE"
    operation = requests.get(operation_url, timeout=10).json()
    assert operation["result"]["user"]["id"] == user["id"]
    events = driver.find_element(By.CSS_SELECTOR, ".events-table").text
    assert "ExecutionStarted" in events and "ExecutionSucceeded" in events


def test_the_system_shows_the_stream_the_on_failure_queue_and_the_tables(driver, local_stack):
    local_stack.aws("kinesis").put_record(
        StreamName="user-service-local-events", Data=b"poison", PartitionKey="poison"
    )
    driver.get(f"{local_stack.api}/_local/#/system")
    message = "#queue article.message"
    _wait(driver, lambda d: _css(d, message), timeout=20)
    assert "poison" in driver.find_element(By.CSS_SELECTOR, message).text
    stream = driver.find_element(By.ID, "stream").text
    assert "shardId-000000000000" in stream
    _wait(driver, lambda d: "up to date" in d.find_element(By.ID, "stream").text)
    tables = driver.find_element(By.ID, "tables").text
    assert "user-service-local-operations" in tables and "user-service-local-users" in tables


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
    driver.set_window_size(WINDOW[0], 1500)  # a laptop's width, tall enough for the graph
    try:
        _open_execution(driver, local_stack, operations["rejected"])
        _node(driver, "ApproveUser").click()
        _wait(driver, lambda d: "user rejected" in _details(d))
        driver.execute_script("document.activeElement.blur()")
        assert driver.save_screenshot(str(target))
    finally:
        driver.set_window_size(*WINDOW)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
