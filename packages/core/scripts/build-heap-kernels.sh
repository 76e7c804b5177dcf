#!/bin/sh
# Builds csrc/batchnorm.c, csrc/maxpool.c and csrc/eltwise.c with csrc/colsum.c into src/kernels/wasm/heap-kernels.wasm (committed: CI has no clang),
# a module that runs on the tfjs wasm backend's memory (src/kernels/wasm/heap-kernels.ts):
#   --import-memory     the backend's (non-shared) memory is passed in at instantiation; no maximum is declared;
#   no data segments    nothing may be written into that memory at instantiation (the loader checks);
#   __stack_pointer     exported, so the loader points the (small) stack at a block it allocated on that heap.
# Needs Debian clang-19 and lld-19: apt-get install -y clang-19 lld-19
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang-19}
LD="$(command -v wasm-ld-19 || command -v wasm-ld)"
"$CC" --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--initial-memory=131072 -Wl,-z,stack-size=16384 \
  -Wl,--export=__stack_pointer -fuse-ld="$LD" \
  -o "$here/src/kernels/wasm/heap-kernels.wasm" "$here/csrc/batchnorm.c" "$here/csrc/maxpool.c" "$here/csrc/eltwise.c" "$here/csrc/colsum.c"
ls -l "$here/src/kernels/wasm/heap-kernels.wasm"
