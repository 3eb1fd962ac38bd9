"""How long the local guardrail engine takes, per check and per served request.

Two figures:

- **per check**: the labelled set's policy (tests/data/guardrails/policy.json: a denied
  topic, six content filters, custom words and profanity, ten PII types and a regex) applied
  to every text of the labelled set, a few times over, with the engine called directly: the
  median and p99 milliseconds per check, by source, and what a process pays once (importing
  the engine and building it). Target: a median under 50 ms.
- **per request**: the overhead of guarding a real generation. The demo model
  (SmolLM2-135M-Instruct, converted from its GGUF file as the packaging job converts it) is
  served by the local runtime behind a SageMaker endpoint, and each request is an
  ``InvokeEndpoint`` of a support question (greedy, 32 new tokens). Guarded, the request
  first checks the question (``INPUT``) and then the answer (``OUTPUT``) with
  :class:`maas.guardrails.GuardrailChecker` against the stage's default guardrail, through
  ``ApplyGuardrail`` on the emulation, as business code does. Plain and guarded requests
  alternate in rounds of the same run (as ``benchmarks/tracing.py`` measures its baseline;
  the first round warms up and is not counted). Printed: median and p99 of the plain
  request, of the guarded one, of the two checks inside each guarded request (the overhead),
  and the overhead as a fraction of the plain request. Target: a median overhead under 10%
  of the request's time without guardrails.

Run: ``make bench`` (or ``python benchmarks/guardrails.py``; needs the ``guardrails`` and
``model`` extras and the demo model; ``--strict`` exits 1 when a target is missed,
``--checks-only`` skips the served requests).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if TYPE_CHECKING:
    from maas.guardrails import GuardrailChecker

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "guardrails"
REPEATS = 5
TARGET_MS = 50.0

ROUNDS = 3
REQUESTS_PER_ROUND = 8
TARGET_OVERHEAD = 0.10
NEW_TOKENS = 32
ENDPOINT = "guardrails-bench"
#: One sequence at a time: requests are sent one after the other.
SERVING_PROPERTIES = (
    "engine=Python\noption.rolling_batch=disable\noption.max_model_len=1024\noption.dtype=bf16\n"
)
#: Everyday support questions: the guardrail lets them and their answers through.
QUESTIONS = (
    "How do I reset my online banking password?",
    "What are your opening hours on Saturdays?",
    "Can I change the address on my account online?",
    "How long does a bank transfer to another country take?",
    "Where can I find my monthly statements?",
    "How do I order a new debit card?",
    "Is there a fee for withdrawing cash abroad?",
    "How can I set up a standing order?",
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def checks() -> bool:
    """Time the engine alone, check by check; True when the target was met."""
    started = time.perf_counter()
    from maas.local.guardrails import LocalGuardrail, parse_policy

    imported = time.perf_counter()
    guardrail = LocalGuardrail(parse_policy(json.loads((DATA / "policy.json").read_text())))
    # The PII analyzer and the phone metadata load on the first check.
    guardrail.apply_text("warm up: jane@example.com", "INPUT")
    built = time.perf_counter()
    print(f"import {imported - started:.1f} s, build and first check {built - imported:.1f} s")

    rows = [json.loads(line) for line in (DATA / "labelled.jsonl").read_text().splitlines()]
    samples: dict[str, list[float]] = {"INPUT": [], "OUTPUT": []}
    for _ in range(REPEATS):
        for row in rows:
            began = time.perf_counter()
            guardrail.apply_text(row["text"], row["source"])
            samples[row["source"]].append(1000 * (time.perf_counter() - began))
    header = f"{'source':8} {'checks':>7} {'median ms':>10} {'p99 ms':>8}"
    print(f"{header}  target < {TARGET_MS:.0f} ms")
    missed = False
    for source, measured in samples.items():
        median = statistics.median(measured)
        missed |= median >= TARGET_MS
        print(
            f"{source:8} {len(measured):7d} {median:10.1f} {percentile(measured, 0.99):8.1f}"
            f"  {'ok' if median < TARGET_MS else 'MISSED'}"
        )
    return not missed


def serve_demo_model(runtime: Any, folder: Path) -> None:
    """Convert the demo model into ``folder``, upload it and serve it behind :data:`ENDPOINT`."""
    from maas.local.demo_model import demo_model_path
    from maas.packaging.series import convert_gguf

    convert_gguf(demo_model_path(), folder)
    (folder / "serving.properties").write_text(SERVING_PROPERTIES)
    bucket = runtime.resources.buckets["ArtifactsBucket"]
    s3 = runtime.client("s3")
    for path in sorted(folder.iterdir()):
        s3.put_object(Bucket=bucket, Key=f"bench/{path.name}", Body=path.read_bytes())
    sagemaker = runtime.client("sagemaker")
    source = {"S3Uri": f"s3://{bucket}/bench/", "S3DataType": "S3Prefix", "CompressionType": "None"}
    sagemaker.create_model(
        ModelName=ENDPOINT,
        PrimaryContainer={"Image": "lmi:local", "ModelDataSource": {"S3DataSource": source}},
        ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": ENDPOINT,
        "InstanceType": "ml.g5.xlarge",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=ENDPOINT, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=ENDPOINT)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=ENDPOINT, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
    )


def generate(invoke: Any, question: str) -> str:
    """One ``InvokeEndpoint``: the model's greedy answer to ``question``."""
    body = {"inputs": question, "parameters": {"max_new_tokens": NEW_TOKENS, "do_sample": False}}
    response = invoke(
        EndpointName=ENDPOINT,
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps(body),
    )
    return str(json.loads(response["Body"].read())["generated_text"])


