"""The tests mirror the source, so a test file cannot drift from the module it tests.

Every ``tests/**/test_X.py`` is named after a module: ``tests/store/test_gc.py`` tests
``src/shimgen/store/gc.py``, ``tests/test_adopt.py`` tests ``src/shimgen/adopt.py``, and a package's
own code is tested under the package's name (``tests/test_doctor.py``: ``shimgen/doctor/__init__.py``).
Suites that cut across modules live in ``tests/scenarios/``; the Wine suites in ``tests/wine/``.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
SOURCE = TESTS.parent / "src" / "shimgen"
CROSS_CUTTING = ("scenarios", "wine")


def module_named_by(test_file: Path) -> Path | None:
    """The module (or package) under src/shimgen/ a test file is named after, if it exists."""
    relative = test_file.relative_to(TESTS)
    folder = SOURCE.joinpath(*relative.parts[:-1])
    name = relative.name[len("test_") : -len(".py")]
    for module in (folder / f"{name}.py", folder / name / "__init__.py"):
        if module.is_file():
            return module
    return None


def test_every_test_file_is_named_after_a_module() -> None:
    orphans = [
        path.relative_to(TESTS.parent).as_posix()
        for path in sorted(TESTS.rglob("test_*.py"))
        if path != Path(__file__).resolve()
        and path.relative_to(TESTS).parts[0] not in CROSS_CUTTING
        and module_named_by(path) is None
    ]
    assert not orphans, (
        f"test files named after no module under src/shimgen/: {', '.join(orphans)}; "
        "tests/<package>/test_<module>.py tests src/shimgen/<package>/<module>.py: put each test in the "
        "file of the module it tests, or, if it cuts across modules, in tests/scenarios/"
    )
