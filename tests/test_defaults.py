"""shimgen.defaults repeats a few values so the command line can start without the modules that own
them; these keep the copies equal."""

from shimgen import defaults
from shimgen.environment import PLATFORMS
from shimgen.pe import Arch


def test_the_copies_match_their_owners() -> None:
    assert tuple(a.value for a in Arch) == defaults.ARCHES
    assert tuple(PLATFORMS) == defaults.PLATFORM_TAGS


def test_version_and_help_import_none_of_the_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from shimgen.cli import main\n"
        "heavy = {'pefile', 'filelock', 'distlib', 'shimgen.store', 'shimgen.install', 'zipfile'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
