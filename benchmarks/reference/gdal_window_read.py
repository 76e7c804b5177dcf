"""GDAL reference for the GeoTIFF window-read bench (packages/core/bench/io.bench.ts).

Usage: /usr/bin/python3 gdal_window_read.py PATH WINDOWS_JSON CACHE_MIB
  WINDOWS_JSON  a file holding [[x, y, width, height], ...], the same windows our reader reads
  CACHE_MIB     GDAL's block cache (gdal.SetCacheMax); the bench passes a small one, since our reader keeps no
                decoded-tile cache and a large cache would turn repeated tiles of random windows into memory copies
Reads every window, all bands, in the file's own sample type (Dataset.ReadAsArray -> uint16 [bands, h, w]), one
thread (GDAL_NUM_THREADS unset), in this process. Prints one JSON line: {"windows", "seconds", "windows_per_s",
"mb_per_s" (decoded bytes), "checksum" (sum of all samples read, to compare with ours), "rss_after_open_mib",
"peak_rss_mib"}.
"""
import json
import resource
import sys
import time

import numpy as np
from osgeo import gdal

gdal.UseExceptions()


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    path, windows_file, cache_mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(windows_file) as f:
        windows = json.load(f)
    gdal.SetCacheMax(cache_mib * 2**20)
    ds = gdal.Open(path, gdal.GA_ReadOnly)
    after_open = rss_mib()
    checksum = 0
    nbytes = 0
    t0 = time.perf_counter()
    for x, y, w, h in windows:
        a = ds.ReadAsArray(x, y, w, h)
        checksum += int(a.sum(dtype=np.uint64))
        nbytes += a.nbytes
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "windows": len(windows),
        "seconds": seconds,
        "windows_per_s": len(windows) / seconds,
        "mb_per_s": nbytes / 1e6 / seconds,
        "checksum": checksum,
        "rss_after_open_mib": after_open,
        "peak_rss_mib": rss_mib(),
    }))


if __name__ == "__main__":
    main()
