#!/usr/bin/env bash
# Fails when the README's C example differs from tests/doc/readme_example.c,
# the copy that is compiled and run as a test: the README must hold exactly
# one ```c block, byte-identical to the file. Given the built example, also
# checks that the README's ```text block is how the example's output begins.
#
# usage: tests/doc/check-readme.sh README.md readme_example.c [EXAMPLE_BIN]
set -euo pipefail

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
    echo "usage: $0 README.md readme_example.c [EXAMPLE_BIN]" >&2
    exit 2
fi
readme=$1
example=$2

# Prints the body of the README's fenced block opened by "```$1".
block() {
    awk -v fence="\`\`\`$1" '$0 == fence { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' "$readme"
}

blocks=$(grep -c '^```c$' "$readme" || true)
if [ "$blocks" -ne 1 ]; then
    echo "check-readme: $readme has $blocks \`\`\`c blocks, expected exactly 1" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

block c >"$tmp/readme.c"
if ! cmp -s "$tmp/readme.c" "$example"; then
    diff -u "$example" "$tmp/readme.c" >&2 || true
    echo "README example drifted from tests/doc/readme_example.c: copy one into the other" >&2
    exit 1
fi
echo "check-readme: README example matches $(basename "$example")"

if [ "$#" -eq 3 ]; then
    block text >"$tmp/expected"
    "$3" >"$tmp/output"
    lines=$(wc -l <"$tmp/expected")
    if [ "$lines" -eq 0 ] || ! head -n "$lines" "$tmp/output" | cmp -s - "$tmp/expected"; then
        diff -u "$tmp/expected" <(head -n "$lines" "$tmp/output") >&2 || true
        echo "README's example output drifted from what the example prints" >&2
        exit 1
    fi
    echo "check-readme: README shows the first $lines lines of the example's output"
fi
