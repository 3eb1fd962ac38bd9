"""Per-invocation environments: each thread sees its overlay over the process environment."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from maas.local import environ

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def layered(monkeypatch: pytest.MonkeyPatch) -> Iterator[environ.LayeredEnviron]:
    """``os.environ`` replaced by the layered view, with ``PROCESS_WIDE`` set underneath."""
    monkeypatch.setenv("PROCESS_WIDE", "everyone")
    monkeypatch.delenv("COLOUR", raising=False)
    installed = environ.install()
    try:
        yield installed
    finally:
        environ.uninstall()


def test_threads_with_different_overlays_each_see_only_their_own_variables(
    layered: environ.LayeredEnviron,
) -> None:
    both_inside = threading.Barrier(2)

    def read(overlay: dict[str, str]) -> dict[str, str | None]:
        with environ.overlay(overlay):
            both_inside.wait(timeout=5)
            return {
                name: os.environ.get(name)
                for name in ("COLOUR", "ONLY_RED", "ONLY_BLUE", "PROCESS_WIDE")
            }

    with ThreadPoolExecutor(max_workers=2) as pool:
        red, blue = pool.map(
            read, [{"COLOUR": "red", "ONLY_RED": "1"}, {"COLOUR": "blue", "ONLY_BLUE": "2"}]
        )

    assert red == {"COLOUR": "red", "ONLY_RED": "1", "ONLY_BLUE": None, "PROCESS_WIDE": "everyone"}
    assert blue == {
        "COLOUR": "blue",
        "ONLY_RED": None,
        "ONLY_BLUE": "2",
        "PROCESS_WIDE": "everyone",
    }


def test_an_overlay_ends_with_its_block(layered: environ.LayeredEnviron) -> None:
    with environ.overlay({"COLOUR": "red"}):
        assert os.getenv("COLOUR") == "red"

    assert os.getenv("COLOUR") is None
    assert "COLOUR" not in os.environ


def test_an_overlay_shadows_the_process_variable_of_the_same_name(
    layered: environ.LayeredEnviron,
) -> None:
    with environ.overlay({"PROCESS_WIDE": "just-me"}):
        assert os.environ["PROCESS_WIDE"] == "just-me"

    assert os.environ["PROCESS_WIDE"] == "everyone"


def test_a_copy_holds_the_overlay_and_the_process_environment_once_each(
    layered: environ.LayeredEnviron,
) -> None:
    with environ.overlay({"COLOUR": "red", "PROCESS_WIDE": "just-me"}):
        seen = os.environ.copy()
        names = list(os.environ)
        size = len(os.environ)

    assert seen["COLOUR"] == "red"
    assert seen["PROCESS_WIDE"] == "just-me"
    assert seen["PATH"] == layered.base["PATH"]
    assert len(names) == len(set(names)) == size == len(seen)


def test_writes_inside_an_overlay_go_to_the_process_environment(
    layered: environ.LayeredEnviron, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WRITTEN", raising=False)

    with environ.overlay({"COLOUR": "red"}):
        os.environ["WRITTEN"] = "by-a-handler"

    assert layered.base["WRITTEN"] == "by-a-handler"
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(os.environ.get, "WRITTEN").result() == "by-a-handler"
    del os.environ["WRITTEN"]
    assert "WRITTEN" not in layered.base


def test_a_subprocess_inherits_the_process_environment_not_the_overlay(
    layered: environ.LayeredEnviron,
) -> None:
    script = "import os; print(os.environ.get('COLOUR'), os.environ.get('PROCESS_WIDE'))"

    with environ.overlay({"COLOUR": "red"}):
        printed = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout

    assert printed.split() == ["None", "everyone"]


def test_install_is_idempotent(layered: environ.LayeredEnviron) -> None:
    assert environ.install() is layered
    assert os.environ is layered


def test_uninstall_restores_the_real_os_environ() -> None:
    real = os.environ

    environ.install()
    assert isinstance(os.environ, environ.LayeredEnviron)
    environ.uninstall()

    assert os.environ is real
    assert not isinstance(os.environ, environ.LayeredEnviron)
