"""``shimgen shell-hook SHELL``: make ``uv`` and ``pip`` in a shell go through ``shimgen run``.

Only the subcommands that change an environment go through it (the table
below); ``uv --version`` or ``pip list`` run as they are, without starting
Python for shimgen. cmd.exe's ``doskey`` cannot look at arguments, so there
every ``uv`` and ``pip`` call goes to ``shimgen run --only-installs``, which
applies the same table and runs anything else directly.
"""

from __future__ import annotations

from collections.abc import Sequence

# The subcommands that install or remove packages in an environment, by program.
INSTALLING: dict[str, tuple[tuple[str, ...], ...]] = {
    "uv": (("pip", "install"), ("pip", "uninstall"), ("pip", "sync"), ("sync",), ("add",), ("remove",)),
    "pip": (("install",), ("uninstall",)),
    "pip3": (("install",), ("uninstall",)),
}
SHELLS = ("bash", "zsh", "powershell", "cmd")


def changes_environment(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (program and arguments) is an installer's subcommand that changes an environment."""
    if not argv:
        return False
    program = argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    program = program[:-4] if program.endswith(".exe") else program
    words = tuple(argv[1:])
    return any(words[: len(sub)] == sub for sub in INSTALLING.get(program, ()))


def hook(shell: str) -> str:
    """The text to evaluate in ``shell`` (see README, "Living beside uv and pip")."""
    if shell in ("bash", "zsh"):
        return "\n".join(_posix_function(program, subs) for program, subs in INSTALLING.items()) + "\n"
    if shell == "powershell":
        return "\n".join(_powershell_function(program, subs) for program, subs in INSTALLING.items()) + "\n"
    if shell == "cmd":
        return "".join(f"doskey {p}=shimgen run --only-installs -- {p} $*\n" for p in INSTALLING)
    raise ValueError(f"unknown shell {shell!r}")


def _posix_function(program: str, subcommands: tuple[tuple[str, ...], ...]) -> str:
    through = f'shimgen run -- {program} "$@"; return;;'
    lines = [f"{program}() {{"]
    if any(len(sub) == 2 for sub in subcommands):
        first, seconds = _two_word(subcommands)
        lines.append(f'  if [ "$1" = {first} ]; then case "$2" in {seconds}) {through} esac; fi')
    singles = "|".join(sub[0] for sub in subcommands if len(sub) == 1)
    if singles:
        lines.append(f'  case "$1" in {singles}) {through} esac')
    lines.append(f'  command {program} "$@"')
    lines.append("}")
    return "\n".join(lines)


def _powershell_function(program: str, subcommands: tuple[tuple[str, ...], ...]) -> str:
    tests = []
    for sub in subcommands:
        parts = [f"$args.Count -ge {len(sub)}", *(f"$args[{i}] -eq '{word}'" for i, word in enumerate(sub))]
        tests.append("(" + " -and ".join(parts) + ")")
    real = f"Get-Command -Name {program} -CommandType Application -ErrorAction Stop | Select-Object -First 1"
    return (
        f"function {program} {{\n"
        f"  $real = {real}\n"
        f"  if ({' -or '.join(tests)}) {{ shimgen run -- $real.Source @args }} else {{ & $real @args }}\n"
        "}"
    )


def _two_word(subcommands: tuple[tuple[str, ...], ...]) -> tuple[str, str]:
    """The first word shared by the two-word subcommands (``pip`` for uv), and the second words."""
    firsts = {sub[0] for sub in subcommands if len(sub) == 2}
    assert len(firsts) == 1, "one two-word group per program"
    return firsts.pop(), "|".join(sub[1] for sub in subcommands if len(sub) == 2)
