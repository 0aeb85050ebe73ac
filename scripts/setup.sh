#!/usr/bin/env bash
# Installs every dependency of csei from Debian 12 packages; skips what is already present.
# Idempotent; run as root (or with sudo available). Extra packages can be named as arguments.
set -euo pipefail

packages=(
  build-essential cmake pkg-config time
  libboost-dev libtbb-dev libhdf5-dev hdf5-tools
  catch2 libtomlplusplus-dev libcli11-dev libcpp-httplib-dev nlohmann-json3-dev libqrencode-dev
  libopenmpi-dev openmpi-bin
  pybind11-dev python3-pybind11 python3-dev
  python3 python3-h5py python3-numpy python3-pandas python3-matplotlib python3-scipy python3-pytest
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
