"""The console's pages over the local runtime, after real workflow runs.

One deployment that succeeds (tenant ``acme``, through its wait loop) and one lifecycle that
fails in its packaging child (tenant ``globex``: its source does not exist) are run once for the
module; every page is then read through :class:`~maas.console.ConsoleApp`, as the local API
Gateway hands it requests. The filters are ListExecutions' own
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html); the
redrive command is RedriveExecution's
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from maas.console import ConsoleApp, ConsoleResponse, local_console
from maas.console.svg import anchor
from maas.evaluation.report import write_report
from maas.evaluation.store import EvaluationStore
from maas.events import read_event_log
from maas.executions import ExecutionSnapshot, wait_for_execution
from maas.naming import sagemaker_endpoint_name
from maas.workflows import execution_name
from schemas.api import Workflow
from schemas.evaluation import EvaluationRecord, EvaluationSpec, EvaluationStatus
from tests.factories import deployment_request
from tests.workflows.conftest import upload_artifact
from tests.workflows.test_lifecycle import lifecycle_request

if TYPE_CHECKING:
    from pathlib import Path

    from maas.evaluation.report import EvaluationReport
    from maas.local import LocalRuntime

HOST = "127.0.0.1:8000"


def get(app: ConsoleApp, target: str) -> ConsoleResponse:
    return app.respond("GET", target, HOST)


def text(response: ConsoleResponse) -> str:
    return response.body.decode()


def start(
    runtime: LocalRuntime, machine: str, name: str, document: dict[str, Any]
) -> ExecutionSnapshot:
    arn = runtime.start_execution(machine, json.dumps(document), name=name)
    return wait_for_execution(runtime.client("stepfunctions"), arn, timeout_seconds=120)


def machine_name(runtime: LocalRuntime, machine_id: str) -> str:
    return runtime.state_machine_arn(machine_id).rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def app(runtime: LocalRuntime) -> ConsoleApp:
    return local_console(runtime)


@pytest.fixture(scope="module")
def deployed(runtime: LocalRuntime) -> ExecutionSnapshot:
    request = deployment_request(endpoint_name="console-chat")
    upload_artifact(runtime, request)
    name = execution_name("acme", Workflow.DEPLOY_ENDPOINT, "console-chat")
    snapshot = start(runtime, "DeployEndpoint", name, request)
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    return snapshot


@pytest.fixture(scope="module")
def failed(runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory) -> ExecutionSnapshot:
    missing: Path = tmp_path_factory.mktemp("gone") / "no-such-model"
    request = lifecycle_request(missing, "console-fail", tenant_id="globex")
    name = execution_name("globex", Workflow.LIFECYCLE, "console-fail")
    snapshot = start(runtime, "Lifecycle", name, request)
    assert snapshot.status == "FAILED"
    return snapshot


def test_the_workflows_page_lists_every_state_machine(
    runtime: LocalRuntime, app: ConsoleApp
) -> None:
    page = text(get(app, "/console"))

    for arn in runtime.resources.state_machines.values():
        name = arn.rsplit(":", 1)[-1]
        assert f'href="/console/workflows/{name}"' in page


def test_a_workflow_page_draws_its_graph_beside_its_definition(
    runtime: LocalRuntime,
    app: ConsoleApp,
) -> None:
    name = machine_name(runtime, "DeployEndpoint")
    response = get(app, f"/console/workflows/{name}")
    page = text(response)

    assert response.status == 200
    assert '<svg class="graph"' in page
    definition = json.loads(
        runtime.client("stepfunctions").describe_state_machine(
            stateMachineArn=runtime.state_machine_arn("DeployEndpoint")
        )["definition"]
    )
    for state in definition["States"]:
        assert f"<title>{escape(state)} (" in page
    assert escape(json.dumps(definition["StartAt"])) in page  # the definition, beside


def test_a_succeeded_execution_is_drawn_green_with_its_history_and_each_states_io(
    runtime: LocalRuntime,
    app: ConsoleApp,
    deployed: ExecutionSnapshot,
) -> None:
    response = get(
        app, f"/console/executions/{machine_name(runtime, 'DeployEndpoint')}/{deployed.name}"
    )
    page = text(response)

    assert response.status == 200
    assert response.header("Refresh") is None  # it has stopped: nothing to follow
    for visit in deployed.visits:
        assert (
            f'<g class="succeeded"><a href="#{anchor(visit.name)}"><title>{escape(visit.name)} ('
            in page
        )
    assert page.count(f'id="{anchor("Wait for endpoint")}"') == 1
    history = runtime.client("stepfunctions").get_execution_history(executionArn=deployed.arn)
    assert f"Event history ({len(history['events'])})" in page
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td>", page)
    assert [int(row) for row in rows] == [event["id"] for event in history["events"]]
    exited = [
        event["stateExitedEventDetails"]
        for event in history["events"]
        if "stateExitedEventDetails" in event
    ]
    assert escape(json.dumps(json.loads(exited[-1]["output"]), indent=2)) in page
    assert "redrive-execution" not in page


def test_a_failed_lifecycle_links_its_child_and_shows_the_error_and_the_redrive(
    runtime: LocalRuntime,
    app: ConsoleApp,
    failed: ExecutionSnapshot,
) -> None:
    page = text(get(app, f"/console/executions/{machine_name(runtime, 'Lifecycle')}/{failed.name}"))

    child_machine = machine_name(runtime, "PackageModel")
    assert f'href="/console/executions/{child_machine}/{failed.name}-package"' in page
    assert "<h2>Redrive</h2>" in page
    assert f"aws stepfunctions redrive-execution --execution-arn {failed.arn}" in page
    assert f"<b>{escape(failed.error or '')}</b>" in page
    failing = [visit for visit in failed.visits if visit.status.value == "failed"]
    assert failing
    for visit in failing:
        assert f'<g class="failed"><a href="#{anchor(visit.name)}">' in page

    child = get(app, f"/console/executions/{child_machine}/{failed.name}-package")
    child_page = text(child)
    package = runtime.state_machine_arn("PackageModel").replace(":stateMachine:", ":execution:")
    described = runtime.client("stepfunctions").describe_execution(
        executionArn=f"{package}:{failed.name}-package"
    )
    assert child.status == 200
    assert described["status"] == "FAILED"
    assert f"<b>{escape(described['error'])}</b>" in child_page
    assert (
        escape(described["cause"][:60]) in child_page
        or escape(json.dumps(json.loads(described["cause"]), indent=2)[:60]) in child_page
    )


def listed(app: ConsoleApp, query: str) -> list[str]:
    response = get(app, f"/console/executions?{query}")
    assert response.status == 200, text(response)
    return re.findall(r'<tr><td><a href="/console/executions/[^/"]+/([^"]+)">', text(response))


def test_the_executions_list_filters_by_tenant_workflow_status_and_time(
    runtime: LocalRuntime,
    app: ConsoleApp,
    deployed: ExecutionSnapshot,
    failed: ExecutionSnapshot,
) -> None:
    deploy, lifecycle = machine_name(runtime, "DeployEndpoint"), machine_name(runtime, "Lifecycle")
    everything = listed(app, "")
    assert {deployed.name, failed.name, f"{failed.name}-package"} <= set(everything)

    acme = listed(app, "tenant=acme")
    assert deployed.name in acme
    assert not any(name.startswith("globex_") for name in acme)
    globex = listed(app, "tenant=globex")
    assert set(globex) >= {failed.name, f"{failed.name}-package"}
    assert deployed.name not in globex

    assert listed(app, f"workflow={lifecycle}") == [failed.name]
    assert deployed.name in listed(app, f"workflow={deploy}&status=SUCCEEDED")
    assert deployed.name not in listed(app, f"workflow={deploy}&status=FAILED")
    assert failed.name in listed(app, "status=FAILED")

    started = deployed.started_at
    after = (started + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    before = (started - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert deployed.name not in listed(app, f"since={after}")
    assert deployed.name in listed(app, f"since={before}&until={after}")
    assert deployed.name not in listed(app, f"until={before}")


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("status=DONE", "status"),
        ("tenant=Not_A_Tenant", "tenant"),
        ("since=yesterday", "since"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_filter_is_answered_400_naming_it(app: ConsoleApp, query: str, names: str) -> None:
    response = get(app, f"/console/executions?{query}")

    assert response.status == 400
    assert f"bad filter: {names}" in text(response)


@pytest.mark.parametrize(
    "target",
    [
        "/console/executions/maas-deploy-endpoint/acme_no-such-execution",
        "/console/executions/no-such-workflow/acme_x",
        "/console/workflows/no-such-workflow",
        "/console/executions?workflow=no-such-workflow",
        "/console/reports/acme/no-such-evaluation",
        "/console/traces/1-00000000-000000000000000000000000",
        "/console/nothing-here",
    ],
)
def test_what_does_not_exist_is_answered_404(app: ConsoleApp, target: str) -> None:
    response = get(app, target)

    assert response.status == 404
    assert "404 Not found" in text(response)


def test_the_console_changes_nothing_and_answers_only_its_own_host(app: ConsoleApp) -> None:
    posted = app.respond("POST", "/console/executions", HOST)
    assert posted.status == 405
    assert ("Allow", "GET, HEAD") in posted.headers
    # A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) reads nothing.
    assert app.respond("GET", "/console", "evil.example:8000").status == 403
    for host in ("localhost:8000", "[::1]:8000", "127.0.0.1"):
        assert app.respond("GET", "/console", host).status == 200
    headers = dict(get(app, "/console").headers)
    assert "script-src" not in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_a_hostile_state_name_and_input_are_escaped(runtime: LocalRuntime, app: ConsoleApp) -> None:
    hostile = "<script>alert('state')</script>"
    definition = {
        "StartAt": hostile,
        "States": {hostile: {"Type": "Pass", "Next": "After"}, "After": {"Type": "Succeed"}},
    }
    stepfunctions = runtime.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name="console-hostile",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{runtime.settings.account_id}:role/console-hostile",
    )["stateMachineArn"]
    arn = stepfunctions.start_execution(
        stateMachineArn=machine,
        name="acme_hostile",
        input=json.dumps({"note": '<img src=x onerror="alert(1)">'}),
    )["executionArn"]
    wait_for_execution(stepfunctions, arn, timeout_seconds=30)

    pages = [
        text(get(app, "/console/workflows/console-hostile")),
        text(get(app, "/console/executions/console-hostile/acme_hostile")),
        text(get(app, "/console/executions?workflow=console-hostile")),
    ]
    for page in pages:
        assert "<script>" not in page
        assert "<img" not in page
    assert "&lt;script&gt;alert(&#x27;state&#x27;)&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=\\&quot;alert(1)\\&quot;&gt;" in pages[1]


def test_the_endpoints_page_shows_status_instances_and_sparklines(
    runtime: LocalRuntime,
    app: ConsoleApp,
    deployed: ExecutionSnapshot,
) -> None:
    # The figures SageMaker reports per InvokeEndpoint, as the emulation records them.
    now = datetime.now(UTC)
    runtime.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [
                    {
                        "Name": "EndpointName",
                        "Value": sagemaker_endpoint_name("acme", "console-chat"),
                    },
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
                "Timestamp": now - timedelta(minutes=minutes),
                "Value": float(minutes),
                "Unit": "None",
            }
            for minutes in (1, 3, 5)
        ],
    )

    page = text(get(app, "/console/endpoints?tenant=acme"))

    row = re.search(r"<tr><td>acme</td><td>console-chat</td>.*?</tr>", page)
    assert row, page
    assert '<span class="status IN_SERVICE">' in row.group(0)
    assert '<span class="status InService">' in row.group(0)
    assert '<td class="num">1 / 1</td>' in row.group(0)
    [invocations, *_] = re.findall(r'<polyline points="([^"]*)"', row.group(0))
    assert len(invocations.split()) == 3
    assert "console-chat" not in text(get(app, "/console/endpoints?tenant=globex"))


def test_the_models_page_shows_a_version_with_the_execution_that_packaged_it(
    runtime: LocalRuntime,
    app: ConsoleApp,
    failed: ExecutionSnapshot,
) -> None:
    page = text(get(app, "/console/models?tenant=globex"))

    child = f"{failed.name}-package"
    assert (
        f'<a href="/console/executions/{machine_name(runtime, "PackageModel")}/{child}">{child}</a>'
        in page
    )
    assert "tiny-console-fail" in page
    assert "tiny-console-fail" not in text(get(app, "/console/models?tenant=acme"))


def test_an_evaluation_report_and_its_traces_are_linked_from_the_execution_that_ran_it(
    runtime: LocalRuntime,
    app: ConsoleApp,
    deployed: ExecutionSnapshot,
    report: EvaluationReport,
) -> None:
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    location = write_report(
        report, bucket=bucket, prefix="evaluations/acme/eval-7", s3_client=runtime.client("s3")
    )
    now = datetime.now(UTC)
    EvaluationStore(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb")).create(
        EvaluationRecord(
            tenant_id="acme",
            evaluation_id="eval-7",
            status=EvaluationStatus.PASSED,
            correlation_id=deployed.name,
            endpoint_name="console-chat",
            model_id="smollm2",
            model_version="3",
            spec=EvaluationSpec(
                endpoint_name="console-chat", question_set_uri=f"s3://{bucket}/q.jsonl"
            ),
            questions=4,
            shards=1,
            report_uri=location.html_uri,
            summary_uri=location.json_uri,
            created_at=now,
            updated_at=now,
        )
    )

    page = text(
        get(app, f"/console/executions/{machine_name(runtime, 'DeployEndpoint')}/{deployed.name}")
    )

    assert '<a href="/console/reports/acme/eval-7">report</a>' in page
    for sample in report.samples:
        trace = quote(sample.answer.trace_id or "")
        assert f'<a href="/console/traces/{trace}">{sample.question.id}</a>' in page
    served = get(app, "/console/reports/acme/eval-7")
    stored = runtime.client("s3").get_object(
        Bucket=bucket, Key="evaluations/acme/eval-7/report.html"
    )
    assert served.status == 200
    assert served.body == stored["Body"].read()
    assert get(app, "/console/reports/globex/eval-7").status == 404


def test_a_running_execution_is_drawn_running_and_its_page_reloads_itself(
    runtime: LocalRuntime,
    app: ConsoleApp,
) -> None:
    definition = {
        "StartAt": "Hold on",
        "States": {"Hold on": {"Type": "Wait", "Seconds": 60, "End": True}},
    }
    stepfunctions = runtime.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name="console-waiting",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{runtime.settings.account_id}:role/console-waiting",
    )["stateMachineArn"]
    arn = stepfunctions.start_execution(stateMachineArn=machine, name="acme_waiting")[
        "executionArn"
    ]
    try:
        response = get(app, "/console/executions/console-waiting/acme_waiting")
        for _ in range(50):
            if '<g class="running">' in text(response):
                break
            response = get(app, "/console/executions/console-waiting/acme_waiting")
        assert response.header("Refresh") == "3"
        assert f'<g class="running"><a href="#{anchor("Hold on")}">' in text(response)
        assert "acme_waiting" in listed(app, "status=RUNNING")
    finally:
        stepfunctions.stop_execution(executionArn=arn)


def test_a_trace_is_shown_as_the_waterfall_the_cli_writes(
    runtime: LocalRuntime,
    app: ConsoleApp,
) -> None:
    trace_id = f"1-{int(datetime.now(UTC).timestamp()):08x}-0123456789abcdef01234567"
    start_time = datetime.now(UTC).timestamp()
    segment = {
        "trace_id": trace_id,
        "id": "70de5b6f19ff9a0a",
        "name": "invoke <chat>",
        "start_time": start_time,
        "end_time": start_time + 0.25,
        "annotations": {"tenant": "acme"},
    }
    runtime.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(segment)])

    response = get(app, f"/console/traces/{trace_id}")

    assert response.status == 200
    assert f"trace {trace_id}" in text(response)
    assert "invoke &lt;chat&gt;" in text(response)


def test_the_events_page_counts_the_bus_events_by_type_and_shows_one_type_with_its_schema(
    runtime: LocalRuntime,
    app: ConsoleApp,
    deployed: ExecutionSnapshot,
    failed: ExecutionSnapshot,
) -> None:
    log = read_event_log(runtime.client("logs"), runtime.resources.log_groups["EventLog"])
    published = [event for event in log if event["detail"].get("correlation_id") == deployed.name]
    assert published

    page = text(get(app, "/console/events"))
    for kind in {event["detail-type"] for event in log}:
        count = sum(event["detail-type"] == kind for event in log)
        assert f'?type={quote(kind)}">{kind}</a></td><td class="num">{count}</td>' in page

    in_service = text(get(app, "/console/events?type=EndpointInService&tenant=acme"))
    assert "urn:maas:schema:event.EndpointInService" in in_service
    assert f">{deployed.name}</a>" in in_service
    assert failed.name not in text(get(app, "/console/events?tenant=acme"))
    assert get(app, "/console/events?tenant=Bad_Tenant").status == 400
