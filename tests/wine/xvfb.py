"""A virtual X display for the Wine session: the GUI launcher's message boxes need one.

Without a display Wine's user32 has no driver, MessageBoxW returns at once and no window
exists to find, so the GUI launcher's error path could not be seen at all.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def virtual_display(timeout: float = 30) -> Iterator[str]:
    """Start Debian's Xvfb on a free display number and yield its name (":N"); stop it after."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run ./dev test, which installs Debian's xvfb", pytrace=False)
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
        pass_fds=(write_end,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = b""
        while not number.endswith(b"\n"):  # Xvfb writes the number it took once it listens
            if not select.select([read_end], [], [], timeout)[0] or process.poll() is not None:
                pytest.fail("Xvfb did not start", pytrace=False)
            number += os.read(read_end, 16)
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_end)
        process.terminate()
        process.wait(timeout=30)