def guarded(invoke: Any, checker: GuardrailChecker, question: str) -> float:
    """A guarded request; returns the milliseconds its two checks took."""
    began = time.perf_counter()
    prompt = checker.check(question, "INPUT")
    checked = time.perf_counter()
    if prompt.blocked:
        raise AssertionError(f"the guardrail blocked a clean question: {prompt.reasons}")
    answer = generate(invoke, prompt.text)
    generated = time.perf_counter()
    checker.check(answer, "OUTPUT")
    return 1000 * (checked - began + time.perf_counter() - generated)


def requests() -> bool:
    """Time served requests with and without guardrails; True when the target was met."""
    from maas.guardrails import GuardrailChecker, resolve_guardrail
    from maas.local import LocalRuntime, LocalSettings
    from maas.manifest import MANIFEST

    settings = LocalSettings(endpoint_create_seconds=0.2, model_server_startup_seconds=600)
    # The endpoint, its bucket and role are all this needs of the product.
    manifest = MANIFEST.model_copy(update={"functions": (), "state_machines": (), "rules": ()})
    timings: dict[bool, list[float]] = {False: [], True: []}
    overheads: list[float] = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        LocalRuntime(settings, manifest) as runtime,
    ):
        serve_demo_model(runtime, Path(scratch) / "model")
        ref = resolve_guardrail("bench", stage=runtime.bedrock.stage)
        if ref is None:
            raise SystemExit("no guardrail was provisioned: install the guardrails extra")
        checker = GuardrailChecker(ref)
        invoke = runtime.client("sagemaker-runtime").invoke_endpoint
        for number in range(ROUNDS + 1):
            for with_guardrail in (False, True) if number % 2 else (True, False):
                for index in range(REQUESTS_PER_ROUND):
                    question = QUESTIONS[index % len(QUESTIONS)]
                    began = time.perf_counter()
                    if with_guardrail:
                        spent = guarded(invoke, checker, question)
                    else:
                        generate(invoke, question)
                    elapsed = 1000 * (time.perf_counter() - began)
                    if number:  # the first round warms the model, the engine and moto up
                        timings[with_guardrail].append(elapsed)
                        if with_guardrail:
                            overheads.append(spent)

    plain = timings[False]
    print(f"{'per request':12}{'plain ms':>11}{'guarded ms':>12}{'checks ms':>11}{'fraction':>10}")
    figures = (("median", statistics.median), ("p99", lambda ms: percentile(ms, 0.99)))
    for label, figure in figures:
        without, overhead = figure(plain), figure(overheads)
        print(
            f"{label:12}{without:11.1f}{figure(timings[True]):12.1f}"
            f"{overhead:11.1f}{overhead / without:10.1%}"
        )
    share = statistics.median(overheads) / statistics.median(plain)
    verdict = "ok" if share < TARGET_OVERHEAD else "MISSED"
    print(f"target: median overhead < {TARGET_OVERHEAD:.0%} of the plain request: {verdict}")
    print(
        f"({len(plain)} requests per setup over {ROUNDS} rounds, the setups alternating; "
        f"{NEW_TOKENS} new tokens each; checks ms: the INPUT and OUTPUT checks together)"
    )
    return verdict == "ok"


def main() -> int:
    met = checks()
    if "--checks-only" not in sys.argv:
        print()
        met &= requests()
    return 1 if not met and "--strict" in sys.argv else 0


if __name__ == "__main__":
    raise SystemExit(main())
