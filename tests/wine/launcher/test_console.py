"""Console control events through a console launcher (step 4's "the tool decides", step 6's close).

The launcher, the tool and a driver (programs/console.c) share a new console. Ctrl-C is sent with
GenerateConsoleCtrlEvent, which Wine 8 delivers. Wine 8 cannot send Ctrl-Break (its wineserver
answers CTRL_BREAK_EVENT with STATUS_NOT_IMPLEMENTED, seen as GenerateConsoleCtrlEvent failing with
ERROR_INVALID_HANDLE) nor close, logoff or shutdown (closing its console window ends every process
on it without an event). Those are delivered as Windows' console host delivers every control
event: a thread in each process on the console running kernelbase's CtrlRoutine(event), which
calls that process's handlers. A control shows that such an event does end a process that has no
handler of its own.
"""

from __future__ import annotations

import pytest

from tests.wine.helpers import Env, Wine, windows_path
from tests.wine.launcher.helpers import Programs

pytestmark = pytest.mark.wine


def _drive(wine: Wine, programs: Programs, event: str, app: str, mode: str = "tool") -> list[str]:
    result = wine.run(programs.console, "drive", event, app, mode, timeout=120)
    return result.stdout.splitlines()


@pytest.mark.parametrize(("event", "code"), [("ctrl-c", 42), ("ctrl-break", 43)])
def test_ctrl_c_and_ctrl_break_are_the_tools_to_handle(
    wine: Wine, env: Env, programs: Programs, event: str, code: int
) -> None:
    """The launcher survives the event, the tool decides (here: a code of its own), and the launcher
    exits with it. A launcher that died of the event would exit 0xc000013a and take the tool along."""
    env.link("tool", env.add_file("tool", "1.0", programs.console))
    lines = _drive(wine, programs, event, windows_path(env.launcher("tool")))
    assert lines == [
        f"driver: sends {event}",
        f"tool: {event}",
        f"tool: exits {code}",
        f"driver: launcher exit=0x{code:08x}, tool running=0",
        f"driver: tool exit=0x{code:08x}",
    ]


@pytest.mark.parametrize("event", ["close", "logoff", "shutdown"])
def test_on_console_close_the_tool_outlives_the_launcher_to_clean_up(
    wine: Wine, env: Env, programs: Programs, event: str
) -> None:
    """The launcher is about to die: it clears kill-on-close first, so the tool finishes cleaning up."""
    env.link("tool", env.add_file("tool", "1.0", programs.console))
    lines = _drive(wine, programs, event, windows_path(env.launcher("tool")))
    assert lines[0] == "driver: sends " + event, lines
    # The tool's first line and the launcher's end race; what matters is that the tool still ran
    # when the launcher had ended, and finished cleaning up afterwards.
    launcher_ended = next(line for line in lines[1:3] if line.startswith("driver: launcher exit="))
    assert launcher_ended.endswith(", tool running=1"), lines
    assert sorted(lines[1:3]) == sorted([launcher_ended, "tool: " + event]), lines
    assert lines[3:] == ["tool: cleaned up", "driver: tool exit=0x0000002c"], lines


@pytest.mark.parametrize("event", ["ctrl-c", "ctrl-break", "close"])
def test_control_an_event_ends_a_process_without_a_handler(
    wine: Wine, programs: Programs, event: str
) -> None:
    """The delivery is real: a process that leaves the event to Windows' default handler ends."""
    lines = _drive(wine, programs, event, windows_path(programs.console), "bare")
    assert lines[0] == f"driver: sends {event}", lines
    assert lines[1].startswith("driver: launcher exit=") and "bare: no event came" not in lines, lines
