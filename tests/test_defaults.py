"""shimgen.defaults repeats a few values so the command line can start without the modules that own
them; these keep the copies equal."""

from shimgen import defaults
from shimgen.environment import PLATFORMS
from shimgen.pe import Arch


def test_the_copies_match_their_owners() -> None:
    assert tuple(a.value for a in Arch) == defaults.ARCHES
    assert tuple(PLATFORMS) == defaults.PLATFORM_TAGS
