"""adopt: an environment laid out the way pip, uv or easy_install leave it, taken over by shimgen.

The distlib launchers are made by distlib itself (its own t64/w64 stubs); setuptools' pair uses
setuptools' own cli-64.exe. uv's trampolines are built from uv's documented format around a real
PE stub (tests.helpers.foreign). Launchers for another Python, odd launchers and unreadable RECORDs
are skipped alone and listed; an interrupted adoption is finished by running it again.
"""

from __future__ import annotations

import json
import os
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from shimgen import stub_bytes
from shimgen.doctor import PROBLEM, doctor
from shimgen.store import Store
from tests.helpers.cli import run
from tests.helpers.foreign import (
    DISTLIB,
    PYTHON,
    UV_MAIN,
    WindowsScriptMaker,
    distlib_launcher,
    uv_trampoline,
    zipped_main,
)
from tests.helpers.wheels import assert_record_follows_rule, assert_record_is_true, record_hash


def dist_info(
    site: Path, dist: str, version: str, owned: list[Path], entry_points: str | None = None
) -> Path:
    info = site / f"{dist}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("pip\n")
    if entry_points:
        (info / "entry_points.txt").write_text(entry_points)
    rows = [
        info / "METADATA",
        info / "INSTALLER",
        *([info / "entry_points.txt"] if entry_points else []),
        *owned,
    ]
    lines = [f"{os.path.relpath(p, site)},{record_hash(p.read_bytes())},{p.stat().st_size}" for p in rows]
    (info / "RECORD").write_text("\n".join([*lines, f"{os.path.relpath(info / 'RECORD', site)},,"]) + "\n")
    return info


def pip_style_environment(root: Path) -> Path:
    prefix = root / "pip env"
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    scripts.mkdir(parents=True)
    site.mkdir(parents=True)
    (scripts / "python.exe").write_bytes((DISTLIB / "t64.exe").read_bytes() + b"a stand-in")  # owned by none
    (scripts / "pythonw.exe").write_bytes((DISTLIB / "w64.exe").read_bytes() + b"a stand-in")
    (scripts / "activate.bat").write_text("@echo off\n")
    native = scripts / "native.exe"
    native.write_bytes((DISTLIB / "t64.exe").read_bytes() + b"a native program, no zip")
    black = [
        distlib_launcher(scripts, "black = black.sub:main.run"),
        distlib_launcher(scripts, "blackgui = black:gui", True),
    ]
    uvtool = scripts / "uvtool.exe"
    uvtool.write_bytes(uv_trampoline(b"UVSC", "python.exe", UV_MAIN))
    easy, easy_script = scripts / "easy.exe", scripts / "easy-script.py"
    easy.write_bytes((Path(__import__("setuptools").__file__).parent / "cli-64.exe").read_bytes())
    easy_script.write_text(
        f"#!{PYTHON}\n# EASY-INSTALL-ENTRY-SCRIPT: 'easy==1.0','console_scripts','easy'\n"
        "__requires__ = 'easy==1.0'\nfrom pkg_resources import load_entry_point\n"
    )
    dist_info(site, "native_tool", "1.0", [native])
    dist_info(site, "black", "24.1", black)
    dist_info(site, "uvtool", "0.1", [uvtool])
    dist_info(site, "easy", "1.0", [easy, easy_script], "[console_scripts]\neasy = easy.main:run\n")
    return prefix


def snapshot(prefix: Path) -> dict[str, bytes]:
    return {
        p.relative_to(prefix).as_posix(): p.read_bytes() for p in sorted(prefix.rglob("*")) if p.is_file()
    }


def launcher_for(folder: Path, spec: str, python: str) -> Path:
    maker = WindowsScriptMaker(None, str(folder), add_launchers=True)
    maker._is_nt = True
    maker.executable = python
    maker.variants = {""}
    (path,) = maker.make(spec)
    return Path(path)


