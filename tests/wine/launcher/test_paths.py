r"""Step 1 under every form of its own path Windows can give the launcher: \\?\, \\?\UNC\, UNC, 8.3.

Wine always gives a program its plain path (for a UNC start, a broken "UNC\server\..."), and it
opens long plain paths that Windows refuses without the LongPathsEnabled policy. So these tests run
programs/windows_answers.c: launcher.c itself, compiled unchanged, whose GetModuleFileNameW answers
with the form under test and whose file APIs refuse long plain paths as a default Windows does. The
launcher binary sits at the very path it is told, so every file the launcher opens is real. UNC paths
are real too: Wine maps \\HOST\SHARE to dosdevices/unc/HOST/SHARE.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shimgen import write_launcher
from tests.wine.helpers import Env, Wine, windows_path
from tests.wine.launcher.helpers import Programs, one_line_error

pytestmark = pytest.mark.wine


def _answers_launcher(programs: Programs, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(programs.answers, path)
    return path


def _run_as(wine: Wine, launcher: Path, module_path: str, *args: str, verbatim: bool = False):
    return wine.run(
        launcher,
        *args,
        extra_env={
            "SHIMGEN_TEST_MODULE_PATH": module_path,
            "SHIMGEN_TEST_VERBATIM": "1" if verbatim else "0",
            "SHIMGEN_DEBUG": "1",
        },
    )


@pytest.mark.parametrize("verbatim", [False, True], ids=["folding", "verbatim"])
@pytest.mark.parametrize("form", ["extended", "extended-unc", "unc"])
def test_started_through_an_extended_or_unc_path(
    wine: Wine, env: Env, programs: Programs, tmp_path: Path, unc_share: str, form: str, verbatim: bool
) -> None:
    r"""The launcher works in the plain form of its path: the tool gets "C:\..." or "\\server\...".

    "verbatim": GetFullPathNameW leaves \\?\ paths unfolded (one reading of Windows; Wine folds them).
    Before the fix, the launcher exited 241 (no link record at ...\Scripts\..\.shimgen\...) under
    "verbatim", and handed the tool a \\?\ path under "folding".
    """
    target = env.add_file("probe", "1.0", programs.probe)
    env.link("probe", target)
    launcher = _answers_launcher(programs, env.scripts / "probe.exe")
    relative = "\\" + str(launcher.relative_to(tmp_path)).replace("/", "\\")
    plain = {
        "extended": windows_path(launcher),
        "extended-unc": unc_share + relative,
        "unc": unc_share + relative,
    }
    module_path = {
        "extended": "\\\\?\\" + plain["extended"],
        "extended-unc": "\\\\?\\UNC\\" + plain["unc"][2:],
    }
    result = _run_as(wine, launcher, module_path.get(form, plain[form]), "echo", "ok", verbatim=verbatim)

    plain_prefix = plain[form][: -len("\\Scripts\\probe.exe")]
    plain_target = plain_prefix + "\\" + target.replace("/", "\\")
    assert result.stdout == f'"{plain_target}" echo ok', result.stdout + result.stderr
    assert result.stderr.splitlines()[:3] == [
        f"shimgen: launcher {plain[form]}",
        f"shimgen: link record {plain_prefix}\\.shimgen\\links\\probe",
        f"shimgen: resolved {plain_target}",
    ]


def test_confinement_holds_through_an_extended_path(wine: Wine, env: Env, programs: Programs) -> None:
    r"""Started as \\?\..., a record's ".." is still folded and refused when it leaves the prefix."""
    (env.prefix.parent / "outside.exe").write_bytes(programs.probe.read_bytes())
    env.link_raw("evil", b"shimgen-link 1\ntarget=../outside.exe\n")
    launcher = _answers_launcher(programs, env.scripts / "evil.exe")
    for verbatim in (False, True):
        result = _run_as(
            wine, launcher, "\\\\?\\" + windows_path(launcher), "echo", "escaped", verbatim=verbatim
        )
        assert result.returncode == 243, result.stdout + result.stderr
        assert "path refused (leaves the environment): ../outside.exe" in result.stderr.splitlines()[-1]


