"""Real uv trampolines, made by uv.exe under Wine, decoded by shimgen.foreign.

uv 0.13.9 stores what a trampoline runs as PE resources; uv 0.9.8 (the last release before 0.9.9)
appends it after the stub, ending in ``UVSC`` (script) or ``UVPY`` (Python proxy). Both run offline
under Wine 8 with the test ProcessPrng DLL. Older releases (the ``UVUV`` trailer, up to 0.4.28) link
cache entries with NTFS junctions, which Wine 8 cannot make (``uv pip install`` fails with "Request
not supported. (os error 50)"), so they are not tested here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from shimgen import foreign
from shimgen.adopt import adopt
from shimgen.launcher import FileKind, identify
from shimgen.store import Store
from tests.helpers.wheels import build_wheel
from tests.wine.helpers import Wine, uv_exe, windows_path

pytestmark = pytest.mark.wine

UV_VERSIONS = ("0.13.9", "0.9.8")

DEMO = b"""import sys

def main():
    print("demo main", sys.argv[1:])

def gui():
    with open(sys.argv[1], "w") as out:
        out.write("gui ran")

class Obj:
    @staticmethod
    def run():
        print("obj run")
"""

ENTRY_POINTS = """[console_scripts]
demo-cli = demo_pkg:main
demo.dotted = demo_pkg:Obj.run

