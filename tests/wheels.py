"""Kept for benchmarks/ only (install_, payload_ and startup_workload.py import build_wheel from here).

The wheel helpers live in tests/helpers/wheels.py; delete this file once benchmarks/ imports them
from there (process_workload.py already does).
"""

from tests.helpers.wheels import build_wheel

__all__ = ["build_wheel"]
