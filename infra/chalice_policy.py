"""The IAM policy `chalice deploy` gives a stage's functions (the quick loop).

`chalice deploy` cannot read CloudFormation references, so the per-function statements of
infra/template.py are rendered with literal ARNs built from the stage's resource names
(any account and region). One policy covers all the stage's functions: broader than the
stack's per-function roles, which is why the stack (`make deploy`) is the way to production.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra import definition, refs
from infra.definition import ROOT
from infra.template import XRAY_ACTIONS, function_policies


def _values(stage: str) -> dict[str, str]:
    """What the statements' references stand for, with any account and region."""
    env = definition.stage_environment(stage)
    return {
        "AWS::Partition": "aws",
        "AWS::Region": "*",
        "AWS::AccountId": "*",
        "OperationsTable.Arn": f"arn:aws:dynamodb:*:*:table/{env['OPERATIONS_TABLE']}",
        "UsersTable.Arn": f"arn:aws:dynamodb:*:*:table/{env['USERS_TABLE']}",
        "ReviewsTable.Arn": f"arn:aws:dynamodb:*:*:table/{env['REVIEWS_TABLE']}",
        "EventStream.Arn": f"arn:aws:kinesis:*:*:stream/{env['EVENT_STREAM']}",
        "StarterFailureQueue.Arn": (
            f"arn:aws:sqs:*:*:{definition.starter_failure_queue_name(stage)}"
        ),
        "SweeperDeadLetterQueue.Arn": (
            f"arn:aws:sqs:*:*:{definition.sweeper_dead_letter_queue_name(stage)}"
        ),
        "ReviewTopic": f"arn:aws:sns:*:*:{env['REVIEW_TOPIC']}",
        "Workflow": f"arn:aws:states:*:*:stateMachine:{env['STATE_MACHINE_NAME']}",
        "Workflow.Name": env["STATE_MACHINE_NAME"],
    }


def policy(stage: str) -> dict[str, Any]:
    values = _values(stage)
    statements = [
        {**s, "Resource": refs.resolve(s["Resource"], values)}
        for statements in function_policies(stage).values()
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