def test_adopt_dry_run_then_adopt_then_nothing(tmp_path: Path) -> None:
    prefix = pip_style_environment(tmp_path)
    before = snapshot(prefix)
    code, out, err = run("adopt", "--prefix", str(prefix), "--platform", "win_amd64", "--dry-run")
    assert code == 0, err
    assert "would adopt black 24.1:\n  black.exe: distlib launcher running black.sub:main.run" in out
    assert "  native.exe: native program" in out and "would adopt uvtool 0.1:" in out
    assert (
        "easy.exe: setuptools launcher running a script of its own (not a known template: kept as it is)"
        in out
    )
    # The environment's own files are neither adopted nor listed one by one.
    assert "left alone" not in out and "activate.bat" not in out
    assert snapshot(prefix) == before

    code, out, err = run("adopt", "--prefix", str(prefix), "--platform", "win_amd64")
    assert code == 0, err
    scripts = prefix / "Scripts"
    for name in ("black", "native", "uvtool", "easy"):
        assert (scripts / f"{name}.exe").read_bytes() == stub_bytes("x64"), name
    assert (scripts / "blackgui.exe").read_bytes() == stub_bytes("x64", gui=True)
    assert not (scripts / "easy-script.py").exists()
    assert (scripts / "activate.bat").read_text() == "@echo off\n"
    links = prefix / ".shimgen" / "links"
    assert "target=Scripts/pythonw.exe\nscript=.shimgen/store/black/24.1-" in (links / "blackgui").read_text()
    assert "script=.shimgen/store/easy/1.0-" in (links / "easy").read_text()
    native = (links / "native").read_text().split("target=")[1].strip()
    assert (prefix / native).read_bytes().endswith(b"a native program, no zip")
    script = (links / "black").read_text().split("script=")[1].strip()
    assert "from black.sub import main" in (prefix / script).read_text()
    site = prefix / "Lib" / "site-packages"
    for info in site.glob("*.dist-info"):  # every RECORD is true again
        assert "../../Scripts/easy-script.py" not in assert_record_is_true(info)
    assert [f for f in doctor(Store(prefix)) if f.severity == PROBLEM] == []

    after = snapshot(prefix)
    code, out, _ = run("adopt", "--prefix", str(prefix))
    assert code == 0 and "nothing to adopt" in out and snapshot(prefix) == after
    code, out, _ = run("sync", "--prefix", str(prefix))
    assert code == 0 and not any((prefix / ".shimgen" / "trash").iterdir())


def test_a_script_that_is_not_exactly_a_template_is_adopted_as_it_is(tmp_path: Path) -> None:
    """It used to be read for its import and call, anywhere in the script, and replaced by a plain
    call: the setup line before it silently disappeared from what the command runs."""
    prefix = pip_style_environment(tmp_path)
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    main_py = (
        "import os\nimport sys\nos.environ['TOOL_MODE'] = 'strict'  # the line that used to vanish\n"
        "from tool.cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n"
    )
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as opened:
        opened.writestr("__main__.py", main_py)
    launcher = scripts / "tool.exe"
    launcher.write_bytes((DISTLIB / "t64.exe").read_bytes() + f"#!{PYTHON}\n".encode() + buffer.getvalue())
    dist_info(site, "tool", "1.0", [launcher])
    code, out, err = run("adopt", "--prefix", str(prefix), "--platform", "win_amd64")
    assert code == 0 and "tool.exe: distlib launcher running a script of its own" in out, (out, err)
    state = json.loads((prefix / ".shimgen" / "dists" / "tool.json").read_text())
    entry = prefix / ".shimgen" / "store" / "tool" / state["generations"][0]
    assert (entry / "tool-script.py").read_text() == main_py  # kept to the character


def test_the_environments_interpreter_is_never_adopted_whatever_a_record_says(tmp_path: Path) -> None:
    prefix = pip_style_environment(tmp_path)
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    python = (scripts / "python.exe").read_bytes()
    dist_info(
        site, "liar", "1.0", [scripts / "python.exe", scripts / "pythonw.exe", scripts / "activate.bat"]
    )
    code, out, err = run("adopt", "--prefix", str(prefix), "--platform", "win_amd64")
    assert code == 0, err
    assert "liar" not in out and (scripts / "python.exe").read_bytes() == python
    assert not (prefix / ".shimgen" / "dists" / "liar.json").exists()


def test_a_launcher_for_another_python_is_left_alone_and_listed(tmp_path: Path) -> None:
    """pip's launcher for a base Python (C:\\Python311\\python.exe) must not become one for
    Scripts\\python.exe; and an environment without Scripts\\python.exe gets no Python launchers."""
    prefix = tmp_path / "env"
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    scripts.mkdir(parents=True)
    site.mkdir(parents=True)
    base = launcher_for(scripts, "base = black:main", r"C:\Python311\python.exe")
    other_venv = launcher_for(scripts, "other = black:main", r"C:\elsewhere\venv\Python\python.exe")
    dist_info(site, "black", "24.1", [base, other_venv])
    before = {p.name: p.read_bytes() for p in scripts.iterdir()}

    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64")
    assert code == 0, err
    assert "skipped base.exe: this environment has no Scripts/python.exe" in out
    assert {p.name: p.read_bytes() for p in scripts.iterdir()} == before

    (scripts / "python.exe").write_bytes((DISTLIB / "t64.exe").read_bytes() + b"a stand-in")
    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64")
    assert code == 0, err
    # The path as the user would type it: one backslash each (it was printed doubled, by repr).
    assert "skipped base.exe: it runs 'C:\\Python311\\python.exe', not this environment's Python" in out
    assert "skipped other.exe: it runs" in out and "nothing to adopt" in out
    assert base.read_bytes() == before["base.exe"] and other_venv.read_bytes() == before["other.exe"]


