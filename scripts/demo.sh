#!/usr/bin/env bash
# The first command to run (the main job): installs what is missing, builds
# orderly into build/, and runs `orderly simulate` - a few thousand order
# lifecycles through the engine, dispatcher, timers and operations on a
# SQLite database with injected faults - then prints its report and checks
# the invariants. Before that it builds the Python binding into
# build/python/venv against a staged install of build/ and runs the
# README's Python example with it. Extra arguments go to simulate (see
# doc/cli.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

bash scripts/setup.sh
echo "demo: building build/"
quietly configure build
quietly ninja -C build

echo "demo: building the Python binding into build/python/venv"
stage=$root/build/python/stage
rm -rf "$stage"
quietly meson install -C build --destdir "$stage"
pc=$(find "$stage" -name orderly.pc -print -quit)
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
[ -x build/python/venv/bin/python ] || quietly "$python" -m venv build/python/venv
quietly build/python/venv/bin/pip install --disable-pip-version-check cffi setuptools wheel
PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$stage \
    quietly build/python/venv/bin/pip install --disable-pip-version-check --no-build-isolation \
    --force-reinstall --no-deps ./bindings/python
build/python/venv/bin/python bindings/python/tests/readme_example.py

echo
exec build/tools/orderly simulate --db build/orderly-sim.db --overwrite "$@"
