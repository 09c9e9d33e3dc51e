#!/usr/bin/env bash
# Install pinned environments into fresh venvs and run the notebooks (01–04) with each.
#
#   bash scripts/check_envs.sh            # both
#   bash scripts/check_envs.sh binder     # binder/requirements.txt, Binder's lock (Python 3.11)
#   bash scripts/check_envs.sh colab      # Colab's pins: ipywidgets 7.7.1, ipykernel 6.17.1,
#                                         # IPython 7.34, anywidget 0.9.21 … (Python 3.13)
#
# Each environment is a new venv in a temporary directory: nothing is reused from this
# machine's Python but pip's download cache. smnb is installed from this checkout (not
# editable) and PYTHONPATH is cleared, so the notebooks run against what the lock installs.
# A notebook fails if a cell raises or anything reaches stderr (scripts/run_notebooks.py).
#
# Bounded: each environment gets CHECK_ENVS_TIMEOUT seconds (default 1200) for install and
# run together. Interpreters: BINDER_PYTHON / COLAB_PYTHON, else python3.11 / python3.13 on
# PATH or under pyenv. Colab's pins come from googlecolab/backend-info (pip-freeze.txt);
# JupyterLab is not installed there, as Colab renders widgets with its own manager.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROOT=$PWD
TIMEOUT=${CHECK_ENVS_TIMEOUT:-1200}
WHICH=("$@")
[ ${#WHICH[@]} -eq 0 ] && WHICH=(binder colab)

COLAB_PINS=(
  "ipywidgets==7.7.1" "ipykernel==6.17.1" "ipython==7.34.0" "anywidget==0.9.21"
  "jupyter_client==7.4.9" "nest-asyncio==1.6.0" "tornado==6.5.7" "websockets==15.0.1"
  "numpy==2.1.3" "pandas==2.2.3" "matplotlib==3.10.0"
)

find_python() {  # find_python 3.13 → a path to that interpreter, or nothing
  local want=$1 candidate
  for candidate in "python$want" "$(pyenv root 2>/dev/null)"/versions/"$want"*/bin/"python$want"; do
    if "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return
    fi
  done
}

check() {  # check NAME PYTHON PIP-ARGS...
  local name=$1 python=$2
  shift 2
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/smnb-env-$name-XXXX")
  echo "== $name: $("$python" --version 2>&1) in a fresh venv ($work)"
  local start=$SECONDS
  "$python" -m venv "$work/venv"
  "$work/venv/bin/pip" install -q --disable-pip-version-check "$@"
  "$work/venv/bin/python" -m ipykernel install --sys-prefix --name "smnb-$name" >/dev/null
  echo "   installed in $((SECONDS - start)) s: $("$work/venv/bin/python" - <<'PY'
from importlib.metadata import version
print(", ".join(f"{p} {version(p)}" for p in ("ipywidgets", "ipykernel", "ipython", "anywidget",
                                               "pandas", "numpy", "matplotlib")))
PY
)"
  # Quiet, as a notebook user's kernel would be: no debugger notice on frozen modules.
  env -u PYTHONPATH PYDEVD_DISABLE_FILE_VALIDATION=1 \
    "$work/venv/bin/python" "$ROOT/scripts/run_notebooks.py" --kernel "smnb-$name" --out "$work/run"
  echo "   $name: done in $((SECONDS - start)) s"
  rm -rf "$work"  # kept when something failed, to look at the executed copies
}

status=0
for name in "${WHICH[@]}"; do
  case "$name" in
    binder)
      py=${BINDER_PYTHON:-$(find_python "$(sed -E 's/^python-//' binder/runtime.txt)")}
      args=(-r binder/requirements.txt) ;;
    colab)
      py=${COLAB_PYTHON:-$(find_python 3.13)}
      args=("${COLAB_PINS[@]}" nbclient nbformat .) ;;
    *) echo "unknown environment $name (binder or colab)" >&2; exit 2 ;;
  esac
  if [ -z "$py" ]; then
    echo "== $name: no Python interpreter found (set ${name^^}_PYTHON)" >&2
    status=1
    continue
  fi
  export -f check
  if ! timeout "$TIMEOUT" bash -c 'set -euo pipefail; check "$@"' _ "$name" "$py" "${args[@]}"; then
    echo "== $name: FAILED (or exceeded ${TIMEOUT} s)" >&2
    status=1
  fi
done
exit $status
