"""The console's tests run on the workflow tests' runtime (fast endpoints, no model servers)
and reuse the evaluation report of the report's own tests (with a hostile answer)."""

from tests.unit.evaluation.test_report import report
from tests.workflows.conftest import runtime

__all__ = ["report", "runtime"]
