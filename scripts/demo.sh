#!/usr/bin/env bash
# The first command to run (the main job): installs what is missing, builds
# orderly into build/, and runs `orderly simulate` - a few thousand order
# lifecycles through the engine, dispatcher, timers and operations on a
# SQLite database with injected faults - then prints its report and checks
# the invariants. Extra arguments go to simulate (see doc/cli.md).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

bash scripts/setup.sh
echo "demo: building build/"
quietly configure build
quietly ninja -C build

echo
exec build/tools/orderly simulate --db build/orderly-sim.db --overwrite "$@"
