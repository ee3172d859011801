"""distlib's Wheel.install with shimgen's ScriptMaker."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.cli import pip
from tests.helpers.wheels import (
    assert_record_is_true,
    tooly_wheel,
)


def test_distlib_wheel_install_with_the_shimgen_script_maker(tmp_path: Path, venv: Path) -> None:
    from distlib.wheel import Wheel

    from shimgen.scriptmaker import ShimgenScriptMaker

    site = next((venv / "lib").glob("python3.*/site-packages"))
    paths = {
        "prefix": str(venv),
        "purelib": str(site),
        "platlib": str(site),
        "scripts": str(venv / "bin"),
        "headers": str(venv / "include"),
        "data": str(venv),
    }
    for version in ("1.0", "2.0"):
        wheel = tooly_wheel(tmp_path / f"w{version}", version, native=b"#!python\nprint('native')\n")
        maker = ShimgenScriptMaker(venv, "tooly", version)
        Wheel(str(wheel)).install(paths, maker)
        result = maker.finish()
        assert sorted(result.commands) == ["tooly", "tooly-gui", "tooly-native"]
        tooly = venv / "bin" / "tooly"
        assert (
            subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == f"tooly {version}\n"
        )
        assert (
            subprocess.run([venv / "bin" / "tooly-native"], capture_output=True, text=True).stdout
            == "native\n"
        )
    dist_info = site / "tooly-2.0.dist-info"
    rows = assert_record_is_true(dist_info)
    assert "../../../bin/tooly" in rows and "tooly/__init__.py" in rows  # RECORD lists the launchers too
    assert pip(venv, "uninstall", "-y", "tooly").returncode == 0 and not os.path.lexists(
        venv / "bin" / "tooly"
    )
