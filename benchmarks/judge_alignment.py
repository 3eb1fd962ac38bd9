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
2. The judge that learns: its agreement with people on the held-out part with nothing
   learnt, then after it has judged the training part as in use, each verdict reviewed by
   the person's grade (up to ``--corrections`` corrections): the corrections become few-shot
   examples, and the reviews fit the threshold its probability of a pass is cut at. Printed
   with the majority baseline (what "always pass" or "always fail" would agree), balanced
   accuracy and Cohen's kappa, per seed and averaged.

The judge is :class:`maas.evaluation.judges.local.LocalJudge` (SmolLM2-135M-Instruct with
constrained JSON decoding, the ``evaluation`` extra and the demo model); ``--no-judge`` runs
the code-only part of EvalGen, ``--judge-agreement-only`` uses the judge in part 2 alone (the
judge's criteria and proposals are long answers, slow on a CPU). The judge's calls, retries
and parse failures are printed. The local judge gives probabilities, so a verdict in part 2
is one forward pass over the prompt (1-5 s on two shared CPU cores), not a generated
answer (20-40 s there); a judge behind an API would take the few-shot path alone.

Run: ``python benchmarks/judge_alignment.py --judge-agreement-only [--heldout 20]
[--corrections 27] [--seed 7 1 2] [--graders]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
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
from maas.evaluation.feedback import AgreementReport, JudgeTask, measure_agreement
from maas.evaluation.jsonl_log import JsonlLog

if TYPE_CHECKING:
    from maas.evaluation.evalgen import AlignmentFigures
    from maas.evaluation.feedback import AgreementFigures
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


def agreement_line(label: str, figures: AgreementFigures) -> str:
    return (
        f"  {label}: {figures.agreed}/{figures.total} = {figures.agreement:.2f} "
        f"(majority baseline {figures.majority_baseline:.2f}), balanced accuracy "
        f"{figures.balanced_accuracy:.2f}, kappa {figures.kappa:+.2f}"
        + (f", {figures.unjudged} unjudged" if figures.unjudged else "")
    )


def judge_agreement(
    judge: Judge,
    task: dict[str, Any],
    training: list[LabelledOutput],
    heldout: list[LabelledOutput],
    *,
    corrections: int,
) -> AgreementReport:
    started = time.perf_counter()
    report = measure_agreement(
        judge,
        JudgeTask(id=task["id"], description=task["description"]),
        training=training,
        heldout=heldout,
        corrections=corrections,
    )
    print(f"judge agreement with people on {report.before.total} held-out outputs:")
    print(agreement_line("before", report.before))
    print(agreement_line("after ", report.after))
    threshold = "" if report.threshold is None else f", threshold {report.threshold:.3f}"
    print(
        f"  after {report.corrections} corrections in {report.training_judged} reviewed "
        f"training verdicts{threshold}; {time.perf_counter() - started:.1f} s"
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", type=int, default=20, help="held-out outputs")
    parser.add_argument(
        "--corrections",
        type=int,
        default=27,
        help="corrections to learn from at most (the training part ends first by default)",
    )
    parser.add_argument("--graders", action="store_true", help="try the LLM grader phrasings")
    parser.add_argument("--no-judge", action="store_true", help="code assertions only")
    parser.add_argument(
        "--judge-agreement-only",
        action="store_true",
        help="use the judge only for the agreement part (EvalGen on code assertions)",
    )
    parser.add_argument("--seed", type=int, nargs="+", default=[7], help="one split per seed")
    arguments = parser.parse_args()

    labelled = JsonlLog(DATA / "labelled.jsonl", LabelledOutput).read()
    task = json.loads((DATA / "task.json").read_text())
    judge: Judge | None = None
    if not arguments.no_judge:
        started = time.perf_counter()
        from maas.evaluation.judges.local import LocalJudge

        judge = LocalJudge()
        print(f"judge: {judge.name}, loaded in {time.perf_counter() - started:.1f} s")
    evalgen_judge = None if arguments.judge_agreement_only else judge
    reports: list[AgreementReport] = []
    for seed in arguments.seed:
        shuffled = list(labelled)
        random.Random(seed).shuffle(shuffled)
        heldout, training = shuffled[: arguments.heldout], shuffled[arguments.heldout :]
        print(
            f"seed {seed}: labelled set {len(labelled)} outputs "
            f"({sum(i.good for i in labelled)} up), {len(training)} training, "
            f"{len(heldout)} held out ({sum(i.good for i in heldout)} up)"
        )
        evalgen(evalgen_judge, task, training, heldout, graders=arguments.graders)
        if judge is not None:
            reports.append(
                judge_agreement(judge, task, training, heldout, corrections=arguments.corrections)
            )
    if len(reports) > 1:
        print(f"mean over {len(reports)} seeds:")
        for label in ("before", "after"):
            chosen = [getattr(report, label) for report in reports]
            print(
                f"  {label}: agreement {statistics.fmean(f.agreement for f in chosen):.2f} "
                f"(majority baseline {statistics.fmean(f.majority_baseline for f in chosen):.2f}), "
                f"balanced accuracy {statistics.fmean(f.balanced_accuracy for f in chosen):.2f}, "
                f"kappa {statistics.fmean(f.kappa for f in chosen):+.2f}"
            )
    if judge is not None:
        usage = judge.usage
        print(
            f"judge calls {usage.calls}, retries {usage.retries}, parse failures "
            f"{usage.parse_failures} ({usage.failure_share:.1%})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
