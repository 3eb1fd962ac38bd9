"""Tracing everywhere, the stage's alarms and their topic, and the dashboard."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.manifest import MANIFEST
from maas.observability.catalogue import ENDPOINT_METRICS, endpoint_metric
from stacks.endpoint_queries import insights_query, search_expression
from tests.stacks.cfn_template import resources

if TYPE_CHECKING:
    from stacks.control_plane import ControlPlane
    from tests.stacks.synthesis import Synthesized

pytestmark = pytest.mark.stacks


def _templates(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text())
        for path in synthesized.outdir.glob("*.template.json")
    }


def _alarms(observability_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every alarm's properties, by alarm name."""
    return {
        properties["AlarmName"]: properties
        for properties in resources(observability_json, "AWS::CloudWatch::Alarm").values()
    }


def _topic_id(observability_json: dict[str, Any]) -> str:
    [topic_id] = resources(observability_json, "AWS::SNS::Topic")
    return topic_id


def _query(alarm: dict[str, Any]) -> list[str]:
    return [query["Expression"] for query in alarm["Metrics"]]


# --- Tracing ------------------------------------------------------------------------------


def test_every_function_of_every_stack_traces_actively(synthesized: Synthesized) -> None:
    functions = {
        f"{name}/{logical_id}": properties
        for name, template in _templates(synthesized).items()
        for logical_id, properties in resources(template, "AWS::Lambda::Function").items()
    }
    assert len(functions) >= len(MANIFEST.functions)
    untraced = [key for key, p in functions.items() if p.get("TracingConfig") != {"Mode": "Active"}]
    assert untraced == []


def test_every_state_machine_of_every_stack_is_traced(synthesized: Synthesized) -> None:
    machines = {
        f"{name}/{logical_id}": properties
        for name, template in _templates(synthesized).items()
        for logical_id, properties in resources(
            template, "AWS::StepFunctions::StateMachine"
        ).items()
    }
    assert len(machines) == len(MANIFEST.state_machines)
    untraced = [
        key for key, p in machines.items() if p.get("TracingConfiguration") != {"Enabled": True}
    ]
    assert untraced == []