[gui_scripts]
demo-gui = demo_pkg:gui
"""


def _uv(wine: Wine, prng_dll: Path, version: str, cwd: Path, *args: str, **env: str) -> None:
    result = wine.run(
        uv_exe(version),
        *args,
        cwd=cwd,
        timeout=120,
        extra_env={
            "WINEPATH": windows_path(prng_dll.parent),
            "UV_CACHE_DIR": windows_path(cwd / "uv-cache"),
            "UV_NO_CONFIG": "1",
            **env,
        },
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)


@pytest.mark.parametrize("version", UV_VERSIONS)
@pytest.mark.parametrize("relocatable", [False, True], ids=["absolute", "relocatable"])
def test_uv_script_trampolines(
    wine: Wine, prng_dll: Path, uv_python: Path, tmp_path: Path, version: str, relocatable: bool
) -> None:
    wheel = build_wheel(
        tmp_path, "demo_pkg", "1.0", {"demo_pkg/__init__.py": DEMO}, entry_points=ENTRY_POINTS
    )
    prefix = tmp_path / "my env ü"
    offline = {"UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never"}
    venv = ["venv", "--relocatable"] if relocatable else ["venv"]
    python = windows_path(uv_python / "python.exe")
    _uv(wine, prng_dll, version, tmp_path, *venv, "--python", python, windows_path(prefix), **offline)
    install = ["pip", "install", "--no-deps", "--link-mode", "copy"]
    python = windows_path(prefix / "Scripts" / "python.exe")
    _uv(wine, prng_dll, version, tmp_path, *install, "--python", python, windows_path(wheel), **offline)

    scripts = prefix / "Scripts"
    expected = {
        "demo-cli": ("demo_pkg", "main", False),
        "demo.dotted": ("demo_pkg", "Obj.run", False),
        "demo-gui": ("demo_pkg", "gui", True),
    }
    for name, (module, attr, gui) in expected.items():
        path = scripts / f"{name}.exe"
        data = path.read_bytes()
        if version == "0.9.8":
            assert data.endswith(b"UVSC")
        else:
            assert b"U\x00V\x00_\x00S\x00C\x00R\x00I\x00P\x00T\x00_\x00D\x00A\x00T\x00A" in data
        python = "pythonw.exe" if gui else "python.exe"
        interpreter = python if relocatable else windows_path(scripts / python)
        decoded = foreign.decode(path)
        assert decoded is not None and decoded.script_text is not None  # kept, should it not be a template
        # uv's own template, exactly: so adopt may write shimgen's script for it.
        assert (decoded.kind, decoded.gui, decoded.interpreter, decoded.module, decoded.attr) == (
            "uv",
            gui,
            interpreter,
            module,
            attr,
        )

    # They are working launchers.
    result = wine.run(scripts / "demo-cli.exe", "a", "b c", timeout=60)
    assert (result.returncode, result.stdout) == (0, "demo main ['a', 'b c']\n"), result.stderr
    result = wine.run(scripts / "demo.dotted.exe", timeout=60)
    assert (result.returncode, result.stdout) == (0, "obj run\n"), result.stderr
    out = tmp_path / "gui.txt"
    result = wine.run(scripts / "demo-gui.exe", windows_path(out), timeout=60)
    assert result.returncode == 0 and out.read_text() == "gui ran", result.stderr

    # shimgen adopt replaces uv's trampolines with its launchers, and the commands still work.
    report = adopt(Store(prefix), platform="win_amd64")
    assert sorted(c.name for a in report.adoptions for c in a.commands) == sorted(expected)
    for name in expected:
        assert identify((scripts / f"{name}.exe").read_bytes()).kind is FileKind.SHIMGEN_LAUNCHER
    result = wine.run(scripts / "demo-cli.exe", "a", "b c", timeout=60)
    assert (result.returncode, result.stdout) == (0, "demo main ['a', 'b c']\n"), result.stderr
    result = wine.run(scripts / "demo-gui.exe", windows_path(out.with_name("gui2.txt")), timeout=60)
    assert result.returncode == 0 and out.with_name("gui2.txt").read_text() == "gui ran", result.stderr
    assert adopt(Store(prefix), platform="win_amd64").adoptions == []  # a second run changes nothing


@pytest.mark.parametrize("version", UV_VERSIONS)
def test_uv_python_proxy(wine: Wine, prng_dll: Path, uv_python: Path, tmp_path: Path, version: str) -> None:
    """``uv python install`` writes pythonX.Y.exe proxies; installed here from a local archive."""
    build = tmp_path / "build"
    shutil.copytree(uv_python, build / "python")
    (build / "python" / "Lib" / "site-packages").mkdir(parents=True)  # uv writes Lib\EXTERNALLY-MANAGED
    archive = tmp_path / "cpython-3.13.2-windows-x86_64-none.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(build / "python", arcname="python")
    key = "cpython-3.13.2-windows-x86_64-none"
    downloads = {
        key: {
            "name": "cpython",
            "arch": {"family": "x86_64", "variant": None},
            "os": "windows",
            "libc": "none",
            "major": 3,
            "minor": 13,
            "patch": 2,
            "prerelease": "",
            "url": "file:///" + windows_path(archive).replace("\\", "/"),
            "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
            "variant": None,
            "build": "20250212",
        }
    }
    (tmp_path / "downloads.json").write_text(json.dumps(downloads), encoding="utf-8")
    installs, bin_dir = tmp_path / "managed", tmp_path / "bin"
    _uv(
        wine,
        prng_dll,
        version,
        tmp_path,
        "python",
        "install",
        "3.13.2",
        UV_PYTHON_DOWNLOADS_JSON_URL=windows_path(tmp_path / "downloads.json"),
        UV_PYTHON_INSTALL_DIR=windows_path(installs),
        UV_PYTHON_BIN_DIR=windows_path(bin_dir),
        UV_PYTHON_INSTALL_REGISTRY="0",
    )

    proxy = bin_dir / "python3.13.exe"
    data = proxy.read_bytes()
    if version == "0.9.8":
        assert data.endswith(b"UVPY")
    python = windows_path(installs / key / "python.exe")
    assert foreign.decode(proxy) == foreign.ForeignLauncher("uv", False, python)
    result = wine.run(proxy, "-c", "import sys; print(sys.version_info[:3])", timeout=60)
    assert (result.returncode, result.stdout) == (0, "(3, 13, 2)\n"), result.stderr
