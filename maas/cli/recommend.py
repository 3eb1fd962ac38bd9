"""``maas recommend``: size a model from its config and say how to serve it on SageMaker.

The model comes from a local ``config.json`` (or a checkpoint directory holding one, whose
``*.safetensors`` headers are read too) or from the Hugging Face Hub. The report is printed
as one JSON object (``--json``) or as tables with the reason for each choice.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pydantic
import typer
from rich.table import Table

from maas.advisor import (
    ServingRequest,
    TensorInfo,
    advise,
    fetch_safetensors_headers,
    read_safetensors_headers,
)
from maas.exceptions import MaasError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rich.console import Console

    from maas.advisor import AdvisorReport, Recommendation


class InputError(Exception):
    """Input the command cannot use; the message is the one line the user sees."""


def load_config(path: Path) -> tuple[dict[str, Any], dict[str, TensorInfo] | None]:
    """A ``config.json`` file, or a checkpoint directory's config and safetensors headers."""
    directory = path if path.is_dir() else None
    file = path / "config.json" if directory is not None else path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--config: no such file: {file}") from None
    except OSError as error:
        raise InputError(f"--config: cannot read {file}: {error.strerror}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"--config: {file} is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise InputError(f"--config: {file} does not hold a JSON object")
    headers = None
    if directory is not None and any(directory.glob("*.safetensors")):
        headers = read_safetensors_headers(directory)
    return config, headers


def fetch_config(
    model_id: str, revision: str | None
) -> tuple[dict[str, Any], dict[str, TensorInfo] | None]:
    """A Hub model's ``config.json`` and safetensors headers (needs ``huggingface_hub``)."""
    try:
        hub = importlib.import_module("huggingface_hub")
    except ImportError:
        raise InputError(
            "--model needs huggingface_hub (pip install huggingface_hub), or pass --config"
        ) from None
    try:
        path = hub.hf_hub_download(model_id, "config.json", revision=revision)
        config, _ = load_config(Path(path))
        headers = fetch_safetensors_headers(model_id, revision=revision)
    except (InputError, MaasError):
        raise
    except Exception as error:  # the Hub's errors: not found, gated, offline, ...
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise InputError(
            f"--model: cannot read {model_id} from the Hub: {type(error).__name__}: {first_line}"
        ) from None
    return config, headers


def run_recommend(
    console: Console,
    *,
    config_path: Path | None,
    model: str | None,
    revision: str | None,
    request_fields: Mapping[str, Any],
    as_json: bool,
) -> None:
    """Load the model, advise, print; any input error exits 1 with one line on stderr."""
    try:
        if (config_path is None) == (model is None):
            raise InputError("give exactly one of --config and --model")
        if config_path is not None:
            config, headers = load_config(config_path)
        else:
            config, headers = fetch_config(str(model), revision)
        request = ServingRequest(**request_fields)
        report = advise(
            config,
            request,
            safetensors_headers=headers,
            model=model or _model_name(config, config_path),
        )
    except InputError as error:
        _fail(str(error))
    except MaasError as error:
        _fail(f"{error.error_name}: {error.message}")
    except pydantic.ValidationError as error:
        _fail(
            "; ".join(
                f"{'.'.join(map(str, item['loc'])) or 'request'}: {item['msg']}"
                for item in error.errors()
            )
        )
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json")))
    else:
        render(console, report)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def _model_name(config: Mapping[str, Any], path: Path | None) -> str | None:
    name = config.get("_name_or_path")
    if isinstance(name, str) and name:
        return name
    if path is None:
        return None
    if path.is_dir() or path.stem == "config":
        return path.resolve().parent.name if path.is_file() else path.resolve().name
    return path.stem


def _gb(value: float) -> str:
    return f"{value / 1e9:,.2f} GB"


def render(console: Console, report: AdvisorReport) -> None:
    """The report as tables: the model's sizes, the choice, its reasons, the runners-up."""
    request = report.request
    title = report.model or report.family
    sizes = Table(title=f"{title} ({report.family})", show_header=False, title_justify="left")
    sizes.add_column(style="bold")
    sizes.add_column(justify="right")
    sizes.add_row("parameters", f"{report.parameters:,} (from {report.parameters_source})")
    if report.active_parameters != report.parameters:
        sizes.add_row("active parameters per token", f"{report.active_parameters:,}")
    for fmt, size in report.weight_bytes_by_format.items():
        sizes.add_row(f"weights, {fmt}", _gb(size))
    sizes.add_row("KV cache per token (bf16)", f"{report.kv_bytes_per_token:,} B")
    sizes.add_row(
        f"  at {request.context_tokens} tokens of context",
        f"{report.kv_bytes_per_token_at_context:,.0f} B per token, "
        f"{_gb(report.kv_bytes_per_sequence)} per sequence",
    )
    sizes.add_row(
        f"prefill peak above the weights ({request.concurrent_requests} x "
        f"{request.prompt_tokens} tokens)",
        _gb(report.prefill_peak_over_weights_bytes),
    )
    console.print(sizes)

    best = report.recommendation
    choices = Table(
        title=f"Serving {request.concurrent_requests} sequence(s) of {request.context_tokens} "
        f"tokens, ranked by {request.preference}",
        title_justify="left",
    )
    choices.add_column("#", justify="right", no_wrap=True, min_width=1)
    choices.add_column("instance", no_wrap=True)
    for column in ("TP", "engine", "quant", "batch", "ms/tok", "tok/s", "USD/1M tok"):
        choices.add_column(column, justify="right", no_wrap=True)
    for index, option in enumerate([best, *report.runners_up], start=1):
        choices.add_row(str(index), *_cells(option), style="bold green" if index == 1 else "")
    console.print(choices)
    console.print("[bold]why[/]")
    for key, reason in best.reasons.items():
        console.print(f"  [bold]{key}[/]: {reason}", highlight=False)
    _render_alternatives(console, report)
    for note in report.notes:
        console.print(f"  [dim]note[/]: {note}", highlight=False)
    console.print(
        f"[dim]{report.candidates_fitting} of {report.candidates_considered} configurations fit; "
        f"prices {report.assumptions.price_region} on-demand as of "
        f"{report.assumptions.price_date}; speeds are HBM-bandwidth bounds[/]"
    )


def _render_alternatives(console: Console, report: AdvisorReport) -> None:
    """What would serve cheaper or on other silicon, each with the step it needs first."""
    alternatives = [
        (label, option)
        for label, option in (
            ("quantized", report.quantized_alternative),
            ("Neuron", report.neuron_alternative),
        )
        if option is not None
    ]
    if not alternatives:
        return
    table = Table(title="Alternatives (each needs a step first)", title_justify="left")
    table.add_column("kind", no_wrap=True)
    table.add_column("instance", no_wrap=True)
    for column in ("TP", "engine", "quant", "batch", "ms/tok", "tok/s", "USD/1M tok"):
        table.add_column(column, justify="right", no_wrap=True)
    for label, option in alternatives:
        table.add_row(label, *_cells(option))
    console.print(table)
    for label, option in alternatives:
        console.print(f"  [bold]{label}[/] needs: {option.requires}", highlight=False)
        compilation = option.neuron_compilation
        if compilation is not None:
            console.print(
                f"  [bold]{label}[/] compiles {compilation.graphs} graphs (buckets "
                f"{', '.join(map(str, compilation.buckets))}) in about "
                f"{compilation.estimated_compile_seconds / 60:.0f} min: "
                f"{compilation.estimate_basis}",
                highlight=False,
            )


def _cells(option: Recommendation) -> list[str]:
    return [
        option.instance_type,
        str(option.tensor_parallel_degree),
        option.engine,
        option.quantization,
        str(option.max_rolling_batch_size),
        f"{option.decode_step_ms:.2f}",
        f"{option.decode_tokens_per_s:,.0f}",
        f"{option.cost_per_million_tokens_usd:.3f}" + ("*" if option.price_is_estimate else ""),
    ]


__all__ = ["InputError", "fetch_config", "load_config", "render", "run_recommend"]
