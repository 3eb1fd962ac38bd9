"""How well the local judge agrees with people, and how well EvalGen's chosen assertions do.

On the bundled labelled set (tests/data/evalgen/labelled.jsonl: 47 answers of a bookstore
support bot, each graded thumbs up or down with a note, written by hand) split at random
into a training part and a held-out part:

1. EvalGen: the task's own criteria and assertions (tests/data/evalgen/task.json), plus the
   criteria and assertion proposals of the judge, plus, with ``--graders``, the three LLM
   grader phrasings for criteria that need reading; per criterion the implementation that
   agrees best with the training grades is chosen. Printed: each criterion's choice with
   coverage, false failure rate and alignment on the training grades, and the whole set's on
   the training and on the held-out grades.
2. The judge that learns: its agreement with people on the held-out part with no
   corrections, then after ``--corrections`` corrections taken from its mistakes on the
   training part.

The judge is :class:`maas.evaluation.judges.local.LocalJudge` (SmolLM2-135M-Instruct with
constrained JSON decoding, the ``evaluation`` extra and the demo model); ``--no-judge`` runs
the code-only part of EvalGen, ``--judge-agreement-only`` uses the judge in part 2 alone (the
judge's criteria and proposals are long answers, slow on a CPU). The judge's calls, retries
and parse failures are printed. On two CPU cores shared with other work a verdict of the 135M
model took 20-40 s: the defaults keep the run to a few dozen judge calls.

Run: ``python benchmarks/judge_alignment.py [--heldout 12] [--corrections 4] [--graders]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maas.evaluation.evalgen import (
    CodeImplementation,
    Criterion,
    LabelledOutput,
    alignment_figures,
    candidates_for,
    run_assertion_set,
    select_assertions,
    suggest_criteria,
    validate_assertion,
)
from maas.evaluation.feedback import JudgeTask, measure_agreement
from maas.evaluation.jsonl_log import JsonlLog

if TYPE_CHECKING:
    from maas.evaluation.evalgen import AlignmentFigures
    from maas.evaluation.judging import Judge

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "evalgen"


def figures_line(figures: AlignmentFigures) -> str:
    return (
        f"coverage {figures.coverage:.2f} ({figures.caught}/{figures.bad} down), "
        f"FFR {figures.false_failure_rate:.2f} ({figures.false_failures}/{figures.good} up), "
        f"alignment {figures.alignment:.2f}, {figures.graded} grades"
        + (f", {figures.unjudged} unjudged" if figures.unjudged else "")
    )


def evalgen(
    judge: Judge | None,
    task: dict[str, Any],
    training: list[LabelledOutput],
    heldout: list[LabelledOutput],
    *,
    graders: bool,
) -> None:
    own: list[tuple[Criterion, list[CodeImplementation]]] = [
        (
            Criterion(name=item["name"], description=item["description"], check=item["check"]),
            [
                CodeImplementation(assertion=validate_assertion(a["kind"], a["params"]))
                for a in item["assertions"]
            ],
        )
        for item in task["criteria"]
    ]
    criteria = [criterion for criterion, _ in own]
    if judge is not None:
        samples = [item.as_output() for item in training[:3]]
        criteria = suggest_criteria(judge, task["description"], samples, user_criteria=criteria)
    extras = {criterion.name: code for criterion, code in own}
    candidates = [
        candidates_for(
            judge,
            task["description"],
            criterion,
            extra=extras.get(criterion.name, ()),
            graders=graders and criterion.check == "llm",
        )
        for criterion in criteria
    ]
    started = time.perf_counter()
    report = select_assertions(
        task["description"],
        candidates,
        [item.as_output() for item in training],
        [item.as_grade() for item in training],
        judge=judge,
    )
    print(f"EvalGen: {len(criteria)} criteria, selection {time.perf_counter() - started:.1f} s")
    for entry in report.criteria:
        rejected = (
            f", {entry.rejected_proposals} proposals rejected" if entry.rejected_proposals else ""
        )
        print(
            f"  {entry.criterion.name} ({len(entry.candidates)} candidates{rejected}): "
            f"{entry.chosen.label}\n    {figures_line(entry.chosen.figures)}"
        )
    chosen = report.assertion_set
    print(f"  the set on the training grades: {figures_line(chosen.figures)}")
    results = run_assertion_set(chosen, [item.as_output() for item in heldout], judge=judge)
    held = alignment_figures(
        {result.output_id: result.passed for result in results},
        {item.id: item.good for item in heldout},
    )
    print(f"  the set on the held-out grades: {figures_line(held)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", type=int, default=12, help="held-out outputs")
    parser.add_argument("--corrections", type=int, default=4, help="corrections to learn from")
    parser.add_argument("--graders", action="store_true", help="try the LLM grader phrasings")
    parser.add_argument("--no-judge", action="store_true", help="code assertions only")
    parser.add_argument(
        "--judge-agreement-only",
        action="store_true",
        help="use the judge only for the agreement part (EvalGen on code assertions)",
    )
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    labelled = JsonlLog(DATA / "labelled.jsonl", LabelledOutput).read()
    task = json.loads((DATA / "task.json").read_text())
    random.Random(arguments.seed).shuffle(labelled)
    heldout, training = labelled[: arguments.heldout], labelled[arguments.heldout :]
    print(
        f"labelled set: {len(labelled)} outputs ({sum(i.good for i in labelled)} up), "
        f"{len(training)} training, {len(heldout)} held out"
    )
    judge: Judge | None = None
    if not arguments.no_judge:
        started = time.perf_counter()
        from maas.evaluation.judges.local import LocalJudge

        judge = LocalJudge()
        print(f"judge: {judge.name}, loaded in {time.perf_counter() - started:.1f} s")

    evalgen_judge = None if arguments.judge_agreement_only else judge
    evalgen(evalgen_judge, task, training, heldout, graders=arguments.graders)
    if judge is None:
        return 0
    started = time.perf_counter()
    report = measure_agreement(
        judge,
        JudgeTask(id=task["id"], description=task["description"]),
        training=training,
        heldout=heldout,
        corrections=arguments.corrections,
    )
    print(f"judge agreement with people on {report.before.total} held-out outputs:")
    for label, figures in (("before", report.before), ("after", report.after)):
        print(
            f"  {label}: {figures.agreed}/{figures.total} = {figures.agreement:.2f}"
            + (f" ({figures.unjudged} unjudged)" if figures.unjudged else "")
        )
    print(
        f"  after {report.corrections} corrections from {report.training_judged} training "
        f"verdicts; {time.perf_counter() - started:.1f} s"
    )
    usage = judge.usage
    print(
        f"judge calls {usage.calls}, retries {usage.retries}, parse failures "
        f"{usage.parse_failures} ({usage.failure_share:.1%})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
