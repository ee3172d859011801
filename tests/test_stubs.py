"""The six shipped launcher stubs, checked statically with pefile (all three architectures)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from shimgen.launcher import FileKind, identify, stub_bytes, stub_name
from shimgen.pe import SUBSYSTEM_CONSOLE, SUBSYSTEM_GUI, Arch, imported_dlls, read_manifest, read_pe_info

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
