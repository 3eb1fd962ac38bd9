"""``maas usage``: the tenant's requests, errors and tokens, and its endpoints' estimated cost.

What ``GET /v1/usage`` answers, as a table per endpoint (or per hour) with the totals and
how the cost is estimated, or as JSON with ``--json``.
"""

from __future__ import annotations

from datetime import datetime  # noqa: TC003 - typer reads the annotations when the app is built
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from maas.cli.api_common import (
    ApiOptions,
    ApiUrl,
    JsonOutput,
    ProfileName,
    Token,
    api_client,
    console,
    print_json,
    when,
)

if TYPE_CHECKING:
    from schemas.usage import UsageReport, UsageRow

_WHEN_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H%z", "%Y-%m-%d%z"]


def usage(
    *,
    start: Annotated[
        datetime | None,
        typer.Option(
            "--from",
            formats=_WHEN_FORMATS,
            help="The window's start, with a time zone (2026-12-07T09:00:00+00:00); "
            "default: a day before --to.",
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option(
            "--to", formats=_WHEN_FORMATS, help="The window's end (exclusive); default: now."
        ),
    ] = None,
    by_hour: Annotated[
        bool, typer.Option("--by-hour", help="A row per hour rather than per endpoint.")
    ] = False,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Show the tenant's usage: requests, errors, guardrail blocks, tokens in and out, and
    each endpoint's estimated instance cost (an estimate: instance-hours at on-demand
    prices, not tokens)."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        report = client.usage(start=start, end=end, group_by="hour" if by_hour else "endpoint")
    if options.as_json:
        print_json(report)
        return
    _print_report(report)


def _print_report(report: UsageReport) -> None:
    first = "hour" if report.group_by == "hour" else "endpoint"
    table = Table(
        title=f"usage {when(report.from_)} to {when(report.to)}",
        title_justify="left",
        show_edge=False,
    )
    columns = [first, "requests", "errors", "blocked", "tokens in", "tokens out"]
    if report.group_by == "endpoint":
        columns += ["instance", "instance-hours", "est. cost (USD)"]
    for column in columns:
        table.add_column(column, justify="left" if column in (first, "instance") else "right")
    for row in report.items:
        label = when(row.hour) if row.hour else row.endpoint_name or "-"
        table.add_row(label, *_cells(row, with_cost=report.group_by == "endpoint"))
    table.add_row("total", *_cells(report.totals, with_cost=report.group_by == "endpoint"))
    console.print(table)
    basis = report.cost_basis
    console.print(
        f"[dim]Cost is an {basis.method} ({basis.price_region} prices of {basis.price_date}).[/]",
        highlight=False,
        soft_wrap=True,
    )


def _cells(row: UsageRow, *, with_cost: bool) -> list[str]:
    cells = [
        str(row.requests),
        str(row.errors),
        str(row.blocked),
        str(row.tokens_in),
        str(row.tokens_out),
    ]
    if with_cost:
        hours = "-" if row.instance_hours is None else f"{row.instance_hours:.2f}"
        cost = "-" if row.estimated_cost_usd is None else f"{row.estimated_cost_usd:.4f}"
        cells += [row.instance_type or "", hours, cost]
    return cells


def register(app: typer.Typer) -> None:
    """Add ``maas usage`` to ``app``."""
    app.command("usage")(usage)


__all__ = ["register", "usage"]
