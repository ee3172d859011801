"""The Wine harness tests the checkout it runs from, whatever its cache holds.

A cached runner once named the ``src/`` of the checkout that wrote it first, so a fresh clone's
run imported shimgen from an older tree (or failed once that tree was deleted).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import shimgen
from tests.wine.helpers import CACHE, WindowsShimgen, windows_path

pytestmark = pytest.mark.wine

WHERE = "import shimgen, click, pefile\nprint(shimgen.__file__)\nprint(click.__file__)\n"


def test_windows_python_imports_shimgen_from_this_checkout(windows_shimgen: WindowsShimgen) -> None:
    result = windows_shimgen.python_code(WHERE)
    assert result.returncode == 0, result.stderr
    shimgen_file, click_file = result.stdout.splitlines()
    assert shimgen_file.lower() == windows_path(Path(shimgen.__file__)).lower()
    # Third-party packages come from the cache; the runner itself does not live there.
    assert click_file.lower().startswith(windows_path(CACHE).lower())
    assert not windows_shimgen.script(WHERE).is_relative_to(CACHE)
