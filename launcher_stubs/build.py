"""Build the six launcher stubs from launcher.c, reproducibly.

    python launcher_stubs/build.py          # rebuild into src/shimgen/stubs/, rewrite SHA256SUMS
    python launcher_stubs/build.py --check  # rebuild into a temporary folder, compare bytes

One toolchain (the pinned ``ziglang`` wheel from PyPI) cross-compiles every
architecture from any OS, and two builds with the same flags are byte-identical,
so ``--check`` proves the shipped binaries come from the shipped source.

The test suite imports :func:`compile_windows` to build its own Windows test
programs with exactly the same toolchain.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ZIG_VERSION = "0.17.1"  # keep in step with pyproject.toml's "stubs" extra

HERE = Path(__file__).resolve().parent
STUBS_DIR = HERE.parent / "src" / "shimgen" / "stubs"
SUMS_FILE = HERE / "SHA256SUMS"

ZIG_TARGETS = {"x86": "x86-windows-gnu", "x64": "x86_64-windows-gnu", "arm64": "aarch64-windows-gnu"}
VARIANTS = {
    # variant: (entry point, PE subsystem, extra defines, libraries)
    "console": ("console_entry", "console", [], ["kernel32"]),
    "gui": ("gui_entry", "windows", ["-DSHIMGEN_GUI=1"], ["kernel32", "user32"]),
}


def stub_name(arch: str, variant: str) -> str:
    return f"launcher-{arch}-{variant}.exe"


def _zig(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "ziglang", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"zig {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def check_toolchain() -> None:
    """Refuse to build with another zig: other versions emit other bytes."""
    try:
        found = _zig("version").strip()
    except (RuntimeError, OSError) as error:
        needed = f"ziglang=={ZIG_VERSION} is needed: pip install 'ziglang=={ZIG_VERSION}'"
        raise SystemExit(f"{needed} ({error})") from None
    if found != ZIG_VERSION:
        raise SystemExit(f"ziglang {found} found, {ZIG_VERSION} needed: pip install 'ziglang=={ZIG_VERSION}'")


def compile_windows(
    sources: list[Path],
    output: Path,
    arch: str,
    *,
    entry: str,
    subsystem: str = "console",
    defines: list[str] | None = None,
    libraries: list[str] | None = None,
    shared: bool = False,
    extra: list[str] | None = None,
) -> Path:
    """Compile C (and .rc) sources into a CRT-free Windows executable or DLL.

    Sources are passed relative to their folder, which is the working directory,
    so no absolute path of the build machine can reach the binary.
    """
    folder = sources[0].parent
    include = Path(_zig("env").split('.lib_dir = "')[1].split('"')[0])
    if not include.is_absolute():
        include = (Path.cwd() / include).resolve()
    include = include / "libc" / "include" / "any-windows-any"
    command = [
        "cc", "-target", ZIG_TARGETS[arch], "-Os", "-s", "-nostdlib", "-ffreestanding",
        "-fno-stack-protector", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
        "-isystem", str(include), f"-Wl,--entry={entry}", f"-Wl,--subsystem,{subsystem}",
        "-Wl,--build-id=none", *(["-shared"] if shared else []), *(defines or []), *(extra or []),
        *[source.name for source in sources], *[f"-l{lib}" for lib in (libraries or [])],
        "-o", str(output.resolve()),
    ]  # fmt: skip
    _zig(*command, cwd=folder)
    return output


def build_all(destination: Path) -> dict[str, str]:
    """Build every stub into ``destination``; return {file name: sha256}."""
    destination.mkdir(parents=True, exist_ok=True)
    sums = {}
    for arch in ZIG_TARGETS:
        for variant, (entry, subsystem, defines, libraries) in VARIANTS.items():
            output = destination / stub_name(arch, variant)
            compile_windows(
                [HERE / "launcher.c", HERE / "launcher.rc"], output, arch,
                entry=entry, subsystem=subsystem, defines=defines, libraries=libraries,
            )  # fmt: skip
            sums[output.name] = hashlib.sha256(output.read_bytes()).hexdigest()
    return sums


def format_sums(sums: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="rebuild elsewhere and compare with the shipped stubs"
    )
    args = parser.parse_args(argv)
    check_toolchain()
    if not args.check:
        sums = build_all(STUBS_DIR)
        SUMS_FILE.write_text(format_sums(sums))
        for name, digest in sorted(sums.items()):
            print(f"{(STUBS_DIR / name).stat().st_size:6d} bytes  {name}  {digest[:16]}")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        sums = build_all(Path(scratch))
        problems = []
        if format_sums(sums) != SUMS_FILE.read_text():
            problems.append(f"{SUMS_FILE} does not match a fresh build")
        for name in sums:
            shipped = STUBS_DIR / name
            if not shipped.exists() or shipped.read_bytes() != (Path(scratch) / name).read_bytes():
                problems.append(f"{shipped} differs from a fresh build of launcher.c")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Rebuild with: python launcher_stubs/build.py", file=sys.stderr)
        return 1
    print(f"{len(sums)} stubs rebuilt byte-for-byte from launcher_stubs/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
