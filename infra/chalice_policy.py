"""The IAM policy `chalice deploy` gives a stage's functions (the quick loop).

`chalice deploy` cannot read CloudFormation references, so the per-function statements of
infra/template.py are rendered with literal ARNs built from the stage's resource names
(any account and region). One policy covers all the stage's functions: broader than the
stack's per-function roles, which is why the stack (`make deploy`) is the way to production.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from infra import definition
from infra.definition import ROOT
from infra.template import XRAY_ACTIONS, function_policies


def _names(stage: str) -> dict[str, str]:
    env = definition.stage_environment(stage)
    return {
        "OperationsTable": f"arn:aws:dynamodb:*:*:table/{env['OPERATIONS_TABLE']}",
        "UsersTable": f"arn:aws:dynamodb:*:*:table/{env['USERS_TABLE']}",
        "ReviewsTable": f"arn:aws:dynamodb:*:*:table/{env['REVIEWS_TABLE']}",
        "ReviewsTable.Arn": f"arn:aws:dynamodb:*:*:table/{env['REVIEWS_TABLE']}",
        "EventStream": f"arn:aws:kinesis:*:*:stream/{env['EVENT_STREAM']}",
        "StarterFailureQueue": f"arn:aws:sqs:*:*:{definition.starter_failure_queue_name(stage)}",
        "Workflow": f"arn:aws:states:*:*:stateMachine:{env['STATE_MACHINE_NAME']}",
        "Workflow.Name": env["STATE_MACHINE_NAME"],
    }


def _literal(value: Any, names: dict[str, str]) -> str:
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return names[value["Ref"]]
    if "Fn::GetAtt" in value:
        return names[value["Fn::GetAtt"][0]]
    text = value["Fn::Sub"].replace("${AWS::Partition}", "aws")
    text = text.replace("${AWS::Region}", "*").replace("${AWS::AccountId}", "*")
    text = text.replace("${OperationsTable.Arn}", names["OperationsTable"])
    return re.sub(r"\$\{([\w.]+)\}", lambda m: names[m.group(1)], text)


def policy(stage: str) -> dict[str, Any]:
    names = _names(stage)
    statements = [
        {**s, "Resource": [_literal(r, names) for r in s["Resource"]]}
        for statements in function_policies().values()
        for s in statements
    ]
    statements += [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                f"arn:aws:logs:*:*:log-group:/aws/lambda/{definition.app_name()}-{stage}-*"
            ],
        },
        {"Effect": "Allow", "Action": sorted(XRAY_ACTIONS), "Resource": ["*"]},
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", required=True)
    stage = parser.parse_args().stage
    path = ROOT / ".chalice" / f"policy-{stage}.json"
    path.write_text(json.dumps(policy(stage), indent=2) + "\n")
    print(path)


if __name__ == "__main__":
    main()
