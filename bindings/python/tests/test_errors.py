"""Errors: one class per code, each with the code, name and class of C."""
import os
import re

import pytest

import orderly
from conftest import repo_root
from orderly._native import ffi, lib

CODES = [-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18,
         -19, -20, -21, -22, -23, -30, -31]


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_its_class(code):
    cls = orderly.error_class(code)
    assert issubclass(cls, orderly.Error)
    exc = cls("why")
    assert exc.code == code
    assert exc.name == ffi.string(lib.orderly_error_name(code)).decode()
    assert exc.transient == bool(lib.orderly_error_is_transient(code))
    assert isinstance(exc, orderly.Transient) == exc.transient
    assert exc.message == "why" and str(exc) == "why"


def test_classes_are_distinct_and_named():
    classes = [orderly.error_class(c) for c in CODES]
    assert len(set(classes)) == len(CODES)
    assert orderly.ERROR_CLASSES[-8] is orderly.TransitionError
    assert orderly.Duplicate is orderly.Exists


def test_default_message_is_strerror():
    assert orderly.NotFound().message == ffi.string(lib.orderly_strerror(-5)).decode()


def test_invalid_argument_is_a_value_error():
    assert issubclass(orderly.InvalidArgument, ValueError)
    assert issubclass(orderly.NotFound, LookupError)


def test_engine_errors_carry_the_engine_message(engine):
    with pytest.raises(orderly.NotFound) as info:
        engine.get_order("nobody")
    assert info.value.code == -5 and "nobody" in info.value.message


def test_every_code_of_errors_h_has_its_own_class():
    """The drift check: a code added to errors.h without a class here fails."""
    with open(os.path.join(repo_root(), "include", "orderly", "errors.h")) as f:
        codes = {name: int(value) for name, value in
                 re.findall(r"^\s*(ORDERLY_E[A-Z]+|ORDERLY_ITEROVER)\s*=\s*(-\d+)", f.read(), re.M)}
    assert codes["ORDERLY_EINVARIANT"] == -18
    for name, code in codes.items():
        cls = orderly.ERROR_CLASSES.get(code)
        assert cls is not None, "%s (%d) has no exception class" % (name, code)
        assert cls("x").name == name
    assert orderly.error_class(-18) is orderly.InvariantError
    assert sorted(codes.values()) == sorted(CODES)
