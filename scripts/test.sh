#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run it.
#
#   bash scripts/test.sh            # the whole suite
#   bash scripts/test.sh -m 'not browser' tests/server   # extra args go to pytest
#
# Idempotent: what is already installed is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# System packages: Chromium for the real-browser tests, PortAudio and PulseAudio
# for the microphone tests (a virtual PulseAudio mic feeds sounddevice).
APT_PACKAGES=(chromium libportaudio2 pulseaudio pulseaudio-utils)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# smnb itself with its test extra (official speechmatics-rt client, Jupyter, Playwright, ...).
"$PYTHON" -m pip install -q --disable-pip-version-check -e ".[test]"

# The notebook tests run kernels named python3 from this interpreter.
"$PYTHON" -m ipykernel install --sys-prefix --name python3 >/dev/null

# The legacy speechmatics-python CLI is a conformance peer; its `speechmatics`
# package clashes with speechmatics-rt's namespace, so it lives in its own venv.
if [ ! -x .venv-legacy/bin/speechmatics ]; then
  "$PYTHON" -m venv .venv-legacy
  .venv-legacy/bin/pip install -q --disable-pip-version-check speechmatics-python
fi

exec "$PYTHON" -m pytest "$@"
