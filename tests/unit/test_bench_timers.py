"""The order-entry benchmark's section timers name functions that exist in the code.

A renamed function would otherwise only surface when someone asks the benchmark for a
profile, as a server that will not start.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

from section_timers import TIMED


@pytest.mark.parametrize(("title", "module_name", "attribute"), TIMED)
def test_every_timed_section_names_a_function_of_the_code(
    title: str, module_name: str, attribute: str
) -> None:
    owner: object = importlib.import_module(module_name)
    for name in attribute.split("."):
        assert hasattr(owner, name), f"{title}: {module_name}.{attribute} does not exist"
        owner = getattr(owner, name)
    assert callable(owner), title
