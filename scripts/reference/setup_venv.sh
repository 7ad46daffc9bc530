#!/usr/bin/env bash
# Create the torch-free reference venv for mostlyai-qa 1.9.8.
#
# usage: scripts/reference/setup_venv.sh /path/to/venv [python-executable]
#
# Needs python 3.11 (or another version mostlyai-qa 1.9.8 supports) and access to PyPI.
set -euo pipefail

venv="${1:?usage: setup_venv.sh /path/to/venv [python]}"
py="${2:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip
# mostlyai-qa declares torch/accelerate as dependencies; the accuracy path never imports them.
"$venv/bin/python" -m pip install --no-deps "mostlyai-qa==1.9.8"
"$venv/bin/python" -m pip install -r "$here/requirements.txt"
# smoke test (run outside the package dir: the package ships a module named logging.py)
(cd / && "$venv/bin/python" -c "import mostlyai.qa as qa; print('mostlyai-qa', qa.__version__)")
