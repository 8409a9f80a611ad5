"""Renaming the service is one edit: every name derives from `app_name` in .chalice/config.json
and the stage (infra/definition.py), and the config states no resource name."""

from __future__ import annotations

import json

import pytest

import chalicelib.config
from infra import bootstrap_ci, chalice_cli, chalice_policy, definition, security, template
from infra.archive import add_archive
from local.aws.provision import deployed_name, notifications_queue_name

STAGES = ["local", "test", "dev", "prod"]


@pytest.fixture
def renamed(tmp_path, monkeypatch):
    """The project's config with only app_name changed; the name it had."""
    original = definition.app_name()
    config = json.loads(definition.CHALICE_CONFIG.read_text())
    config["app_name"] = "orders-api"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    monkeypatch.setattr(chalicelib.config, "CHALICE_CONFIG", path)
    monkeypatch.setattr(definition, "CHALICE_CONFIG", path)
    return original


@pytest.mark.parametrize("stage", STAGES)
def test_after_renaming_nothing_of_a_stage_keeps_the_old_name(renamed, stage):
    everything = {
        "environment": definition.stage_environment(stage),
        "stack": add_archive(template.merge_template(stage), stage),
        "policy": chalice_policy.policy(stage),
        "ci": bootstrap_ci.template(stage, "acme/orders"),
        "names": [
            definition.stack_name(stage),
            security.access_log_group_name(stage),
            deployed_name(stage, "starter"),
            notifications_queue_name(stage),
            definition.emulated_archive_bucket(stage),
        ],
    }
    text = json.dumps(everything)
    assert renamed not in text
    assert "orders-api" in text
    assert definition.stage_environment(stage)["APP_NAME"] == "orders-api"
    assert definition.stage_environment(stage)["EVENT_STREAM"] == f"orders-api-{stage}-events"


def test_the_config_states_no_name_that_derives(tmp_path, monkeypatch):
    for stage in STAGES:  # the project's own config: each stage's environment is whole
        assert set(definition.resource_names(stage)) <= set(definition.stage_environment(stage))
    config = json.loads(definition.CHALICE_CONFIG.read_text())
    config["stages"]["dev"]["environment_variables"]["USERS_TABLE"] = "by-hand"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    monkeypatch.setattr(definition, "CHALICE_CONFIG", path)
    with pytest.raises(ValueError, match="sets USERS_TABLE: names derive from app_name"):
        definition.stage_environment("dev")


def test_chalice_s_command_line_reads_every_stage_with_its_names():
    config = json.loads(definition.CHALICE_CONFIG.read_text())
    completed = chalice_cli.with_stage_environments(config)
    assert completed["app_name"] == config["app_name"]
    for stage in STAGES:
        variables = completed["stages"][stage]["environment_variables"]
        assert variables == definition.stage_environment(stage)
        assert completed["stages"][stage]["api_gateway_stage"] == definition.api_stage(stage)


def test_the_app_is_named_by_the_config_or_by_its_stage_s_environment(monkeypatch):
    monkeypatch.delenv("APP_NAME", raising=False)
    assert chalicelib.config.app_name() == definition.app_name()
    monkeypatch.setenv("APP_NAME", "from-the-stage")
    assert chalicelib.config.app_name() == "from-the-stage"


def test_the_api_description_names_the_api_not_the_deployment():
    """openapi.json describes the API a client sees; the deployed API is named by the packaging
    (Chalice titles it with the app's name), so a rename leaves the description as it is."""
    assert definition.app_name() not in (definition.ROOT / "openapi.json").read_text()
