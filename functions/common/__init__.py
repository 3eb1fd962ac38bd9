"""What every handler shares: the shape of a Step Functions task's input."""

from functions.common.inputs import StepInput, VersionPlanInput, int_setting

__all__ = ["StepInput", "VersionPlanInput", "int_setting"]
