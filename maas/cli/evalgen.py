"""``maas evalgen``: grade a model's outputs thumbs up or down, choose the assertions that
agree, store them with the model version.

``import`` adds outputs (JSONL: ``id``, ``input``, ``output``, optional ``reference``) to a
grading session; ``grade`` records one grade without prompting (for scripts, and for the
evaluation workflow's human-review step); ``review`` shows the ungraded outputs one at a
time and asks for a grade; ``status`` counts. ``criteria`` sets the criteria with their
candidate assertions (a judge's and yours), ``select`` chooses per criterion the one that
agrees best with the grades, and ``store`` sends the chosen set to the API, where it is kept
with a model version. Sessions are directories under ``--dir`` (see
:mod:`maas.evaluation.evalgen.grading`); the API keeps sessions of its own
(``/v1/evalgen/sessions``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from maas.cli.api_common import (
    ApiOptions,
    ApiUrl,
    JsonOutput,
    ProfileName,
    Token,
    api_client,
    print_json,
)
from maas.cli.exit_codes import ExitCode
from maas.evaluation.evalgen.assertions import validate_assertion
from maas.evaluation.evalgen.criteria import candidates_for, suggest_criteria
from maas.evaluation.evalgen.grading import GradingSession
from maas.evaluation.evalgen.implementations import CodeImplementation
from maas.evaluation.evalgen.records import Criterion, EvalOutput, Thumb
from maas.evaluation.evalgen.sessions import GradeSpec
from maas.evaluation.judges.spec import make_judge
from maas.exceptions import Conflict, MaasError, NotFound, ValidationError
from maas.validation import parse

if TYPE_CHECKING:
    from maas.evaluation.evalgen.alignment import AlignmentFigures

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

RemoteOption = Annotated[
    bool,
    typer.Option(
        "--remote",
        help="The API's session of that name (/v1/evalgen/sessions), not a local one.",
    ),
]

_OUTPUT_FIELDS = ("id", "input", "output", "reference")


def _session(name: str, directory: Path | None) -> GradingSession:
    return GradingSession.on_disk(directory or DEFAULT_DIR, name)


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
    remote: RemoteOption = False,
    directory: DirOption = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
) -> None:
    """Grade one output of SESSION thumbs up or down (the latest grade of an output counts)."""
    thumb = Thumb.UP if up else Thumb.DOWN
    if remote:
        with api_client(ApiOptions(api_url, token, profile)) as client:
            recorded = client.grade_evalgen_output(
                session, GradeSpec(output_id=output, grade=thumb, note=note)
            )
    else:
        try:
            recorded = _session(session, directory).grade(output, thumb, note=note)
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
def status(
    session: SessionArgument,
    *,
    remote: RemoteOption = False,
    directory: DirOption = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
) -> None:
    """Count SESSION's outputs and grades."""
    if remote:
        with api_client(ApiOptions(api_url, token, profile)) as client:
            found = client.get_evalgen_session(session)
    else:
        try:
            found = _session(session, directory).status()
        except MaasError as error:
            raise _fail(error) from None
    console.print(
        f"{session}: {found.outputs} outputs, {found.graded} graded "
        f"({found.up} up, {found.down} down), {found.ungraded} ungraded",
        highlight=False,
    )


def _criteria_given(values: list[str]) -> list[Criterion]:
    """``name=description`` pairs as a person's criteria (checked by code)."""
    given = []
    for value in values:
        name, sign, description = value.partition("=")
        if not sign:
            raise typer.BadParameter(
                f"{value!r}: write NAME=DESCRIPTION, e.g. concise='At most 60 words.'",
                param_hint="--criterion",
            )
        given.append(
            parse(Criterion, {"name": name.strip(), "description": description, "check": "code"})
        )
    return given


def _assertions_given(values: list[str]) -> dict[str, list[CodeImplementation]]:
    """``name=kind`` or ``name=kind:{json params}`` as each criterion's own candidates."""
    given: dict[str, list[CodeImplementation]] = {}
    for value in values:
        name, sign, spec = value.partition("=")
        kind, _, params = spec.partition(":")
        try:
            parsed = json.loads(params) if params else {}
        except json.JSONDecodeError as error:
            raise typer.BadParameter(
                f"{value!r}: the parameters are not JSON ({error.msg})", param_hint="--assertion"
            ) from None
        if not sign or not kind or not isinstance(parsed, dict):
            raise typer.BadParameter(
                f"{value!r}: write CRITERION=KIND or CRITERION=KIND:{{JSON params}}, "
                'e.g. concise=max_words:{"limit": 60}',
                param_hint="--assertion",
            )
        implementation = CodeImplementation(assertion=validate_assertion(kind.strip(), parsed))
        given.setdefault(name.strip(), []).append(implementation)
    return given


