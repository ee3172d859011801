"""Launcher bytes for any Windows target, what an existing launcher runs, and the six shipped stubs
(checked statically with pefile, all three architectures)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pefile
import pytest

from shimgen import (
    Arch,
    FileKind,
    LinkRecord,
    identify,
    launcher_bytes,
    resolve_launcher,
    stub_bytes,
    write_launcher,
)
from shimgen.errors import PathRefused, ShimgenError
from shimgen.launcher import stub_name
from shimgen.linkrecord import LauncherConfig
from shimgen.pe import SUBSYSTEM_CONSOLE, SUBSYSTEM_GUI, imported_dlls, read_manifest, read_pe_info


def test_standard_launcher_is_the_stub() -> None:
    assert launcher_bytes("x64") is stub_bytes(Arch.X64)
    assert launcher_bytes(Arch.ARM64, True) == stub_bytes("arm64", gui=True)


@pytest.mark.parametrize("arch", list(Arch))
@pytest.mark.parametrize("gui", [False, True])
def test_configured_launcher_has_a_valid_config_section(arch: Arch, gui: bool) -> None:
    data = launcher_bytes(arch, gui, command="tool ✓", prefix="..\\..")
    info = identify(data)
    assert info.kind is FileKind.SHIMGEN_LAUNCHER
    assert (info.arch, info.gui, info.standard) == (arch, gui, False)
    assert info.config == LauncherConfig("tool ✓", "..\\..")
    pe = pefile.PE(data=data)
    assert pe.verify_checksum()
    assert pe.sections[-1].Name.rstrip(b"\0") == b".shimcfg"
    assert pe.OPTIONAL_HEADER.SizeOfImage >= pe.sections[-1].VirtualAddress + pe.sections[-1].Misc_VirtualSize
    # Everything before the new section is the stub's own code and data.
    stub = pefile.PE(data=stub_bytes(arch, gui))
    for old, new in zip(stub.sections, pe.sections):
        assert old.get_data() == new.get_data()


def test_identify_other_files() -> None:
    assert identify(b"#!/bin/sh\n").kind is FileKind.NOT_PE
    assert identify(b"MZ" + b"\0" * 100).kind is FileKind.NOT_PE
    foreign = stub_bytes("x64").replace(b"shimgen-link\0", b"another-one\0\0")
    info = identify(foreign)
    assert (info.kind, info.arch) == (FileKind.OTHER_PE, Arch.X64)


def test_write_launcher_uses_plain_stub_in_standard_layout(tmp_path: Path) -> None:
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    assert write_launcher(scripts / "ruff.exe", "x64") == stub_bytes("x64")
    assert write_launcher(scripts / "ruff.exe", "x64", command="ruff", prefix="..") == stub_bytes("x64")
    assert (scripts / "ruff.exe").read_bytes() == stub_bytes("x64")
    assert not list(scripts.glob(".*tmp"))  # no temporary file left behind
    renamed = write_launcher(scripts / "other.exe", "x64", command="ruff")
    assert identify(renamed).config == LauncherConfig(command="ruff")


def test_write_launcher_rejects_bad_command_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(PathRefused):
        write_launcher(tmp_path / "x.exe", "x64", command="../evil")
    assert list(tmp_path.iterdir()) == []


def _env(tmp_path: Path) -> Path:
    prefix = tmp_path / "env"
    (prefix / "Scripts").mkdir(parents=True)
    (prefix / ".shimgen" / "links").mkdir(parents=True)
    return prefix


def test_resolve_launcher_follows_the_link_record(tmp_path: Path) -> None:
    prefix = _env(tmp_path)
    entry = prefix / ".shimgen" / "store" / "ruff" / "1.0-x"
    entry.mkdir(parents=True)
    (entry / "ruff.exe").write_bytes(b"MZ")
    (prefix / ".shimgen" / "links" / "ruff").write_bytes(
        LinkRecord(".shimgen/store/ruff/1.0-x/ruff.exe").to_bytes()
    )
    write_launcher(prefix / "Scripts" / "ruff.exe", "x64")
    resolution = resolve_launcher(prefix / "Scripts" / "ruff.exe")
    assert resolution.ok, resolution.problems
    assert (resolution.command, resolution.prefix, resolution.target) == ("ruff", prefix, entry / "ruff.exe")


def test_resolve_launcher_reports_problems(tmp_path: Path) -> None:
    prefix = _env(tmp_path)
    launcher = prefix / "Scripts" / "tool.exe"
    write_launcher(launcher, "arm64", gui=True)
    assert resolve_launcher(launcher).problems == [f"link record missing: {prefix / '.shimgen/links/tool'}"]
    (prefix / ".shimgen" / "links" / "tool").write_bytes(b"shimgen-link 1\ntarget=../../etc/passwd\n")
    assert "'..'" in resolve_launcher(launcher).problems[0]
    (prefix / ".shimgen" / "links" / "tool").write_bytes(LinkRecord("gone.exe", "gone.py").to_bytes())
    assert resolve_launcher(launcher).problems == [
        f"target missing: {prefix / 'gone.exe'}",
        f"script missing: {prefix / 'gone.py'}",
    ]


def test_resolve_launcher_config_prefix_and_windows_prefix(tmp_path: Path) -> None:
    prefix = _env(tmp_path)
    (tmp_path / "bin").mkdir()
    write_launcher(tmp_path / "bin" / "t.exe", "x64", command="tool", prefix="../env")
    resolution = resolve_launcher(tmp_path / "bin" / "t.exe")
    assert (resolution.command, resolution.prefix) == ("tool", prefix)
    write_launcher(tmp_path / "bin" / "w.exe", "x64", prefix="C:\\tools")
    windows = resolve_launcher(tmp_path / "bin" / "w.exe")
    assert str(windows.link_record) == "C:\\tools\\.shimgen\\links\\w"
    assert windows.ok and windows.notes


def test_resolve_launcher_refuses_non_launchers(tmp_path: Path) -> None:
    (tmp_path / "x.exe").write_bytes(b"not a program")
    with pytest.raises(ShimgenError, match="not a shimgen launcher"):
        resolve_launcher(tmp_path / "x.exe")


def test_identify_knows_a_shipped_stub_without_parsing_it_and_says_the_same_as_a_parse() -> None:
    from shimgen.launcher import _identify_parsed, _shipped_stubs

    assert len(_shipped_stubs()) == 6  # every arch and subsystem, each distinct
    for arch in ("x64", "x86", "arm64"):
        for gui in (False, True):
            data = stub_bytes(arch, gui)
            info = identify(data)
            assert info == _identify_parsed(data) and info.standard and info.gui == gui
            assert info.arch is not None and info.arch.value == arch


ROOT = Path(__file__).resolve().parents[1]


MACHINES = {Arch.X86: 0x014C, Arch.X64: 0x8664, Arch.ARM64: 0xAA64}


STUBS = [
    pytest.param(arch, gui, id=f"{arch}-{'gui' if gui else 'console'}")
    for arch in Arch
    for gui in (False, True)
]


@pytest.mark.parametrize(("arch", "gui"), STUBS)
def test_stub_headers_and_size(arch: Arch, gui: bool) -> None:
    data = stub_bytes(arch, gui)
    assert len(data) <= 8 * 1024
    info = read_pe_info(data)
    assert info is not None
    assert info.machine == MACHINES[arch]
    assert info.subsystem == (SUBSYSTEM_GUI if gui else SUBSYSTEM_CONSOLE)
    assert ".shimcfg" not in info.sections  # the standard layout carries no per-command data


@pytest.mark.parametrize(("arch", "gui"), STUBS)
def test_stub_imports_only_kernel32_and_user32_for_gui(arch: Arch, gui: bool) -> None:
    imports = imported_dlls(stub_bytes(arch, gui))
    assert set(imports) == ({"kernel32.dll", "user32.dll"} if gui else {"kernel32.dll"})
    assert "CreateProcessW" in imports["kernel32.dll"]
    assert "AssignProcessToJobObject" in imports["kernel32.dll"]
    if gui:
        assert {"MessageBoxW", "AllowSetForegroundWindow"} <= set(imports["user32.dll"])


@pytest.mark.parametrize(("arch", "gui"), STUBS)
def test_stub_manifest_as_invoker_and_long_path_aware(arch: Arch, gui: bool) -> None:
    manifest = read_manifest(stub_bytes(arch, gui))
    assert manifest is not None
    text = manifest.decode("utf-8")
    assert 'level="asInvoker"' in text
    assert ">true</longPathAware>" in text
    assert 'xmlns="http://schemas.microsoft.com/SMI/2016/WindowsSettings"' in text


@pytest.mark.parametrize(("arch", "gui"), STUBS)
def test_stub_is_recognised_as_standard_launcher(arch: Arch, gui: bool) -> None:
    info = identify(stub_bytes(arch, gui))
    assert (info.kind, info.arch, info.gui, info.standard) == (FileKind.SHIMGEN_LAUNCHER, arch, gui, True)


def test_readme_gives_the_stub_sizes() -> None:
    """README's sizes table ("The launcher stubs") is what ships."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    for variant, gui in (("console", False), ("GUI", True)):
        row = next(line for line in lines if line.startswith(f"| {variant} | "))
        sizes = [int(cell.strip().replace(",", "")) for cell in row.strip("|").split("|")[1:]]
        assert sizes == [len(stub_bytes(arch, gui)) for arch in (Arch.X86, Arch.X64, Arch.ARM64)], row


def test_sha256sums_match_shipped_stubs() -> None:
    sums = dict(
        reversed(line.split("  "))
        for line in (ROOT / "launcher_stubs" / "SHA256SUMS").read_text().splitlines()
    )
    assert sorted(sums) == sorted(stub_name(arch, gui) for arch in Arch for gui in (False, True))
    for name, digest in sums.items():
        assert hashlib.sha256((ROOT / "src" / "shimgen" / "stubs" / name).read_bytes()).hexdigest() == digest


@pytest.mark.zig
def test_stubs_rebuild_byte_for_byte() -> None:
    """The shipped binaries are provably built from the shipped source."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "launcher_stubs" / "build.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "6 stubs rebuilt byte-for-byte" in result.stdout
