"""Which environment a command acts on: --prefix, VIRTUAL_ENV, the project's, shimgen's own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shimgen.environment_choice import NoEnvironment, choose_environment
from shimgen.errors import ShimgenError
from tests.helpers.cli import link, run
from tests.helpers.sandbox import Sandbox


def venv(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return folder


def test_order_prefix_then_virtual_env_then_project_then_own(tmp_path: Path) -> None:
    given, active, own = venv(tmp_path / "given"), venv(tmp_path / "active"), venv(tmp_path / "own")
    project = tmp_path / "project"
    venv(project / ".venv")
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    choose = lambda **kw: choose_environment(**{"environ": {}, "cwd": deep, "own_prefix": own, **kw})  # noqa: E731
    assert choose(prefix=given).prefix == given
    assert choose(environ={"VIRTUAL_ENV": str(active)}).prefix == active
    found = choose()
    assert (found.prefix, found.reason) == (project / ".venv", "project")
    found = choose(cwd=tmp_path)
    assert (found.prefix, found.reason) == (own, "shimgen's own environment")


def test_uv_project_environment_in_a_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    venv(project / ".venv")
    venv(project / "envs" / "dev")
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    environ = {"UV_PROJECT_ENVIRONMENT": "envs/dev"}
    assert (
        choose_environment(environ=environ, cwd=project, own_prefix=None).prefix == project / "envs" / "dev"
    )
    absolute = venv(tmp_path / "elsewhere")
    environ = {"UV_PROJECT_ENVIRONMENT": str(absolute)}
    assert choose_environment(environ=environ, cwd=project, own_prefix=None).prefix == absolute
    with pytest.raises(
        NoEnvironment, match=r"UV_PROJECT_ENVIRONMENT=missing for .* \(no environment there\)"
    ):
        choose_environment(environ={"UV_PROJECT_ENVIRONMENT": "missing"}, cwd=project, own_prefix=None)


def test_nothing_found_says_what_was_tried(tmp_path: Path) -> None:
    with pytest.raises(NoEnvironment) as caught:
        choose_environment(environ={}, cwd=tmp_path, own_prefix=None)
    assert caught.value.message == (
        "no environment chosen; tried: --prefix (not given); VIRTUAL_ENV (not set); "
        f"a .venv in {tmp_path} or a folder above it (none); "
        "shimgen's own environment (shimgen is not installed in a virtual environment)"
    )


def test_a_named_prefix_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ShimgenError, match="not an existing folder \\(from VIRTUAL_ENV\\)") as caught:
        choose_environment(environ={"VIRTUAL_ENV": str(tmp_path / "gone")}, cwd=tmp_path, own_prefix=None)
    assert not isinstance(caught.value, NoEnvironment)  # a wrong path is an error (1), not usage (2)


def test_prefix_defaults_to_the_active_virtual_environment(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    link(box, "1.0")
    code, out, _ = run("list", env={"VIRTUAL_ENV": str(box.prefix)})
    assert code == 0 and out.startswith("tool 1.0")
    # No environment named, none found from here, shimgen not in one: a usage error listing what was tried.
    monkeypatch.chdir(box.root)
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    code, _, err = run("list", env={"VIRTUAL_ENV": ""})
    assert code == 2 and "no environment chosen; tried: --prefix (not given); VIRTUAL_ENV (not set)" in err
    assert f"a .venv in {box.root} or a folder above it (none)" in err and "pass --prefix DIR" in err
    # A project's .venv, from a folder below it.
    (box.root / ".venv").symlink_to(box.prefix)
    (box.prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (box.root / "src").mkdir()
    monkeypatch.chdir(box.root / "src")
    code, out, _ = run("list", env={"VIRTUAL_ENV": ""})
    assert code == 0 and out.startswith("tool 1.0")
    code, _, err = run("gc", "--prefix", str(box.root / "nowhere"))
    assert code == 1 and "not an existing folder" in err and "nowhere" in err