def test_one_odd_launcher_is_skipped_alone(tmp_path: Path) -> None:
    """A launcher whose name cannot be a command, or whose entry point cannot be one, used to
    abort the adoption of every distribution."""
    prefix = pip_style_environment(tmp_path)
    scripts, site = prefix / "Scripts", prefix / "Lib" / "site-packages"
    hidden = scripts / ".hidden.exe"
    hidden.write_bytes((DISTLIB / "t64.exe").read_bytes() + b"a native program")
    relative = scripts / "rel.exe"
    relative.write_bytes(
        (DISTLIB / "t64.exe").read_bytes()
        + b"#!C:\\v\\Scripts\\python.exe\n"
        + zipped_main(b"import sys\nfrom .cli import main\nsys.exit(main())\n")
    )
    dist_info(site, "odd", "1.0", [hidden, relative])
    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64")
    assert code == 0, err
    assert "skipped .hidden.exe: invalid command name '.hidden': starts with a dot" in out
    # Not a known template: adopted with its script as it is (it used to be refused as an entry point).
    assert (
        "rel.exe: distlib launcher running a script of its own (not a known template: kept as it is)" in out
    )
    assert "adopted black 24.1:" in out and "adopted uvtool 0.1:" in out


def test_an_unreadable_record_is_listed_not_dropped_in_silence(tmp_path: Path) -> None:
    prefix = pip_style_environment(tmp_path)
    site = prefix / "Lib" / "site-packages"
    record = site / "black-24.1.dist-info" / "RECORD"
    record.write_text(record.read_text() + "../../../../outside.txt,,\n")
    code, out, err = run("adopt", "--prefix", prefix, "--platform", "win_amd64", "--dry-run")
    assert code == 0, err
    # Named by its distribution (it said "skipped RECORD"), the path as written, without repr's quoting.
    assert (
        "skipped black-24.1.dist-info/RECORD: black 24.1: RECORD names a file outside the environment: "
        "'../../../../outside.txt'" in out
    )
    assert "its files are treated as owned by nothing" in out
    assert "left alone (owned by no distribution): black.exe" in out


def test_an_interrupted_adoption_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after black's publish and before its RECORD was rewritten: the re-run used to see
    shimgen launchers, plan nothing, and leave black's RECORD untrue for good."""
    import shimgen.adopt

    prefix = pip_style_environment(tmp_path)
    original = shimgen.adopt.rewrite_record

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(shimgen.adopt, "rewrite_record", crash)
    with pytest.raises(KeyboardInterrupt):
        shimgen.adopt.adopt(Store(prefix), platform="win_amd64")
    monkeypatch.setattr(shimgen.adopt, "rewrite_record", original)

    code, out, err = run("adopt", "--prefix", prefix, "--dry-run")
    assert code == 0 and "would rewrite the RECORD of black 24.1: its launchers first" in out, err
    code, out, err = run("adopt", "--prefix", prefix)
    assert code == 0, err
    for info in (prefix / "Lib" / "site-packages").glob("*.dist-info"):
        paths = assert_record_follows_rule(info)
        if info.name.startswith("black"):
            assert paths[:2] == ["../../Scripts/black.exe", "../../Scripts/blackgui.exe"]
    assert [f for f in doctor(Store(prefix)) if f.severity == PROBLEM] == []
    code, out, _ = run("adopt", "--prefix", prefix)
    assert (code, out) == (0, "nothing to adopt\n")


def test_a_distribution_pip_installed_with_a_legacy_version_is_adopted(venv: Path) -> None:
    """pip before 24.1 installed versions that are not PEP 440 ("1.14.0-unknown", its .dist-info
    named 1.14.0_unknown); pip now ignores such a distribution but leaves it, and its commands keep
    working. shimgen adopts it under the version as written (only a wheel's file name must be
    PEP 440: tests/test_wheelfile.py)."""
    site = next((venv / "lib").glob("python3.*/site-packages"))
    script = venv / "bin" / "gpg-tool"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom gpg.cli import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    script.chmod(0o755)
    dist_info(site, "gpg", "1.14.0_unknown", [script], "[console_scripts]\ngpg-tool = gpg.cli:main\n")
    code, out, err = run("adopt", "--prefix", str(venv))
    assert code == 0 and "adopted gpg 1.14.0_unknown:" in out, (out, err)
    assert os.readlink(script).startswith("../.shimgen/store/gpg/1.14.0_unknown-")
    code, out, err = run("sync", "--prefix", str(venv))
    assert code == 0 and "nothing to adopt or repair" in out, (out, err)
