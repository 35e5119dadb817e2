#!/usr/bin/env bash
# Tests the Python binding (bindings/python) against the C library in build/:
#   1. installs build/ into a scratch directory (meson install --destdir)
#      and points pkg-config and the dynamic loader at it;
#   2. makes a virtual environment there with cffi, pytest and setuptools,
#      and pip-installs the binding into it (cffi compiles it against the
#      staged headers and library);
#   3. runs the binding's pytest suite, README example included.
# Called by scripts/test.sh after build/ is built; runs on its own too
# (building build/ first when it is missing). Needs python3 with venv and
# its headers (scripts/setup.sh installs python3-venv and python3-dev).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

if [ ! -f build/build.ninja ]; then
    configure build -Dwerror=true -Db_sanitize=none
fi
ninja -C build >/dev/null

dest=$scratch/dest
meson install -C build --destdir "$dest" >"$scratch/install.log" ||
    { cat "$scratch/install.log" >&2; exit 1; }
pc=$(find "$dest" -name orderly.pc -print -quit)
[ -n "$pc" ] || { echo "test-python: no orderly.pc under $dest" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$dest
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# Debian's own interpreter when present: a pyenv shim may lack venv or headers.
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
    { echo "test-python: Python 3.9 or newer is needed" >&2; exit 1; }
"$python" -m venv "$scratch/venv" ||
    { echo "test-python: no venv module (scripts/setup.sh installs python3-venv)" >&2; exit 1; }
venv=$scratch/venv/bin
quietly "$venv/pip" install --disable-pip-version-check cffi pytest setuptools wheel
# The source tree is copied so the build leaves nothing in bindings/python.
cp -r bindings/python "$scratch/src"
quietly "$venv/pip" install --disable-pip-version-check --no-build-isolation "$scratch/src"

echo "test-python: binding built against liborderly in $libdir"
# pytest (not python -m pytest, which would put the working directory on
# sys.path) so `import orderly` finds the installed package with its
# compiled extension, never the source folder.
cd "$scratch"
ORDERLY_REPO="$root" "$venv/pytest" -q -p no:cacheprovider src/tests