def test_started_through_its_8_3_short_name(
    wine: Wine, tmp_path: Path, programs: Programs, arch: str
) -> None:
    """Started as LONGCO~1.EXE, the launcher still stands for "longcommandname" (GetLongPathNameW)."""
    env = Env(tmp_path / "environment with a long name", arch)
    target = env.add_file("longcommandname", "1.0", programs.probe)
    env.link("longcommandname", target)
    launcher = _answers_launcher(programs, env.scripts / "longcommandname.exe")
    short = wine.run(programs.probe, "short", windows_path(launcher)).stdout
    assert "~" in short and short.upper().endswith(".EXE"), short  # Wine made up an 8.3 alias
    assert not short.lower().endswith("longcommandname.exe")
    result = _run_as(wine, launcher, short, "echo", "short")
    assert result.stdout == f'"{windows_path(env.prefix / target)}" echo short', result.stdout + result.stderr


def test_no_own_path(wine: Wine, env: Env, programs: Programs) -> None:
    """Exit 240: GetModuleFileNameW fails."""
    launcher = _answers_launcher(programs, env.scripts / "tool.exe")
    result = _run_as(wine, launcher, "", "echo", "ran")
    assert result.returncode == 240, result.stdout + result.stderr
    assert result.stderr.strip().endswith(": no own path"), result.stderr


def _long_folder(base: Path) -> Path:
    deep = base / "ünïcødé 空白" / ("long folder name " * 4).strip()
    for level in range(4):
        deep = deep / f"level {level} {'x' * 40}"
    return deep


@pytest.mark.parametrize("form", ["drive", "unc"])
def test_long_prefix_is_opened_through_extended_paths(
    wine: Wine, tmp_path: Path, programs: Programs, arch: str, unc_share: str, form: str
) -> None:
    r"""A link record and target past MAX_PATH are read and checked through \\?\ and \\?\UNC\ paths.

    The file APIs here refuse long plain paths, as Windows does without the LongPathsEnabled policy,
    so the record is read only if the launcher used the extended form. Starting the target then
    fails under Wine 8 only: its CreateProcessW refuses application paths past MAX_PATH in any
    form, while Windows accepts the \\?\ form the launcher passes. So this checks every step up to
    the spawn, and that the spawn failure is reported as such (exit 245).
    """
    env = Env(_long_folder(tmp_path) / "env ✓", arch)
    target = env.add_file("tool", "1.0", programs.probe)
    env.link("tool", target)
    launcher = _answers_launcher(programs, env.scripts / "tool.exe")
    relative = "\\" + str(launcher.relative_to(tmp_path)).replace("/", "\\")
    module_path = windows_path(launcher) if form == "drive" else unc_share + relative
    plain_prefix = module_path[: -len("\\Scripts\\tool.exe")]
    assert len(plain_prefix) > 300
    result = _run_as(wine, launcher, module_path, "echo", "ok")
    trace = result.stderr.splitlines()
    assert trace[1] == f"shimgen: link record {plain_prefix}\\.shimgen\\links\\tool", result.stderr
    assert trace[2] == f"shimgen: resolved {plain_prefix}\\{target.replace('/', chr(92))}", result.stderr
    assert result.returncode == 245 and "cannot start" in trace[-1], result.stderr


def test_launcher_in_a_long_path(wine: Wine, tmp_path: Path, programs: Programs, arch: str) -> None:
    """The real stub: GetModuleFileNameW past MAX_PATH; a config section points at a short prefix."""
    env = Env(tmp_path / "env", arch)
    env.link("tool", env.add_file("tool", "1.0", programs.probe))
    launcher = _long_folder(tmp_path) / "tool.exe"
    launcher.parent.mkdir(parents=True)
    write_launcher(launcher, arch, prefix=windows_path(env.prefix))
    assert len(windows_path(launcher)) > 300
    result = wine.run(launcher, "echo", "ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(" echo ok")


def test_answers_build_is_the_launcher(wine: Wine, env: Env, programs: Programs) -> None:
    """Control: told nothing, the test build behaves as the shipped stub does."""
    target = env.add_file("probe", "1.0", programs.probe)
    env.link("probe", target)
    expected = f'"{windows_path(env.prefix / target)}" echo same'
    assert wine.run(_answers_launcher(programs, env.scripts / "probe.exe"), "echo", "same").stdout == expected
    assert wine.run(env.launcher("probe"), "echo", "same").stdout == expected  # now the stub
    missing = _answers_launcher(programs, env.scripts / "ghost.exe")
    one_line_error(wine.run(missing), windows_path(missing), "no link record")
