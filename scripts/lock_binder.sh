#!/usr/bin/env bash
# Rewrite binder/requirements.txt: a lock of the versions this machine works with.
#
#   bash scripts/lock_binder.sh
#
# Installs smnb (this checkout) and JupyterLab into a fresh venv, constrained to the
# versions installed in the current environment (the one the test suite passes in), and
# writes every resulting package pinned (`pip freeze`), then "." (smnb itself). Binder
# (repo2docker) installs exactly that; scripts/check_envs.sh binder installs it the same
# way into a fresh venv and runs the notebooks. Run it after upgrading a dependency here,
# and keep binder/runtime.txt on the same Python minor version as this interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m pip freeze --exclude-editable | grep -v -E '^(smnb|-e |#)' > "$work/constraints.txt"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -c "$work/constraints.txt" . jupyterlab
version=$("$work/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
{
  echo "# Binder's environment, pinned: smnb's runtime dependencies and JupyterLab, with the"
  echo "# versions the test suite passes with (Python $version, see runtime.txt). Regenerate with"
  echo "# bash scripts/lock_binder.sh; scripts/check_envs.sh binder installs it into a fresh venv"
  echo "# and runs the notebooks. repo2docker installs it into the one env that also runs"
  echo "# JupyterLab, so the widget front ends (ipywidgets, anywidget) match the kernel side."
  "$work/venv/bin/pip" freeze --exclude smnb | LC_ALL=C sort -f
  echo "."
} > binder/requirements.txt
echo "python-$version" > binder/runtime.txt
echo "wrote binder/requirements.txt ($(grep -c '==' binder/requirements.txt) pins, Python $version)"
