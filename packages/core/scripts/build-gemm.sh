#!/bin/sh
# Builds csrc/gemm.c (GEMM, conv filter and input gradients) and csrc/colsum.c (column sums) into two modules,
# each in two variants (see below),
# (both committed: CI has no clang):
#   src/kernels/wasm/gemm.wasm     its own memory, single-threaded (the default and the fallback);
#   src/kernels/wasm/gemm-mt.wasm  imports a shared memory (atomics, bulk memory) and exports __stack_pointer, so
#                                  that one instance per thread runs on the same memory (src/kernels/wasm/gemm-threads.ts).
# Needs Debian clang-19 and lld-19: apt-get install -y clang-19 lld-19
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang-19}
LD="$(command -v wasm-ld-19 || command -v wasm-ld)"
SRC="$here/csrc/gemm.c $here/csrc/colsum.c"
COMMON="--target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin -Wall -Wextra -Werror
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base -Wl,-z,stack-size=65536 -fuse-ld=$LD"
# Each is also built with relaxed SIMD's fused multiply-add (-fma.wasm): Node 22 validates it, Node 20 after
# --experimental-wasm-relaxed-simd, which gemm.ts sets at run time.
for variant in "" "-fma"; do
  extra=""
  [ "$variant" = "-fma" ] && extra="-mrelaxed-simd -DCMID_FMA"
  # shellcheck disable=SC2086
  "$CC" $COMMON $extra -Wl,--initial-memory=4194304 -o "$here/src/kernels/wasm/gemm$variant.wasm" $SRC
  # 4 GiB maximum: a shared memory must declare one; V8 reserves the address space either way.
  # shellcheck disable=SC2086
  "$CC" $COMMON $extra -matomics -mbulk-memory \
    -Wl,--shared-memory -Wl,--import-memory -Wl,--initial-memory=16777216 -Wl,--max-memory=4294967296 \
    -Wl,--export=__stack_pointer \
    -o "$here/src/kernels/wasm/gemm-mt$variant.wasm" $SRC
done
ls -l "$here"/src/kernels/wasm/gemm*.wasm
