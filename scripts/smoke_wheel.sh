#!/usr/bin/env bash
# Packaging smoke test: build the sdist and the wheel, install each into a fresh venv and
# run scripts/smoke_check.py there; then, in a fresh venv inside the unpacked sdist (a
# clean copy of the source tree), run README.md's quick-start command exactly as written.
#
#   scripts/smoke_wheel.sh [python]     # default: python3; needs the `build` package
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="${1:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "--- building sdist and wheel"
"$PY" -m build --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
wheel=("$WORK"/dist/*.whl)
sdist=("$WORK"/dist/*.tar.gz)

install_and_check() {  # $1 = label, $2 = artifact
    echo "--- $1: fresh venv, pip install $(basename "$2")"
    "$PY" -m venv "$WORK/venv-$1"
    "$WORK/venv-$1/bin/python" -m pip install -q "$2"
    (cd "$WORK" && "$WORK/venv-$1/bin/python" "$ROOT/scripts/smoke_check.py")
}
install_and_check wheel "${wheel[0]}"
install_and_check sdist "${sdist[0]}"

echo "--- README quick start, in a fresh venv inside the unpacked sdist"
tar -xzf "${sdist[0]}" -C "$WORK"
tree=("$WORK"/pycfile-*/)
# The first ```sh block under "## Quick start", exactly as a reader would paste it.
quickstart="$("$PY" - "$ROOT/README.md" <<'PYEOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("## Quick start", 1)[1]
block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
print(block, end="")
PYEOF
)"
"$PY" -m venv "$WORK/venv-readme"
output="$(cd "${tree[0]}" && PATH="$WORK/venv-readme/bin:$PATH" bash -euo pipefail -c "$quickstart")"
echo "$output"
grep -q "^written back identical: True$" <<<"$output"
echo "--- packaging smoke test passed"
