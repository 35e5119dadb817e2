"""cffi build script: orderly._native, compiled against the installed C library.

The declarations are orderly/_decl.h (a curated copy of the public headers)
and orderly/_bridge.h (the binding's shims and trampolines); the C source
includes the real headers, so the compiler checks every declaration. Flags
come from ``pkg-config orderly orderly-sqlite orderly-conformance``.
"""
import os
import shlex
import subprocess

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ["orderly", "orderly-sqlite", "orderly-conformance"]


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, *PACKAGES], check=True,
                             capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise SystemExit("orderly: pkg-config is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise SystemExit("orderly: pkg-config cannot find %s (install the C library first, "
                         "or set PKG_CONFIG_PATH): %s" % (" ".join(PACKAGES), exc.stderr.strip()))
    return shlex.split(out)


def _read(name):
    with open(os.path.join(HERE, "orderly", name)) as f:
        return f.read()


def _strip_comments(text):
    lines = []
    in_comment = False
    for line in text.splitlines():
        stripped = line.strip()
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            in_comment = "*/" not in stripped
            continue
        lines.append(line)
    return "\n".join(lines)


cflags = _pkg_config("--cflags")
libs = _pkg_config("--libs")
# The library directories as run paths too, so a library installed outside
# the loader's search path (a prefix, a staged install) is found at import.
rpaths = ["-Wl,-rpath," + flag[2:] for flag in _pkg_config("--libs-only-L")]

ffibuilder = FFI()
ffibuilder.cdef(_strip_comments(_read("_decl.h")) + "\n" + _strip_comments(_read("_bridge.h")))
ffibuilder.set_source(
    "orderly._native",
    _read("_shim.c"),
    extra_compile_args=[f for f in cflags] + ["-std=c11", "-Wno-unused-parameter"],
    extra_link_args=libs + rpaths,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
