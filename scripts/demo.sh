#!/usr/bin/env bash
# The first command to run: installs what is missing, builds orderly into
# build/ and prints the order machine as a Mermaid diagram, generated from
# the table the engine runs.
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
echo "The order machine, generated from its declared table (Mermaid; paste it"
echo "into any Mermaid viewer, or see doc/machines/order.md):"
echo
build/tools/orderly graph order --format mermaid
