"""The README's Python example is tests/readme_example.py, byte for byte,
and prints what the README shows."""
import os
import subprocess
import sys

from conftest import repo_root

SECTION = "## Using it from Python"
HERE = os.path.dirname(os.path.abspath(__file__))


def block(fence):
    lines, inside, in_section = [], False, False
    with open(os.path.join(repo_root(), "README.md")) as f:
        for line in f.read().splitlines():
            if line == SECTION:
                in_section = True
                continue
            if in_section and line.startswith("## "):
                break
            if in_section and not inside and line == "```" + fence:
                inside = True
                continue
            if inside and line == "```":
                break
            if inside:
                lines.append(line)
    return "\n".join(lines) + "\n"


def test_readme_example_is_the_tested_file():
    with open(os.path.join(HERE, "readme_example.py")) as f:
        assert block("python") == f.read(), \
            "README '## Using it from Python' drifted from tests/readme_example.py: copy one into the other"


def test_readme_example_prints_what_the_readme_shows():
    out = subprocess.run([sys.executable, os.path.join(HERE, "readme_example.py")],
                         check=True, capture_output=True, text=True, cwd=HERE).stdout
    assert out == block("text")