@evalgen_app.command("criteria")
def criteria(
    session: SessionArgument,
    *,
    task: Annotated[
        str | None,
        typer.Option(help="What the model was asked to do (needed the first time)."),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(
            help="A judge to suggest criteria and propose assertions: local, sagemaker or "
            "bedrock, or a judge spec as JSON."
        ),
    ] = None,
    criterion: Annotated[
        list[str] | None,
        typer.Option(help="NAME=DESCRIPTION of a criterion of your own (repeat for more)."),
    ] = None,
    assertion: Annotated[
        list[str] | None,
        typer.Option(
            help='CRITERION=KIND[:{"param": ...}]: a vetted assertion to try for a criterion '
            "(repeat for more)."
        ),
    ] = None,
    directory: DirOption = None,
) -> None:
    """Set SESSION's criteria, each with candidate assertions from the vetted library.

    The criteria are yours (--criterion) and, with --judge, the judge's suggestions from the
    task and a few outputs; each gets your --assertion candidates and, with --judge, the
    kinds and parameters the judge proposes (refused proposals are counted, never run).
    """
    try:
        target = _session(session, directory)
        if task is not None:
            target.begin(task)
        info = target.info()
        if info is None:
            raise ValidationError(f"task: session {session!r} has none yet; give --task")
        own = _criteria_given(criterion or [])
        extra = _assertions_given(assertion or [])
        chosen_judge = None
        if judge is not None:
            try:
                spec = json.loads(judge) if judge.startswith("{") else {"kind": judge}
            except json.JSONDecodeError as error:
                raise ValidationError(f"judge: not a judge spec ({error.msg})") from None
            chosen_judge = make_judge(spec)
            samples = target.outputs()
            own = suggest_criteria(chosen_judge, info.task, samples, user_criteria=own)
        names = {item.name for item in own}
        unknown = sorted(set(extra) - names)
        if unknown:
            raise ValidationError(
                f"assertion: no criterion {', '.join(unknown)} (criteria: "
                f"{', '.join(sorted(names)) or 'none'})"
            )
        candidates = [
            candidates_for(
                chosen_judge, info.task, item, extra=extra.get(item.name, ()), graders=False
            )
            for item in own
        ]
        bare = [entry.criterion.name for entry in candidates if not entry.implementations]
        if bare:
            raise ValidationError(
                f"criteria: {', '.join(bare)} without a candidate assertion; give "
                "--assertion NAME=KIND or --judge"
            )
        if not candidates:
            raise ValidationError("criteria: none given; give --criterion or --judge")
        target.set_criteria(candidates)
    except MaasError as error:
        raise _fail(error) from None
    table = Table(show_edge=False)
    for column in ("criterion", "check", "candidates", "refused"):
        table.add_column(column)
    for entry in candidates:
        table.add_row(
            entry.criterion.name,
            entry.criterion.check,
            "\n".join(implementation.label for implementation in entry.implementations),
            str(len(entry.rejected)),
        )
    console.print(table)
    console.print(f"{len(candidates)} criteria set for [bold]{session}[/]")


def _figures(figures: AlignmentFigures) -> tuple[str, str, str]:
    return (
        f"{figures.coverage:.2f} ({figures.caught}/{figures.bad})",
        f"{figures.false_failure_rate:.2f} ({figures.false_failures}/{figures.good})",
        f"{figures.alignment:.2f}",
    )


@evalgen_app.command("select")
def select(
    session: SessionArgument,
    *,
    max_ffr: Annotated[
        float | None,
        typer.Option(
            "--max-ffr",
            min=0.0,
            max=1.0,
            help="Leave out a criterion whose choice falsely fails more of the thumbs-up.",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    directory: DirOption = None,
) -> None:
    """Choose per criterion of SESSION the candidate that agrees best with the grades.

    Shows each criterion's choice with its coverage (thumbs-down outputs it fails), false
    failure rate (thumbs-up outputs it fails) and alignment, then the whole set's; the
    choice is kept for `maas evalgen store`.
    """
    try:
        report = _session(session, directory).select(max_false_failure_rate=max_ffr)
    except MaasError as error:
        raise _fail(error) from None
    if json_output:
        typer.echo(report.model_dump_json(indent=2))
        return
    table = Table(show_edge=False)
    for column in ("criterion", "chosen", "coverage", "FFR", "alignment", "candidates"):
        table.add_column(column)
    for entry in report.criteria:
        table.add_row(
            entry.criterion.name,
            entry.chosen.label,
            *_figures(entry.chosen.figures),
            str(len(entry.candidates)),
        )
    chosen = report.assertion_set
    table.add_row(
        "[bold]the set[/]", f"{len(chosen.assertions)} assertions", *_figures(chosen.figures), ""
    )
    console.print(table)
    for name, reason in chosen.dropped.items():
        console.print(f"{name} left out: {reason}", highlight=False)


@evalgen_app.command("store")
def store(
    session: SessionArgument,
    *,
    model: Annotated[str, typer.Option("--model", help="The model's name in the registry.")],
    version: Annotated[int, typer.Option("--version", min=1, help="The version number.")],
    directory: DirOption = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Store SESSION's latest chosen set with a model version, through the API: the
    `assertions` metric of the version's later evaluations runs it."""
    try:
        chosen = _session(session, directory).chosen_set()
    except MaasError as error:
        raise _fail(error) from None
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        stored = client.put_assertion_set(model, version, assertion_set=chosen)
    if options.as_json:
        print_json(stored)
        return
    console.print(
        f"{len(chosen.assertions)} assertions stored with version {stored.version} of "
        f"{stored.model_name}",
        highlight=False,
    )


__all__ = ["DIR_VARIABLE", "evalgen_app"]
