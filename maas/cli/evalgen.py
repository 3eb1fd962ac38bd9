"""``maas evalgen``: grade a model's outputs thumbs up or down, for EvalGen to align with.

``import`` adds outputs (JSONL: ``id``, ``input``, ``output``, optional ``reference``) to a
grading session; ``grade`` records one grade without prompting (for scripts, and for the
evaluation workflow's human-review step); ``review`` shows the ungraded outputs one at a
time and asks for a grade; ``status`` counts. Sessions are directories under ``--dir``
(see :mod:`maas.evaluation.evalgen.grading`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from maas.cli.exit_codes import ExitCode
from maas.evaluation.evalgen.grading import GradingSession
from maas.evaluation.evalgen.records import EvalOutput, Thumb
from maas.exceptions import Conflict, MaasError, NotFound, ValidationError
from maas.validation import parse

evalgen_app = typer.Typer(
    help="EvalGen: grade outputs thumbs up or down to choose the assertions that agree.",
    no_args_is_help=True,
)
console = Console()

#: Where grading sessions live unless ``--dir`` or ``MAAS_EVALGEN_DIR`` says otherwise:
#: beside the project a person grades for, like its other evaluation files.
DEFAULT_DIR = Path(".maas") / "evalgen"
DIR_VARIABLE = "MAAS_EVALGEN_DIR"

SessionArgument = Annotated[str, typer.Argument(help="The grading session's name.")]
DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar=DIR_VARIABLE,
        help="Where sessions are kept (default: .maas/evalgen in the current directory).",
    ),
]

_OUTPUT_FIELDS = ("id", "input", "output", "reference")


def _session(name: str, directory: Path | None) -> GradingSession:
    return GradingSession(directory or DEFAULT_DIR, name)


def _fail(error: MaasError) -> typer.Exit:
    console.print(
        f"[bold red]{error.error_name}[/]: {error.message}", highlight=False, soft_wrap=True
    )
    if isinstance(error, NotFound):
        return typer.Exit(code=ExitCode.NOT_FOUND)
    if isinstance(error, Conflict):
        return typer.Exit(code=ExitCode.CONFLICT)
    return typer.Exit(code=ExitCode.INVALID)


@evalgen_app.command("import")
def import_outputs(
    session: SessionArgument,
    file: Annotated[Path, typer.Argument(help="JSONL of outputs: id, input, output, reference.")],
    *,
    grades: Annotated[
        bool,
        typer.Option(help="Also import each line's grade (up|down) and note, when it has one."),
    ] = False,
    directory: DirOption = None,
) -> None:
    """Add outputs to grade to SESSION (other fields of each line are ignored)."""
    try:
        target = _session(session, directory)
        lines = [
            (number, json.loads(line))
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
            if line.strip()
        ]
        outputs = []
        for number, line in lines:
            if not isinstance(line, dict):
                raise ValidationError(f"{file}: line {number}: not a JSON object")
            try:
                fields = {name: line[name] for name in _OUTPUT_FIELDS if name in line}
                outputs.append(parse(EvalOutput, fields))
            except ValidationError as error:
                raise ValidationError(f"{file}: line {number}: {error.message}") from None
        added = target.add_outputs(outputs)
        graded = 0
        if grades:
            for _, line in lines:
                if line.get("grade") in ("up", "down"):
                    target.grade(line["id"], Thumb(line["grade"]), note=line.get("note"))
                    graded += 1
    except json.JSONDecodeError as error:
        console.print(
            f"[bold red]Maas.ValidationError[/]: {file}: not JSONL ({error.msg})", soft_wrap=True
        )
        raise typer.Exit(code=ExitCode.INVALID) from None
    except MaasError as error:
        raise _fail(error) from None
    console.print(
        f"{added} new outputs in session [bold]{session}[/] ({len(outputs) - added} already held)"
        + (f", {graded} grades" if grades else "")
    )


@evalgen_app.command("grade")
def grade(
    session: SessionArgument,
    *,
    output: Annotated[str, typer.Option("--output", help="The output's id.")],
    up: Annotated[bool, typer.Option("--up/--down", help="Thumbs up or thumbs down.")],
    note: Annotated[str | None, typer.Option(help="Why, in a few words.")] = None,
    directory: DirOption = None,
) -> None:
    """Grade one output of SESSION thumbs up or down (the latest grade of an output counts)."""
    try:
        target = _session(session, directory)
        recorded = target.grade(output, Thumb.UP if up else Thumb.DOWN, note=note)
    except MaasError as error:
        raise _fail(error) from None
    console.print(f"{recorded.output_id}: thumbs {recorded.grade.value}", highlight=False)


@evalgen_app.command("review")
def review(
    session: SessionArgument,
    *,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many grades.")] = None,
    directory: DirOption = None,
) -> None:
    """Show SESSION's ungraded outputs one at a time and ask for a grade:
    [bold]u[/]p, [bold]d[/]own, [bold]s[/]kip or [bold]q[/]uit."""
    try:
        target = _session(session, directory)
        pending = target.ungraded()
    except MaasError as error:
        raise _fail(error) from None
    graded = 0
    for index, item in enumerate(pending, start=1):
        if limit is not None and graded >= limit:
            break
        body = f"[bold]Input[/]\n{item.input}\n\n[bold]Output[/]\n{item.output}"
        if item.reference:
            body += f"\n\n[dim]Reference[/]\n{item.reference}"
        console.print(Panel(body, title=f"{item.id} ({index}/{len(pending)})", highlight=False))
        choice = ""
        while choice not in ("u", "d", "s", "q"):
            choice = typer.prompt("grade [u]p, [d]own, [s]kip, [q]uit").strip().lower()[:1]
        if choice == "q":
            break
        if choice == "s":
            continue
        note = typer.prompt("note (Enter for none)", default="", show_default=False)
        target.grade(item.id, Thumb.UP if choice == "u" else Thumb.DOWN, note=note.strip())
        graded += 1
    left = len(target.ungraded())
    console.print(f"{graded} graded in this review, {left} left ungraded in [bold]{session}[/]")


@evalgen_app.command("status")
def status(session: SessionArgument, *, directory: DirOption = None) -> None:
    """Count SESSION's outputs and grades."""
    try:
        target = _session(session, directory)
        outputs = target.outputs()
        latest = target.latest_grades()
    except MaasError as error:
        raise _fail(error) from None
    up = sum(latest.values())
    console.print(
        f"{session}: {len(outputs)} outputs, {len(latest)} graded "
        f"({up} up, {len(latest) - up} down), {len(outputs) - len(latest)} ungraded",
        highlight=False,
    )


__all__ = ["DIR_VARIABLE", "evalgen_app"]
