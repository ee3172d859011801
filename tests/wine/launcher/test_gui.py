"""The GUI launcher under a virtual X display (Xvfb): no console, errors in a message box, the tool's
exit code passed on; x64 and x86 stubs.

Not shown here, because Wine 8 does not model them: the foreground hand-off (AllowSetForegroundWindow;
Wine has no foreground lock to lift) and the "app starting" cursor (Wine shows no such cursor).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.wine.helpers import Env, Wine, windows_path
from tests.wine.launcher.helpers import Programs

pytestmark = pytest.mark.wine


def test_gui_launcher_runs_the_tool_and_passes_its_exit_code(
    wine: Wine, env: Env, programs: Programs
) -> None:
    """A GUI tool writes to the standard handles the GUI launcher was given; its exit code is passed on.

    (A console tool started from a GUI program gets a console of its own, and its output goes there.)
    """
    env.link("window", env.add_file("window", "1.0", programs.gui))
    launcher = env.launcher("window", gui=True)
    result = wine.run(launcher, "exit", "9")
    assert (result.stdout, result.returncode) == ("gui exits 9\n", 9), result.stderr
    result = wine.run(programs.gui, "without-console", windows_path(launcher), "exit", "0xC0000005")
    assert result.stdout == "gui exits 0xC0000005\nexit=0xc0000005\n", result.stderr  # all 32 bits


@pytest.mark.parametrize(
    ("record", "code", "message"),
    [
        (None, 241, "no link record: {link}"),
        (
            b"shimgen-link 1\ntarget=../outside.exe\n",
            243,
            "path refused (leaves the environment): ../outside.exe",
        ),
    ],
)
def test_gui_launcher_shows_errors_in_a_message_box(
    wine: Wine, env: Env, programs: Programs, record: bytes | None, code: int, message: str
) -> None:
    """The same one line as on stderr, in a message box titled "Error"; closing it ends the launcher."""
    launcher = env.launcher("window", gui=True)
    link = env.prefix / ".shimgen" / "links" / "window"
    if record is not None:
        env.link_raw("window", record)
    result = wine.run(programs.gui, "message-box", windows_path(launcher), timeout=120)
    lines = result.stdout.splitlines()
    assert lines[0] == "title=[Error]", result.stdout + result.stderr
    expected = message.format(link=windows_path(link))
    assert lines[1].startswith(f"text=[shimgen launcher {windows_path(launcher)}: {expected}"), lines[1]
    assert lines[1].endswith(f'Repair: shimgen doctor --fix --prefix "{windows_path(env.prefix)}"]'), lines[1]
    assert lines[2:] == [f"exit=0x{code:08x}"]


def test_gui_launcher_allocates_no_console(wine: Wine, env: Env, programs: Programs) -> None:
    """Started by a process without a console, the GUI launcher and its GUI tool get none.

    Control: the console launcher, started the same way, does get a console, which its tool inherits
    under Wine (so one would be seen).
    """
    env.link("window", env.add_file("window", "1.0", programs.gui))
    gui = wine.run(
        programs.gui, "without-console", windows_path(env.launcher("window", gui=True)), "console-windows"
    )
    assert gui.stdout == "console windows=0 attached=0\nexit=0x00000000\n", gui.stderr
    console = wine.run(
        programs.gui, "without-console", windows_path(env.launcher("window")), "console-windows"
    )
    assert console.stdout.splitlines()[0].endswith(" attached=1"), console.stdout + console.stderr


def test_gui_python_entry_point_uses_pythonw(
    wine: Wine, env: Env, windows_python: Path, tmp_path: Path
) -> None:
    (env.prefix / "python").symlink_to(windows_python, target_is_directory=True)
    entry = env.entry("gui", "1.0")
    marker = tmp_path / "gui-ran.txt"
    (entry / "gui-script.py").write_text(
        f"import sys\nopen(r'{windows_path(marker)}', 'w').write(sys.executable)\n", encoding="utf-8"
    )
    env.link("guitool", "python/pythonw.exe", ".shimgen/store/gui/1.0-test/gui-script.py")
    result = wine.run(env.launcher("guitool", gui=True))
    assert result.returncode == 0, result.stderr
    assert marker.read_text().endswith("pythonw.exe")  # what the script wrote: it ran, under pythonw
