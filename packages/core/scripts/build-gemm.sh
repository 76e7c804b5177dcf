#!/bin/sh
# Builds csrc/gemm.c (GEMM, conv filter gradient) and csrc/colsum.c (column sums) into one module,
# src/kernels/wasm/gemm.wasm (committed: CI has no clang).
# Needs Debian clang-19 and lld-19: apt-get install -y clang-19 lld-19
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang-19}
"$CC" --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base \
  -Wl,-z,stack-size=65536 -Wl,--initial-memory=4194304 \
  -fuse-ld="$(command -v wasm-ld-19 || command -v wasm-ld)" \
  -o "$here/src/kernels/wasm/gemm.wasm" "$here/csrc/gemm.c" "$here/csrc/colsum.c"
ls -l "$here/src/kernels/wasm/gemm.wasm"
