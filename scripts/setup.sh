#!/usr/bin/env bash
# Set up everything the pipeline and the tests need: the .venv with the pinned
# requirements, and TeX for the report (from Debian packages when run as root).
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

if [ ! -f "$VENV/.installed" ] || [ requirements.txt -nt "$VENV/.installed" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' \
    || { echo "setup: Python 3.11 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)" >&2; exit 1; }
  if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "setup: installing python3-venv with apt-get"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "setup: $PYTHON cannot create a venv; on Debian/Ubuntu run: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  echo "setup: installing requirements.txt into $VENV (PyTorch with its CUDA libraries is about 5 GB; a few minutes)"
  "$PYTHON" -m venv "$VENV"
  # -qq: this keeps logs readable; pip still prints errors.
  "$VENV/bin/pip" install -qq --disable-pip-version-check -r requirements.txt
  touch "$VENV/.installed"
fi

# torch.compile (train.compile in params.yaml) builds its CPU kernels with a C++ compiler.
if ! command -v g++ >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing g++ with apt-get (torch.compile builds its CPU kernels with it)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
  else
    echo "setup: g++ not found; torch.compile needs it. On Debian/Ubuntu run: sudo apt-get install g++," >&2
    echo "       or set train.compile: false in params.yaml" >&2
  fi
fi

if ! command -v latexmk >/dev/null || ! command -v pdflatex >/dev/null; then
  packages="texlive-latex-recommended latexmk"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing TeX ($packages) with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null
  else
    echo "setup: latexmk/pdflatex not found; the report stage needs them." >&2
    echo "       On Debian/Ubuntu run: sudo apt-get install --no-install-recommends $packages" >&2
    echo "       On macOS: brew install --cask mactex-no-gui" >&2
    exit 1
  fi
fi

# The browser test of the `dvc plots show` page (tests/test_plots_page.py) drives headless Chromium; without
# it that test is skipped. Optional, so only installed where we can (root with apt-get).
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing chromium with apt-get (for the browser test of the plots page)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
    || echo "setup: chromium could not be installed; the browser test of the plots page will be skipped" >&2
fi
