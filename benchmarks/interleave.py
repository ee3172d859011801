"""What the whole-process benchmarks share: shimgen as an installed copy has it, and the order of
the tools in each round."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def byte_compile_shimgen() -> None:
    """Every module byte-compiled, as pip leaves an installed copy: an editable checkout under
    PYTHONDONTWRITEBYTECODE would compile shimgen again on every start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "shimgen")], check=True)


def environment() -> dict[str, str]:
    """This process's environment, with byte-code writing allowed (see byte_compile_shimgen)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def in_turn(tools: list[T], round_number: int) -> list[T]:
    """``tools`` in this round's order: it rotates every round, so no tool always runs first."""
    shift = round_number % len(tools)
    return tools[shift:] + tools[:shift]
