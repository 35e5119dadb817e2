"""The storage conformance suite against the dict-backed Python storage."""
import pytest

import orderly
from orderly.examples.dict_storage import DictTarget


def test_dict_storage_passes_the_whole_suite():
    report = orderly.conformance.run(DictTarget(), name="dict storage")
    assert report.failures == 0, report.tap
    assert "crash: at commit, the commit lost" in report.tap
    assert "not ok" not in report.tap


def test_a_broken_storage_fails_the_contract():
    class Forgetful(DictTarget):
        def crash(self, storage):
            self.store.reset()  # loses committed state too
            return storage

    report = orderly.conformance.run(Forgetful(), parts="contract")
    assert report.failures > 0 and "not ok" in report.tap


def test_options_and_target_exceptions():
    report = orderly.conformance.run(DictTarget(), parts="contract", filter="fencing")
    assert report.failures == 0 and report.tap.count("\nok ") + report.tap.startswith("ok") == 1

    class Broken(DictTarget):
        def reset(self):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        orderly.conformance.run(Broken(), parts="contract")
    with pytest.raises(ValueError, match="parts"):
        orderly.conformance.run(DictTarget(), parts="some")
