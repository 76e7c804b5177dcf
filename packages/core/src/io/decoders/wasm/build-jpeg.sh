#!/bin/sh
# Builds jpeg.c into jpeg.wasm next to this file (committed: CI has no clang), or into the path given as $1.
# Needs Debian clang-19 and lld-19: apt-get install -y clang-19 lld-19
set -eu
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang-19}
"$CC" --target=wasm32 -O3 -msimd128 -mnontrapping-fptoint -msign-ext -nostdlib -ffreestanding -fno-builtin \
  -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base \
  -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576 \
  -fuse-ld="$(command -v wasm-ld-19 || command -v wasm-ld)" \
  -o "${1:-$here/jpeg.wasm}" "$here/jpeg.c"
ls -l "${1:-$here/jpeg.wasm}"
