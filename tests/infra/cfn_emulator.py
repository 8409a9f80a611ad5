"""Shims that let moto's CloudFormation create the stack the deploy script builds.

Test-only (the deploy smoke test): each is a pure template -> template function for
something moto 5.2.5 does differently from AWS. None of them is applied to what goes to AWS.

- RestApi Name: moto requires Name; AWS takes it from Body.info.title (same value).
- State machine: moto reads only DefinitionString, ignoring Definition and
  DefinitionSubstitutions; they are folded into one with Fn::Join (not Fn::Sub, whose moto
  implementation turns the context object's "$$." into "$.").
- API body: moto ignores Body and refuses to import Swagger 2.0; the paths are spelled out as
  Resource and Method resources.
- Stage: moto has no AWS::ApiGateway::Stage; its name moves onto the Deployment.
- Alarms and the API Gateway account setting: moto skips AWS::CloudWatch::Alarm and
  AWS::ApiGateway::Account; they are made through the API after the stack, from the same
  properties (create_deferred).
- The dashboard's alarm widget: it names each alarm by `${<Alarm>.Arn}`, which moto cannot
  resolve for the deferred alarms; the ARN is spelled out from the alarm's name instead, as
  CloudWatch makes it.
- The reviewers' user pool, client and group: moto has no AWS::Cognito::* resources, and the
  API's function and outputs refer to them; they are made through the API before the stack,
  from the same properties, and the references replaced by their ids (create_ahead).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

Template = dict[str, Any]


def shim_restapi_name_from_body(t: Template) -> Template:
    """moto's RestApi needs Name; real CFN takes it from Body.info.title. Same value: harmless."""
    t = copy.deepcopy(t)
    for res in t["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::ApiGateway::RestApi" and "Name" not in props:
            title = props.get("Body", {}).get("info", {}).get("title")
            if title:
                props["Name"] = title
    return t


def shim_state_machine_definition_string(t: Template) -> Template:
    """moto's CFN reads only DefinitionString and ignores Definition/DefinitionSubstitutions.
    Fold both into DefinitionString built with Fn::Join (not Fn::Sub: moto's list-form Fn::Sub
    runs string.Template.safe_substitute, which turns the context object's '$$.' into '$.')."""
    t = copy.deepcopy(t)
    for res in t["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] != "AWS::StepFunctions::StateMachine" or "Definition" not in props:
            continue
        body = json.dumps(props.pop("Definition"), indent=2)
        subs = props.pop("DefinitionSubstitutions", {})
        parts: list[Any] = []
        for i, piece in enumerate(re.split(r"\$\{([A-Za-z0-9_]+)\}", body)):
            parts.append(piece if i % 2 == 0 else subs.get(piece, "${" + piece + "}"))
        props["DefinitionString"] = {"Fn::Join": ["", parts]} if subs else body
    return t


def shim_restapi_body_to_methods(t: Template) -> Template:
    """moto's RestApi ignores Body (and its import refuses Swagger 2.0), so the Deployment fails
    with "The REST API doesn't contain any methods". Spell the Swagger paths out as
    AWS::ApiGateway::Resource/Method (AWS_PROXY) and make each Deployment depend on them.
    Emulator only: on real AWS these would duplicate what Body already defines."""
    t = copy.deepcopy(t)
    r = t["Resources"]
    for api_id, api in list(r.items()):
        if api["Type"] != "AWS::ApiGateway::RestApi" or "Body" not in api.get("Properties", {}):
            continue
        methods: list[str] = []
        resource_ids: dict[str, str] = {}
        for path, ops in sorted(api["Properties"]["Body"].get("paths", {}).items()):
            parent: Any = {"Fn::GetAtt": [api_id, "RootResourceId"]}
            so_far = ""
            for part in path.strip("/").split("/"):
                so_far += "/" + part
                if so_far not in resource_ids:
                    lid = api_id + "Res" + re.sub(r"[^A-Za-z0-9]", "", so_far.title())
                    r[lid] = {
                        "Type": "AWS::ApiGateway::Resource",
                        "Properties": {
                            "RestApiId": {"Ref": api_id},
                            "ParentId": parent,
                            "PathPart": part,
                        },
                    }
                    resource_ids[so_far] = lid
                parent = {"Ref": resource_ids[so_far]}
            for verb, op in ops.items():
                integration = op.get("x-amazon-apigateway-integration")
                if not integration:
                    continue
                lid = api_id + "Method" + resource_ids[so_far][len(api_id) + 3 :] + verb.upper()
                r[lid] = {
                    "Type": "AWS::ApiGateway::Method",
                    "Properties": {
                        "RestApiId": {"Ref": api_id},
                        "ResourceId": parent,
                        "HttpMethod": verb.upper(),
                        "AuthorizationType": "NONE",
                        "Integration": {
                            "Type": integration["type"].upper(),
                            "IntegrationHttpMethod": integration["httpMethod"],
                            "Uri": integration["uri"],
                        },
                    },
                }
                methods.append(lid)
        del api["Properties"]["Body"]  # moto ignores it; kept, cfn-lint flags W3660 drift
        for res in r.values():
            if res["Type"] == "AWS::ApiGateway::Deployment" and res["Properties"].get(
                "RestApiId"
            ) == {"Ref": api_id}:
                deps = res.get("DependsOn", [])
                res["DependsOn"] = ([deps] if isinstance(deps, str) else list(deps)) + methods
    return t


def shim_stage_into_deployment(t: Template) -> Template:
    """moto's CFN has no AWS::ApiGateway::Stage (skipped with a warning; the stack still
    completes). Give its StageName to the Deployment it points at (moto's CreateDeployment then
    makes that stage), drop it, and turn Refs to it into the stage name. Emulator only."""
    t = copy.deepcopy(t)
    r = t["Resources"]
    renames: dict[str, Any] = {}
    for lid, res in list(r.items()):
        if res["Type"] != "AWS::ApiGateway::Stage":
            continue
        dep = res["Properties"]["DeploymentId"]["Ref"]
        r[dep]["Properties"]["StageName"] = res["Properties"]["StageName"]
        renames[lid] = (res["Properties"]["StageName"], dep)
        del r[lid]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in renames:
                return renames[node["Ref"]][0]
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    t = walk(t)
    for res in t["Resources"].values():
        deps = res.get("DependsOn")
        if deps:
            deps = [deps] if isinstance(deps, str) else deps
            res["DependsOn"] = [renames[d][1] if d in renames else d for d in deps]
    return t


def shim_dashboard_alarm_arns(t: Template) -> Template:
    """`${<Alarm>.Arn}` in a dashboard's body → the alarm's ARN from its name (the alarms are
    deferred: moto's CFN cannot resolve their attributes)."""
    t = copy.deepcopy(t)
    resources = t["Resources"]
    arns = {
        f"${{{lid}.Arn}}": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:"
        f"alarm:{res['Properties']['AlarmName']['Fn::Sub']}"
        for lid, res in resources.items()
        if res["Type"] == "AWS::CloudWatch::Alarm"
    }
    for res in resources.values():
        if res["Type"] == "AWS::CloudWatch::Dashboard":
            body = res["Properties"]["DashboardBody"]
            for reference, arn in arns.items():
                body["Fn::Sub"] = body["Fn::Sub"].replace(reference, arn)
    return t


# Types moto 5.2.5's CloudFormation skips (stack still CREATE_COMPLETE).
MOTO_CFN_UNSUPPORTED = {"AWS::CloudWatch::Alarm", "AWS::ApiGateway::Account"}


def shim_defer_unsupported(t: Template) -> Template:
    """Move resources moto's CFN cannot create into Metadata.DeferredResources, their
    Ref/GetAtt/Sub values exported as stack Outputs so moto still resolves them; create_deferred
    then makes them through the service API after the stack completes. Emulator only."""
    t = copy.deepcopy(t)
    deferred: dict[str, Any] = {}
    outputs = t.setdefault("Outputs", {})

    def export(node: Any, lid: str) -> Any:
        if isinstance(node, dict):
            if len(node) == 1 and next(iter(node)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join"):
                name = f"Deferred{lid}{len(outputs)}"
                outputs[name] = {"Value": node}
                return {"Deferred::Output": name}
            return {k: export(v, lid) for k, v in node.items()}
        if isinstance(node, list):
            return [export(v, lid) for v in node]
        return node

    for lid, res in list(t["Resources"].items()):
        if res["Type"] in MOTO_CFN_UNSUPPORTED:
            deferred[lid] = export(t["Resources"].pop(lid), lid)
    if deferred:
        t.setdefault("Metadata", {})["DeferredResources"] = deferred
    return t


def create_deferred(t: Template, outputs: dict[str, str], session: Any) -> dict[str, str]:
    """The API half of shim_defer_unsupported; returns logical id -> physical id."""

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Deferred::Output"}:
                return outputs[node["Deferred::Output"]]
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    made = {}
    for lid, res in t.get("Metadata", {}).get("DeferredResources", {}).items():
        props = fill(res["Properties"])
        if res["Type"] == "AWS::CloudWatch::Alarm":  # CFN property names == PutMetricAlarm's
            session.client("cloudwatch").put_metric_alarm(**props)
            made[lid] = props["AlarmName"]
        elif res["Type"] == "AWS::ApiGateway::Account":
            session.client("apigateway").update_account(
                patchOperations=[
                    {
                        "op": "replace",
                        "path": "/cloudwatchRoleArn",
                        "value": props["CloudWatchRoleArn"],
                    }
                ]
            )
            made[lid] = props["CloudWatchRoleArn"]
        else:
            raise ValueError(f"no API call creates a deferred {res['Type']} ({lid})")
    return made


EMULATOR_SHIMS: list[Callable[[Template], Template]] = [
    shim_restapi_name_from_body,
    shim_state_machine_definition_string,
    shim_restapi_body_to_methods,
    shim_stage_into_deployment,
    shim_dashboard_alarm_arns,
    shim_defer_unsupported,
]


def for_emulator(template: Template) -> Template:
    for shim in EMULATOR_SHIMS:
        template = shim(template)
    return template


# Types moto 5.2.5's CloudFormation cannot create, and other resources refer to: made through
# the API before the stack (create_ahead), their references replaced by what they are.
MOTO_CFN_AHEAD = (
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
)


def create_ahead(t: Template, session: Any) -> tuple[Template, dict[str, str]]:
    """The reviewers' user pool, its client and group through Cognito's API, as CloudFormation
    would make them; the template without them, its Ref/GetAtt/Sub of them replaced by their
    values. Returns it, and logical id -> physical id. Emulator only."""
    t = copy.deepcopy(t)
    cognito = session.client("cognito-idp")
    values: dict[str, str] = {}
    made: dict[str, str] = {}
    ahead = [lid for lid, res in t["Resources"].items() if res["Type"] in MOTO_CFN_AHEAD]
    for lid in sorted(ahead, key=lambda lid: MOTO_CFN_AHEAD.index(t["Resources"][lid]["Type"])):
        res = t["Resources"].pop(lid)
        props = _literal(res["Properties"], values)
        if res["Type"] == "AWS::Cognito::UserPool":
            props.pop("EnabledMfas")
            pool = cognito.create_user_pool(PoolName=props.pop("UserPoolName"), **props)
            values[lid], values[f"{lid}.Arn"] = pool["UserPool"]["Id"], pool["UserPool"]["Arn"]
        elif res["Type"] == "AWS::Cognito::UserPoolClient":
            values[lid] = cognito.create_user_pool_client(**props)["UserPoolClient"]["ClientId"]
        else:
            cognito.create_group(**props)
            values[lid] = props["GroupName"]
        made[lid] = values[lid]
    return _literal(t, values), made


def _literal(node: Any, values: dict[str, str]) -> Any:
    """The fragment with every reference to one of `values` replaced by its value."""
    if isinstance(node, list):
        return [_literal(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in values:
        return values[node["Ref"]]
    if set(node) == {"Fn::GetAtt"} and ".".join(node["Fn::GetAtt"]) in values:
        return values[".".join(node["Fn::GetAtt"])]
    if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
        text = node["Fn::Sub"]
        for name, value in values.items():
            text = text.replace("${" + name + "}", value)
        return {"Fn::Sub": text}
    return {key: _literal(value, values) for key, value in node.items()}
