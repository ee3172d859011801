"""shimgen install / uninstall natively: a real POSIX venv (with pip reading our RECORD), and a
Windows environment prepared from Linux (--platform win_amd64)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from shimgen import stub_bytes
from shimgen.doctor import PROBLEM, doctor
from shimgen.store import Store
from tests.helpers.cli import pip, run
from tests.helpers.wheels import (
    assert_record_follows_rule,
    assert_record_is_true,
    build_wheel,
    record_hash,
    record_rows,
)

ENTRY_POINTS = "[console_scripts]\ntooly = tooly:main\n[gui_scripts]\ntooly-gui = tooly:main\n"


def tooly_wheel(
    folder: Path, version: str, *, native: bytes | None = None, extra_module: bool = False
) -> Path:
    files = {"tooly/__init__.py": f"def main():\n    print('tooly {version}')\n".encode()}
    if extra_module:
        files["tooly/old_only.py"] = b"# only in this version\n"
    if native is not None:
        files[
            f"tooly-{version}.data/scripts/{'tooly-native.exe' if native[:2] == b'MZ' else 'tooly-native'}"
        ] = native
    folder.mkdir(parents=True, exist_ok=True)
    return build_wheel(folder, "tooly", version, files, entry_points=ENTRY_POINTS)


def test_posix_venv_install_upgrade_and_pip_uninstall(tmp_path: Path, venv: Path) -> None:
    native = b"#!python\nprint('native script')\n"
    v1 = tooly_wheel(tmp_path / "w1", "1.0", native=native, extra_module=True)
    v2 = tooly_wheel(tmp_path / "w2", "2.0", native=native)
    code, out, err = run("install", "--prefix", str(venv), str(v1))
    assert code == 0, err
    assert out == "installed tooly 1.0; commands: tooly-native, tooly, tooly-gui\n"
    tooly = venv / "bin" / "tooly"
    assert tooly.is_symlink()
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 1.0\n"
    assert (
        subprocess.run([venv / "bin" / "tooly-native"], capture_output=True, text=True).stdout
        == "native script\n"
    )
    site = next((venv / "lib").glob("python3.*/site-packages"))
    assert (site / "tooly" / "old_only.py").exists()

    code, out, err = run("install", "--prefix", str(venv), str(v2))
    assert code == 0 and out.startswith("installed tooly 2.0 (was 1.0)"), err
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 2.0\n"
    assert not (site / "tooly" / "old_only.py").exists() and not (site / "tooly-1.0.dist-info").exists()
    dist_info = site / "tooly-2.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "shimgen\n"
    paths = assert_record_follows_rule(dist_info)  # the shims first, nothing of .shimgen/
    assert paths[:3] == ["../../../bin/tooly", "../../../bin/tooly-gui", "../../../bin/tooly-native"]

    listed = pip(venv, "list", "--format=freeze")
    assert listed.returncode == 0 and "tooly==2.0" in listed.stdout.split(), listed.stderr
    removed = pip(venv, "uninstall", "-y", "tooly")
    assert removed.returncode == 0, removed.stderr
    assert not os.path.lexists(tooly) and not dist_info.exists() and not (site / "tooly").exists()
    # The store kept its own files; sync sees the dist is gone and drops its commands.
    code, out, err = run("sync", "--prefix", str(venv), "--keep", "0")
    assert (
        code == 0 and "removed tooly (no longer installed): commands tooly, tooly-gui, tooly-native" in out
    ), err
    assert [f for f in doctor(Store(venv)) if f.severity == PROBLEM] == []
    assert not any((venv / ".shimgen" / "store").iterdir()) and not any(
        (venv / ".shimgen" / "links").iterdir()
    )


def test_shimgen_uninstall(tmp_path: Path, venv: Path) -> None:
    run("install", "--prefix", str(venv), str(tooly_wheel(tmp_path / "w", "1.0")))
    code, out, err = run("uninstall", "--prefix", str(venv), "Tooly")
    assert code == 0 and out == "uninstalled tooly 1.0\n", err
    assert not os.path.lexists(venv / "bin" / "tooly")
    assert not list((venv / "lib").glob("python3.*/site-packages/tooly*"))
    code, _, err = run("uninstall", "--prefix", str(venv), "tooly")
    assert code == 1 and "tooly is not installed" in err


def test_windows_environment_prepared_from_linux(tmp_path: Path) -> None:
    prefix = tmp_path / "win env"
    prefix.mkdir()
    native = stub_bytes("x64") + b"tooly native"
    wheel = tooly_wheel(tmp_path / "w", "1.0", native=native)
    code, out, err = run("install", "--prefix", str(prefix), "--platform", "win_amd64", str(wheel))
    assert code == 0, err
    assert out == "installed tooly 1.0; commands: tooly-native, tooly, tooly-gui\n"
    scripts = prefix / "Scripts"
    assert (scripts / "tooly.exe").read_bytes() == stub_bytes("x64")
    assert (scripts / "tooly-gui.exe").read_bytes() == stub_bytes("x64", gui=True)
    assert (scripts / "tooly-native.exe").read_bytes() == stub_bytes("x64")
    links = prefix / ".shimgen" / "links"
    record = (links / "tooly-gui").read_text()
    assert "target=Scripts/pythonw.exe\nscript=.shimgen/store/tooly/1.0-" in record
    assert record.endswith("/tooly-gui-script.pyw\n")
    assert "target=.shimgen/store/tooly/1.0-" in (links / "tooly-native").read_text()
    site = prefix / "Lib" / "site-packages"
    assert (site / "tooly" / "__init__.py").exists() and (site / "tooly-1.0.dist-info" / "INSTALLER").exists()
    rows = record_rows(site / "tooly-1.0.dist-info")
    assert "../../Scripts/tooly.exe" in rows and rows["../../Scripts/tooly.exe"][1] == record_hash(
        stub_bytes("x64")
    )
    # Upgrade and uninstall never rewrite a launcher.
    before = (scripts / "tooly.exe").stat()
    code, out, err = run(
        "install", "--prefix", str(prefix), str(tooly_wheel(tmp_path / "w2", "2.0", native=native))
    )
    assert code == 0, err
    assert (scripts / "tooly.exe").stat().st_ino == before.st_ino
    assert "/2.0-" in (links / "tooly").read_text()
    code, out, err = run("uninstall", "--prefix", str(prefix), "tooly")
    assert code == 0 and not (scripts / "tooly.exe").exists() and not (site / "tooly").exists(), err


def test_a_tampered_wheel_changes_nothing(tmp_path: Path, venv: Path) -> None:
    import zipfile

    wheel = tooly_wheel(tmp_path / "w", "1.0")
    with zipfile.ZipFile(wheel) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["tooly/__init__.py"] = members["tooly/__init__.py"].replace(b"1.0", b"6.6")  # same size
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    before = sorted(p.relative_to(venv).as_posix() for p in venv.rglob("*"))
    code, _, err = run("install", "--prefix", str(venv), str(wheel))
    assert code == 1 and "does not match its RECORD hash" in err and str(wheel) in err
    assert sorted(p.relative_to(venv).as_posix() for p in venv.rglob("*")) == before


def install_with_pypa_installer(prefix: Path, wheel: Path, platform: str | None = None):  # type: ignore[no-untyped-def]
    from installer import install
    from installer.sources import WheelFile

    from shimgen.installer_destination import ShimgenDestination

    with (
        WheelFile.open(wheel) as source,
        ShimgenDestination(prefix, source.distribution, platform=platform) as dest,
    ):
        install(source, dest, {"INSTALLER": b"installer\n"})
    return dest.result


def test_pypa_installer_destination(tmp_path: Path, venv: Path) -> None:
    native = b"#!python\nprint('native script')\n"
    result = install_with_pypa_installer(venv, tooly_wheel(tmp_path / "w1", "1.0", native=native))
    assert result is not None and sorted(result.commands) == ["tooly", "tooly-gui", "tooly-native"]
    tooly = venv / "bin" / "tooly"
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 1.0\n"
    install_with_pypa_installer(venv, tooly_wheel(tmp_path / "w2", "2.0", native=native))
    assert subprocess.run([tooly], capture_output=True, text=True, check=True).stdout == "tooly 2.0\n"
    site = next((venv / "lib").glob("python3.*/site-packages"))
    dist_info = site / "tooly-2.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "shimgen\n" and not (
        site / "tooly-1.0.dist-info"
    ).exists()
    assert_record_is_true(dist_info)
    assert pip(venv, "uninstall", "-y", "tooly").returncode == 0 and not os.path.lexists(tooly)


def test_pypa_installer_destination_for_windows(tmp_path: Path) -> None:
    prefix = tmp_path / "win env"
    prefix.mkdir()
    wheel = tooly_wheel(tmp_path / "w", "1.0", native=stub_bytes("x64") + b"native")
    install_with_pypa_installer(prefix, wheel, platform="win_amd64")
    assert (prefix / "Scripts" / "tooly.exe").read_bytes() == stub_bytes("x64")
    assert "script=.shimgen/store/tooly/1.0-" in (prefix / ".shimgen" / "links" / "tooly").read_text()
    assert Store(prefix).layout().arch.value == "x64"


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


def test_installed_files_get_the_modes_pip_gives_them(tmp_path: Path, venv: Path) -> None:
    """0o666 or 0o777 less the umask, as pip and installer create files; a private 0o600 would
    hide the library from the environment's other users (an image built as root, run as a user)."""
    wheel = tooly_wheel(tmp_path / "w", "1.0", native=b"#!python\nprint('native')\n")
    old_umask = os.umask(0o022)
    try:
        code, _, err = run("install", "--prefix", str(venv), str(wheel))
    finally:
        os.umask(old_umask)
    assert code == 0, err
    site = next((venv / "lib").glob("python3.*/site-packages"))
    store = venv / ".shimgen"
    modes = {
        path: path.stat().st_mode & 0o777
        for path in [*site.rglob("*"), *store.rglob("*")]
        if path.is_file() and not path.is_symlink() and path.name != "lock"
    }
    entry = next((store / "store" / "tooly").iterdir())
    executables = {p for p in modes if p.parent == entry and p.name != ".shimgen-entry.json"}
    assert {p.name for p in executables} == {"tooly", "tooly-gui", "tooly-native"}
    assert {modes[p] for p in executables} == {0o755}
    assert {mode for path, mode in modes.items() if path not in executables} == {0o644}
