#!/bin/sh
# Builds augment.c into augment.wasm next to it (committed: CI has no clang), or into the path given as $1.
# Needs Debian clang-19 and lld-19: apt-get install -y clang-19 lld-19
# -ffp-contract=off keeps every float32 operation separately rounded, as torch's CPU kernels (bit-exact colour ops).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang-19}
"$CC" --target=wasm32 -O3 -msimd128 -mnontrapping-fptoint -msign-ext -ffp-contract=off -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base \
  -Wl,-z,stack-size=65536 -Wl,--initial-memory=4194304 \
  -fuse-ld="$(command -v wasm-ld-19 || command -v wasm-ld)" \
  -o "${1:-$here/augment.wasm}" "$here/augment.c"
ls -l "${1:-$here/augment.wasm}"
