"""The one CloudFormation reference reader (infra/refs.py)."""

from __future__ import annotations

import pytest

from infra import refs

FRAGMENT = {
    "Resource": [
        {"Ref": "Workflow"},
        {"Fn::GetAtt": ["UsersTable", "Arn"]},
        {"Fn::GetAtt": "EventStream.Arn"},
        {"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:x:execution:${Workflow.Name}:*"},
        {"Fn::Sub": ["${Table}/index/${Index}", {"Table": {"Ref": "OperationsTable"}}]},
        {"Fn::Sub": "literal ${!NotAReference}"},
    ],
    "Nested": {"Deeper": [{"Ref": "AWS::AccountId"}]},
}


def test_references_names_every_logical_id_and_no_pseudo_parameter():
    assert refs.references(FRAGMENT) == {
        "Workflow",
        "UsersTable",
        "EventStream",
        "OperationsTable",
        "Index",
    }


def test_resolve_replaces_each_form_by_its_value():
    values = {
        "Workflow": "arn:workflow",
        "Workflow.Name": "wf",
        "UsersTable.Arn": "arn:users",
        "EventStream.Arn": "arn:stream",
        "OperationsTable": "operations",
        "Index": "in-flight",
        "AWS::Partition": "aws",
        "AWS::Region": "eu-west-1",
        "AWS::AccountId": "123",
    }
    assert refs.resolve(FRAGMENT, values) == {
        "Resource": [
            "arn:workflow",
            "arn:users",
            "arn:stream",
            "arn:aws:states:eu-west-1:x:execution:wf:*",
            "operations/index/in-flight",
            "literal ${NotAReference}",
        ],
        "Nested": {"Deeper": ["123"]},
    }


def test_resolve_names_a_reference_it_has_no_value_for():
    with pytest.raises(KeyError, match=r"'Workflow\.Name'"):
        refs.resolve({"Fn::Sub": "${Workflow.Name}"}, {})


def test_a_plain_dict_with_one_key_is_not_a_reference():
    assert refs.resolve({"Name": {"Refx": "A"}}, {}) == {"Name": {"Refx": "A"}}
    assert refs.references({"Type": "AWS::SQS::Queue"}) == set()
