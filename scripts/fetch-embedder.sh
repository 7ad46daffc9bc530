#!/usr/bin/env bash
# Put the potion-base-8M model folder (the category embedder of mostlyai-qa)
# where synthsift can read it, and print its path.
#
# usage: scripts/fetch-embedder.sh [DEST]
#        DEST defaults to ${XDG_CACHE_HOME:-~/.cache}/synthsift/potion-base-8M
#
# The files (30 MB, MIT) ship inside the mostlyai-qa 1.9.8 wheel. The wheel is
# fetched from PyPI with pip (pinned by its sha256, no dependencies, nothing
# installed) and only assets/embedders/potion-base-8M is unpacked. A DEST that
# already holds the expected files is left as it is. Then:
#
#     synthsift evaluate ... --embedder-dir DEST    (or SYNTHSIFT_EMBEDDER_DIR=DEST)
set -euo pipefail

dest="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/synthsift/potion-base-8M}"
wheel_sha256=0e5b6cac509066162e28c42ffaa266a1de51a8142fa36341e3a3277b5647349b
model_sha256=f65d0f325faadc1e121c319e2faa41170d3fa07d8c89abd48ca5358d9a223de2
py="${PYTHON:-python3}"

have_model() {
    [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ] &&
        [ -f "$dest/config.json" ] &&
        echo "$model_sha256  $dest/model.safetensors" | sha256sum --check --status
}

if ! have_model; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    echo "mostlyai-qa==1.9.8 --hash=sha256:$wheel_sha256" >"$tmp/req.txt"
    "$py" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
        -r "$tmp/req.txt" -d "$tmp" >&2
    mkdir -p "$dest"
    "$py" - "$tmp" "$dest" <<'EOF'
import glob, os, sys, zipfile
tmp, dest = sys.argv[1:]
prefix = "mostlyai/qa/assets/embedders/potion-base-8M/"
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0]) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            with z.open(name) as src, open(os.path.join(dest, name[len(prefix):]), "wb") as dst:
                dst.write(src.read())
EOF
    have_model || { echo "fetch-embedder: unpacked files do not match" >&2; exit 1; }
fi
echo "$dest"
