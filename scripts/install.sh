#!/usr/bin/env bash
# Installs everything dfbs-vo needs on a Debian 12 machine, idempotently:
#   - Debian packages: PostgreSQL 15 + q3c, CFITSIO, STILTS, xmllint, Python venv, build tools;
#   - the unprivileged system user `dfbsvo` that runs the private PostgreSQL cluster when
#     dfbs-vo itself runs as root (PostgreSQL refuses to run as root);
#   - a Rust toolchain if none is present (rustup);
#   - the project virtualenv .venv with the pinned packages of scripts/requirements.txt.
# Each step checks first and does nothing when its work is already done.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

say() { printf '[install] %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# --- Debian packages -----------------------------------------------------------------------
packages=(
  postgresql-15 postgresql-15-q3c postgresql-contrib
  libcfitsio-dev pkg-config build-essential ca-certificates curl git procps
  stilts libxml2-utils
  python3 python3-venv python3-pip
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all present"
fi
# Debian's postgresql-common may start a system cluster on port 5432; dfbs-vo does not use it
# (it runs its own private cluster), so leave it as the administrator configured it.

# --- service user for the private cluster when running as root -------------------------------
if [ "$(id -u)" -eq 0 ] && ! id -u dfbsvo >/dev/null 2>&1; then
  say "creating system user dfbsvo (runs the private PostgreSQL cluster when dfbs-vo runs as root)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin dfbsvo
fi

# --- Rust toolchain ------------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  say "installing the Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi
say "cargo: $(cargo --version)"

# --- Python virtualenv ---------------------------------------------------------------------
# Debian's own python3 (not whatever else is first on PATH) so that the venv matches the
# python3-venv package installed above.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
stamp=.venv/.requirements.sha256
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  say "virtualenv .venv: up to date"
else
  say "creating virtualenv .venv with $($py --version)"
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r scripts/requirements.txt
  echo "$want" > "$stamp"
fi
ort_lib=$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n1 || true)
say "ONNX Runtime library: ${ort_lib:-NOT FOUND}"
say "done"
