#!/usr/bin/env bash
# Install askculture into ./.venv without ever pulling a CUDA build of torch:
# the CPU wheel torch==2.13.0 goes in first, and pyproject.toml pins exactly that version.
# Usage: scripts/setup.sh [--dev]   (--dev adds test/lint tools and Debian's Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  "${PIP[@]}" install "torch==2.13.0"
fi
if [ "${1:-}" = "--dev" ]; then
  "${PIP[@]}" install -e ".[dev]"
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "setup: could not install Debian's chromium; browser tests will be skipped" >&2
    else
      echo "setup: install Debian's chromium (apt-get install chromium) for the browser tests" >&2
    fi
  fi
else
  "${PIP[@]}" install -e .
fi