# --- Topic --------------------------------------------------------------------------------


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(
    observability_json: dict[str, Any],
) -> None:
    [topic] = resources(observability_json, "AWS::SNS::Topic").values()
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = observability_json["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [
        statement
        for statement in key["KeyPolicy"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1
    assert sorted(cloudwatch[0]["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_alarm_topic_refuses_plain_http_and_admits_only_the_stages_alarms(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    [policy] = resources(observability_json, "AWS::SNS::TopicPolicy").values()
    statements = policy["PolicyDocument"]["Statement"]
    assert {
        "Effect": "Deny",
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }.items() <= statements[0].items()
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    source = allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert source[-1] == f":alarm:maas-{plane.config.name}-*"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


# --- Alarms -------------------------------------------------------------------------------


def test_every_alarm_notifies_the_topic_in_alarm_and_when_ok(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    topic = {"Ref": _topic_id(observability_json)}
    alarms = _alarms(observability_json)
    assert len(alarms) == 3 + len(MANIFEST.state_machines) + 1
    for name, alarm in alarms.items():
        assert name.startswith(f"maas-{plane.config.name}-")
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_error_rate_alarm_divides_5xx_by_invocations_over_every_endpoint(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    alarm = _alarms(observability_json)[f"maas-{plane.config.name}-endpoint-error-rate"]
    assert _query(alarm) == [
        "100 * errors / invocations",
        insights_query(endpoint_metric("Invocation5XXErrors"), "Sum"),
        insights_query(endpoint_metric("Invocations"), "Sum"),
    ]
    assert _query(alarm)[1] == (
        'SELECT SUM(Invocation5XXErrors) FROM SCHEMA("AWS/SageMaker", EndpointName, VariantName)'
    )
    assert alarm["Threshold"] == plane.config.alarms.error_rate_percent
    assert alarm["EvaluationPeriods"] == plane.config.alarms.evaluation_periods


def test_latency_alarm_watches_each_variants_average_in_microseconds(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    alarm = _alarms(observability_json)[f"maas-{plane.config.name}-endpoint-model-latency"]
    assert _query(alarm) == [
        'SELECT AVG(ModelLatency) FROM SCHEMA("AWS/SageMaker", EndpointName, VariantName) '
        "GROUP BY EndpointName, VariantName ORDER BY AVG() DESC"
    ]
    assert alarm["Threshold"] == plane.config.alarms.model_latency_ms * 1000


def test_gpu_memory_alarm_reads_the_instance_namespace(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    alarm = _alarms(observability_json)[f"maas-{plane.config.name}-endpoint-gpu-memory"]
    assert _query(alarm) == [
        'SELECT MAX(GPUMemoryUtilization) FROM SCHEMA("/aws/sagemaker/Endpoints", '
        "EndpointName, VariantName)"
    ]
    assert alarm["Threshold"] == plane.config.alarms.gpu_memory_percent


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_each_workflow_alarms_on_its_failed_executions(
    observability_json: dict[str, Any], plane: ControlPlane, spec: Any
) -> None:
    alarm = _alarms(observability_json)[plane.config.resource_name(f"{spec.id}Failed")]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/States",
        "ExecutionsFailed",
        "Sum",
    )
    [dimension] = alarm["Dimensions"]
    assert dimension["Name"] == "StateMachineArn"
    output = dimension["Value"]["Fn::GetStackOutput"]
    machine = plane.lifecycle.state_machines[spec.id].state_machine.node.default_child
    assert output["StackName"] == plane.lifecycle.stack_name
    assert plane.lifecycle.get_logical_id(machine) in output["OutputName"]  # type: ignore[arg-type]
    assert alarm["Threshold"] == plane.config.alarms.failed_executions


def test_dead_letter_queue_depth_alarms(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    assert plane.lifecycle.dead_letter_queue is not None
    alarm = _alarms(observability_json)[f"maas-{plane.config.name}-undelivered-events"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert alarm["Threshold"] == plane.config.alarms.dead_letters


def test_metrics_insights_has_no_percentiles_and_no_meaningless_statistics() -> None:
    with pytest.raises(ValueError, match="Metrics Insights has no p99"):
        insights_query(endpoint_metric("ModelLatency"), "p99")
    with pytest.raises(ValueError, match="Sum of ModelLatency means nothing"):
        insights_query(endpoint_metric("ModelLatency"), "Sum")


# --- Dashboard ----------------------------------------------------------------------------


def _dashboard_body(observability_json: dict[str, Any]) -> str:
    [dashboard] = resources(observability_json, "AWS::CloudWatch::Dashboard").values()
    # The body is a JSON document joined with tokens; the literal parts are what we check.
    parts = dashboard["DashboardBody"]["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else "<token>" for part in parts)


def test_dashboard_charts_every_catalogue_metric_per_endpoint_variant(
    observability_json: dict[str, Any],
) -> None:
    body = json.loads(_dashboard_body(observability_json))
    expressions = {
        entry["expression"]
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for line in widget["properties"]["metrics"]
        for entry in line
        if isinstance(entry, dict) and "expression" in entry
    }
    for name in (
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "ConcurrentRequestsPerModel",
        "CPUUtilization",
        "MemoryUtilization",
        "GPUUtilization",
        "GPUMemoryUtilization",
    ):
        metric = ENDPOINT_METRICS[name]
        assert search_expression(metric, metric.statistics[0], period_seconds=300) in expressions
    latency = endpoint_metric("ModelLatency")
    for statistic in ("p50", "p99"):
        assert search_expression(latency, statistic, period_seconds=300) in expressions


def test_dashboard_charts_workflows_functions_and_dead_letters(
    observability_json: dict[str, Any], plane: ControlPlane
) -> None:
    body = json.loads(_dashboard_body(observability_json))
    titles = {widget["properties"].get("title") for widget in body["widgets"]}
    assert {
        "Alarms",
        "Executions started",
        "Executions succeeded",
        "Executions failed",
        "Errors",
        "Throttles",
        "Undelivered events (dead-letter queue)",
    } <= titles
    [failed] = [w for w in body["widgets"] if w["properties"].get("title") == "Executions failed"]
    labels = [line[-1]["label"] for line in failed["properties"]["metrics"]]
    assert labels == list(plane.lifecycle.state_machines)
    [errors] = [w for w in body["widgets"] if w["properties"].get("title") == "Errors"]
    assert len(errors["properties"]["metrics"]) == len(MANIFEST.functions)
    [alarms] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarms["properties"]["alarms"]) == len(_alarms(observability_json))
