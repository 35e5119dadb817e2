#!/usr/bin/env bash
# Fails when a C example in the README differs from its copy under
# tests/doc/, the file that is compiled and run as a test. The README
# section named SECTION ("Using it" for "## Using it") must hold exactly one
# ```c block, byte-identical to EXAMPLE.c. Given the built example, also
# checks that the section's ```text block is how the example's output begins.
#
# usage: tests/doc/check-readme.sh README.md SECTION EXAMPLE.c [EXAMPLE_BIN]
set -euo pipefail

if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then
    echo "usage: $0 README.md SECTION EXAMPLE.c [EXAMPLE_BIN]" >&2
    exit 2
fi
readme=$1
section=$2
example=$3

# Prints the body of the first block opened by "```$1" inside the section.
block() {
    awk -v fence="\`\`\`$1" -v head="## $section" '
        $0 == head { in_section = 1; next }
        in_section && /^## / { exit }
        in_section && !inside && $0 == fence { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' "$readme"
}

if ! grep -qxF "## $section" "$readme"; then
    echo "check-readme: $readme has no \"## $section\" section" >&2
    exit 1
fi
blocks=$(awk -v head="## $section" '
    $0 == head { in_section = 1; next }
    in_section && /^## / { exit }
    in_section && /^```c$/ { n++ }
    END { print n + 0 }' "$readme")
if [ "$blocks" -ne 1 ]; then
    echo "check-readme: \"## $section\" has $blocks \`\`\`c blocks, expected exactly 1" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

block c >"$tmp/readme.c"
if ! cmp -s "$tmp/readme.c" "$example"; then
    diff -u "$example" "$tmp/readme.c" >&2 || true
    echo "README \"## $section\" example drifted from $example: copy one into the other" >&2
    exit 1
fi
echo "check-readme: \"## $section\" example matches $(basename "$example")"

if [ "$#" -eq 4 ]; then
    block text >"$tmp/expected"
    "$4" >"$tmp/output"
    lines=$(wc -l <"$tmp/expected")
    if [ "$lines" -eq 0 ] || ! head -n "$lines" "$tmp/output" | cmp -s - "$tmp/expected"; then
        diff -u "$tmp/expected" <(head -n "$lines" "$tmp/output") >&2 || true
        echo "README \"## $section\" output drifted from what the example prints" >&2
        exit 1
    fi
    echo "check-readme: \"## $section\" shows the first $lines lines of the example's output"
fi
