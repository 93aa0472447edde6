"""Host memory: keep the memory a training step frees for the next step to reuse.

A training step allocates and frees tens of megabytes of NumPy temporaries (im2col
columns, GEMM outputs, activations and their gradients), step after step. By default
glibc's malloc serves large blocks with ``mmap`` and gives freed memory at the top of its
heap back to the kernel, so each step's arrays land on fresh pages that the kernel must
fault in and zero again: in the notes' MNIST DCGAN at batch 128 that is 2,700–8,500 page
faults and up to 19 ms of system time per 70–80 ms step (`benchmarks/page_faults.py`).
``keep_freed_memory`` raises two malloc limits so freed blocks stay in the process and
are reused; the process then holds on to its peak heap instead of shrinking between
steps (the peak itself does not change).

``minigan.train.train`` calls it; call it yourself before a hand-written training loop.
"""
import ctypes
import platform

M_TRIM_THRESHOLD = -1   # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_MAX = 32 << 20   # the largest value glibc accepts on 64-bit systems
TRIM_THRESHOLD = 1 << 30

_applied = None


def keep_freed_memory():
    """Make glibc's malloc keep freed memory for reuse: blocks up to 32 MiB come from the
    heap instead of ``mmap`` (M_MMAP_THRESHOLD), and up to 1 GiB of free memory at the
    heap's top stays in the process (M_TRIM_THRESHOLD). Process-wide; calling it again
    does nothing. Returns True when the limits are set, False where the C library is not
    glibc (macOS, Windows, musl), whose allocator is left as it is.
    """
    global _applied
    if _applied is None:
        _applied = platform.libc_ver()[0] == "glibc" and _mallopt(
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX), (M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied


def _mallopt(*settings):
    libc = ctypes.CDLL(None)    # the C library this process already runs on
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in settings)
