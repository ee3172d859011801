"""doctor (shimgen.doctor): a clean environment has no findings; each check is tested beside its
module, in tests/doctor/."""

from __future__ import annotations

from shimgen.doctor import doctor
from tests.helpers.sandbox import Sandbox


def test_clean_environment_and_non_shimgen_prefix(sandbox: Sandbox) -> None:
    assert doctor(sandbox.store()) == []
    sandbox.publish("tool", "1.0", "a", "b")
    sandbox.publish("tool", "2.0", "a", "b")
    assert doctor(sandbox.store()) == []
