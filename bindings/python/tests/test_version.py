"""The import-time version check."""
import pytest

import orderly
from orderly import _tables


def test_library_is_at_least_the_built_one():
    n = orderly.version_info()
    assert n[0] * 10000 + n[1] * 100 + n[2] >= _tables.BUILT_FOR


def test_an_older_library_is_refused_naming_both():
    with pytest.raises(ImportError, match=r"built for liborderly 0\.2\.0 .* is 0\.1\.0"):
        orderly._check_version(100, 200)
    orderly._check_version(200, 100)
    orderly._check_version(100, 100)
