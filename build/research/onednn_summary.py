#!/usr/bin/python3
"""Summarises oneDNN's verbose log: which kernel (implementation) ran each primitive, how often, and for how long.

Issue 9 asks why bfloat16 is slower than float32 on some AVX-512 Intel parts. oneDNN names the kernel it picks for every
convolution, deconvolution, reorder and matmul when ONEDNN_VERBOSE=1 is set; a bf16 run that shows `ref:` kernels, or
far more `reorder` time than the fp32 run, has found the cause. Time that is not in oneDNN (GroupNorm, BatchNorm, GELU,
adds, casts) is the wall time minus the oneDNN total; pass the wall seconds to see it.

Usage (run each precision separately, on the machine being investigated):
  ONEDNN_VERBOSE=1 dotnet src/DiffusionKit.Cli/bin/Release/net10.0/DiffusionKit.Cli.dll bench --skip-train --skip-peak \
      --sample-images 16 --sample-steps 25 --precision bf16 > bf16.log
  /usr/bin/python3 build/research/onednn_summary.py bf16.log fp32.log

The `sample:` line of the bench output gives the wall time, which the script reads from the same log when present.
Hand-written: a log summary of a few lines, with no library for oneDNN's verbose format.
"""
import collections
import re
import sys


def summarise(path):
    kernels = collections.defaultdict(lambda: [0, 0.0])
    isa, wall = None, None
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("onednn_verbose") and ",info,cpu,isa:" in line:
            isa = line.strip().split("isa:", 1)[1]
        elif line.startswith("onednn_verbose,v1,primitive,exec"):
            fields = line.strip().split(",")
            kind, implementation, milliseconds = fields[5], fields[6], float(fields[-1])
            kernels[(kind, implementation)][0] += 1
            kernels[(kind, implementation)][1] += milliseconds
        else:
            match = re.search(r"^sample: .* in ([0-9.]+) s", line)
            if match:
                wall = float(match.group(1))

    total = sum(v[1] for v in kernels.values())
    print(f"{path}: {isa or 'ISA not logged'}")
    print(f"  oneDNN total {total:.1f} ms" + (f" of {wall * 1000:.0f} ms wall ({100 * total / (wall * 1000):.0f}%; "
                                              f"{wall * 1000 - total:.0f} ms outside oneDNN)" if wall else ""))
    for (kind, implementation), (count, milliseconds) in sorted(kernels.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:14s} {implementation:60s} calls {count:6d}  {milliseconds:8.1f} ms  {100 * milliseconds / max(total, 1e-9):5.1f}%")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for log in sys.argv[1:]:
        summarise(log)
