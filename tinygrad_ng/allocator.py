"""Keep freed array memory in the process for the next array, instead of handing it back to
the operating system (Linux with glibc; elsewhere nothing changes).

Why: glibc gives every freed block above a threshold (128 KiB, raised by itself up to 32 MiB)
straight back to the kernel, and trims the top of its heap when more than twice that is free.
A training step frees and re-allocates the same activation-sized arrays every time, so each
new one was paid for again in page faults: a fresh 6 MiB array costs about 2 ms of faults for
0.5 ms of arithmetic. Keeping freed memory for reuse (what PyTorch's and most engines'
allocators do) took about a fifth off a CNN training step (``benchmarks/RESULTS.md``, W7/W8).

The price: memory freed by the process stays reserved by it (up to ``TRIM_THRESHOLD`` at the
top of the heap) and is reused for later arrays rather than returned at once. It is switched
on when tinygrad_ng is imported; set the environment variable
``TINYGRAD_NG_KEEP_FREED_MEMORY=0`` before importing, or call
``keep_freed_memory(False)``, to restore glibc's defaults.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Mapping

#: Arrays up to this size come from the reusable heap (glibc's largest allowed setting).
MMAP_THRESHOLD = 32 * 2**20
#: Free memory kept at the top of the heap before glibc returns it to the kernel.
TRIM_THRESHOLD = 512 * 2**20

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_GLIBC_DEFAULT = 128 * 2**10


def _mallopt() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return None


def keep_freed_memory(enable: bool = True) -> bool:
    """Keep (``True``) or return at once (``False``: glibc's defaults) the memory of freed
    arrays; returns whether the setting took effect (``False`` where the C library is not
    glibc, e.g. macOS, Windows or musl)."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    mmap, trim = (MMAP_THRESHOLD, TRIM_THRESHOLD) if enable else (_GLIBC_DEFAULT,) * 2
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(mallopt(_M_TRIM_THRESHOLD, trim))


def _from_environment(environ: Mapping[str, str]) -> None:
    """At import: keep freed memory unless TINYGRAD_NG_KEEP_FREED_MEMORY=0 (then malloc is
    not touched at all)."""
    if environ.get("TINYGRAD_NG_KEEP_FREED_MEMORY", "1") != "0":
        keep_freed_memory(True)


_from_environment(os.environ)
