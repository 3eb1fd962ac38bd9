"""EvalGen: assertions chosen to agree with people's grades (Shankar et al., arXiv 2404.12272).

The judge suggests criteria for a task (:mod:`~maas.evaluation.evalgen.criteria`); each
criterion gets candidate implementations: assertions from a vetted library whose kind and
parameters the judge proposes (:mod:`~maas.evaluation.evalgen.assertions`, never code a
model wrote) and LLM-grader prompts (:mod:`~maas.evaluation.evalgen.implementations`). A
person grades outputs thumbs up or down (:mod:`~maas.evaluation.evalgen.grading`), and per
criterion the implementation that agrees best with the grades is chosen
(:mod:`~maas.evaluation.evalgen.selection`, figures in :mod:`~maas.evaluation.evalgen.alignment`).
The chosen set is stored with the model version (:mod:`maas.registry.assertion_sets`) and run
by later evaluations with :func:`run_assertion_set`. A session's records are kept in files for
the CLI or in the models table for the API (:mod:`~maas.evaluation.evalgen.session_table`,
with the API's bodies in :mod:`~maas.evaluation.evalgen.sessions`).
"""

from maas.evaluation.evalgen.alignment import AlignmentFigures, alignment_figures
from maas.evaluation.evalgen.assertions import ASSERTION_KINDS, AssertionSpec, validate_assertion
from maas.evaluation.evalgen.criteria import (
    Candidates,
    candidates_for,
    propose_code_assertions,
    suggest_criteria,
)
from maas.evaluation.evalgen.exceptions import InvalidAssertion, UnknownOutput
from maas.evaluation.evalgen.grading import (
    FileSessionStorage,
    GradingSession,
    SessionInfo,
    SessionStatus,
    SessionStorage,
)
from maas.evaluation.evalgen.implementations import (
    CodeImplementation,
    GraderImplementation,
    grader_candidates,
)
from maas.evaluation.evalgen.records import (
    Criterion,
    EvalOutput,
    Grade,
    GraderVerdict,
    LabelledOutput,
    Thumb,
)
from maas.evaluation.evalgen.selection import (
    AssertionSet,
    SelectionReport,
    run_assertion_set,
    select_assertions,
)

__all__ = [
    "ASSERTION_KINDS",
    "AlignmentFigures",
    "AssertionSet",
    "AssertionSpec",
    "Candidates",
    "CodeImplementation",
    "Criterion",
    "EvalOutput",
    "FileSessionStorage",
    "Grade",
    "GraderImplementation",
    "GraderVerdict",
    "GradingSession",
    "InvalidAssertion",
    "LabelledOutput",
    "SelectionReport",
    "SessionInfo",
    "SessionStatus",
    "SessionStorage",
    "Thumb",
    "UnknownOutput",
    "alignment_figures",
    "candidates_for",
    "grader_candidates",
    "propose_code_assertions",
    "run_assertion_set",
    "select_assertions",
    "suggest_criteria",
    "validate_assertion",
]
