"""Progress: stages always reported, bytes at most once an interval, every report printed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.packaging import Progress, Stage

if TYPE_CHECKING:
    import pytest

    from schemas.packaging import VersionProgress
    from tests.unit.packaging.conftest import RecordingReporter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_byte_counts_are_reported_at_most_once_per_interval(reporter: RecordingReporter) -> None:
    clock = Clock()
    progress = Progress(reporter, interval=5.0, clock=clock)
    progress.stage(Stage.DOWNLOADING, total_bytes=1000)

    for _ in range(9):
        clock.now += 1.0
        progress.advance(10)

    assert [report.done_bytes for report in reporter.reports] == [0, 50]
    assert progress.current.done_bytes == 90


def test_a_new_stage_and_the_end_of_a_stage_are_always_reported(
    reporter: RecordingReporter,
) -> None:
    progress = Progress(reporter, interval=3600.0, clock=Clock())
    progress.stage(Stage.UPLOADING, total_bytes=100)
    progress.advance(60)
    progress.advance(40)
    progress.stage(Stage.DONE)

    assert [(report.stage, report.done_bytes) for report in reporter.reports] == [
        ("uploading", 0),
        ("uploading", 100),
        ("done", 0),
    ]


def test_every_report_is_a_line_on_stdout_for_the_jobs_log(
    reporter: RecordingReporter, capsys: pytest.CaptureFixture[str]
) -> None:
    progress = Progress(reporter)
    progress.stage(Stage.DOWNLOADING, total_bytes=4_000_000_000, message="3 files of acme/m")
    progress.failed("Maas.SourceUnavailable", "the Hub did not answer")

    assert capsys.readouterr().out.splitlines() == [
        "downloading  0 B of 4.0 GB (0%)  3 files of acme/m",
        "failed  Maas.SourceUnavailable: the Hub did not answer",
    ]
    assert reporter.failures == [("Maas.SourceUnavailable", "the Hub did not answer")]


class Unreachable:
    def progress(self, progress: VersionProgress) -> None:
        raise ConnectionError("DynamoDB is unreachable")

    def failed(self, error: str, cause: str) -> None:
        raise ConnectionError("DynamoDB is unreachable")


def test_a_reporter_that_fails_does_not_fail_the_job() -> None:
    progress = Progress(Unreachable())

    progress.stage(Stage.CONVERTING)
    progress.failed("Maas.IntegrityError", "checksum")

    assert progress.current.stage == "converting"
