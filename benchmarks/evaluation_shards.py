"""How an evaluation scales with the number of its ``Map`` shards (1, 2 and 4).

Runs the ``evaluate`` workflow on the local runtime against an endpoint that serves the tiny
random Llama (fast, gibberish: the figure is the workflow's, not a model's), on 16 questions
(the bundled six, repeated with new ids) with the non-LLM metrics, at shard sizes 16, 8 and
4. Each shard is an evaluator job, a process of its own: it imports ragas and torch and loads
the embedding model, then answers and scores its questions. Prints, per shard count, the
wall time of the whole evaluation and the samples scored per second, and the speed-up over
one shard measured in the same run.

On two cores more shards mean more processes paying the same start-up cost at once, so the
speed-up stops early; on AWS each job gets its own vCPUs and the shards run side by side.

Run: ``python benchmarks/evaluation_shards.py`` (the local, model and evaluation extras).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = 16
SHARD_COUNTS = (1, 2, 4)
ENDPOINT = "bench-eval"


def question_set() -> bytes:
    bundled = (files("maas") / "data" / "evaluation" / "questions.jsonl").read_text()
    rows = [json.loads(line) for line in bundled.splitlines() if line]
    lines = [
        json.dumps({**rows[number % len(rows)], "id": f"q{number:02d}"})
        for number in range(QUESTIONS)
    ]
    return "\n".join(lines).encode()


def main() -> int:
    from maas.executions import wait_for_execution
    from maas.local import LocalRuntime, LocalSettings
    from tests.api.caller import ApiCaller
    from tests.local.support import wait_until
    from tests.serving_models import tiny_llama
    from tests.workflows.versions import register_version

    settings = LocalSettings(
        endpoint_create_seconds=1.0,
        endpoint_poll_seconds=1,
        model_server_startup_seconds=120,
    )
    cache = Path(tempfile.gettempdir()) / "maas-bench-models"
    cache.mkdir(exist_ok=True)
    model = tiny_llama(cache)
    with LocalRuntime(settings) as runtime:
        api = ApiCaller(runtime)
        bucket = runtime.resources.buckets["ArtifactsBucket"]
        s3 = runtime.client("s3")
        corpus = (files("maas") / "data" / "evaluation" / "corpus.jsonl").read_bytes()
        s3.put_object(Bucket=bucket, Key="acme/bench/corpus.jsonl", Body=corpus)
        s3.put_object(Bucket=bucket, Key="acme/bench/questions.jsonl", Body=question_set())
        version = register_version(runtime, "bench-tiny")
        _, _, prefix = version.artifact_uri.removeprefix("s3://").partition("/")
        for path in sorted(model.iterdir()):
            s3.put_object(Bucket=bucket, Key=f"{prefix}{path.name}", Body=path.read_bytes())
        api(
            "POST",
            "/v1/endpoints",
            body={"endpoint_name": ENDPOINT, "model": {"model_name": "bench-tiny", "version": 1}},
        )
        wait_until(
            lambda: api("GET", f"/v1/endpoints/{ENDPOINT}").body.get("status") == "IN_SERVICE",
            timeout=300,
            interval=0.5,
        )
        print(f"{QUESTIONS} questions, non-LLM metrics, the tiny model on the local runtime")
        print(f"{'shards':>6} {'seconds':>8} {'samples/s':>10} {'speed-up':>9}")
        baseline = None
        for shards in SHARD_COUNTS:
            body = {
                "endpoint_name": ENDPOINT,
                "question_set_uri": f"s3://{bucket}/acme/bench/questions.jsonl",
                "pipeline": {
                    "knowledge": {"corpus_uri": f"s3://{bucket}/acme/bench/corpus.jsonl"},
                    "generation": {"max_new_tokens": 8},
                    "guardrail": False,
                },
                "metrics": ["rouge", "exact_match", "non_llm_context_recall"],
                "shard_size": QUESTIONS // shards,
                # Batch jobs, whatever the set's size: the figure is how jobs scale.
                "runner": "batch",
            }
            started = time.perf_counter()
            accepted = api("POST", "/v1/evaluations", body=body)
            snapshot = wait_for_execution(
                runtime.client("stepfunctions"),
                accepted.body["execution_arn"],
                timeout_seconds=1800,
            )
            seconds = time.perf_counter() - started
            if snapshot.status != "SUCCEEDED":
                print(f"{shards} shards: {snapshot.status} {snapshot.error}: {snapshot.cause}")
                return 1
            baseline = baseline or seconds
            print(
                f"{shards:6d} {seconds:8.1f} {QUESTIONS / seconds:10.2f} {baseline / seconds:8.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
