"""Which array module (NumPy or CuPy) and device an array lives on; RNG; dtype policy.

Every op asks this module for ``xp`` (``get_array_module(x)``) instead of importing
NumPy or CuPy itself, so the same op code runs on both.

Devices are the strings ``"cpu"`` and ``"cuda"``. Asking for ``"cuda"`` without CuPy or
without a visible GPU is an error: minigan never falls back to the CPU silently.

dtype policy: new floating tensors are float32 (what GANs train in, and twice as fast as
float64 on a CPU GEMM). Gradient tests ask for float64 explicitly, because central finite
differences (gradcheck: eps=1e-5) need ~16 significant digits. Ops never mix float32 and float64
inputs: that is an error naming both dtypes, not a silent up-cast.

Randomness: one ``numpy.random.Generator`` (PCG64) seeded by ``manual_seed`` draws every
random number minigan makes (initialisation, noise, dropout masks, shuffling), on the CPU;
arrays for a CUDA tensor are then copied to the GPU. One seed therefore gives the same
numbers on both backends, and the generator's state fits in a checkpoint.
"""
import os

import numpy as np

try:
    import cupy
except ImportError:  # CuPy is optional: only the CUDA device needs it.
    cupy = None

DEVICES = ("cpu", "cuda")
ARRAY_TYPES = (np.ndarray,) if cupy is None else (np.ndarray, cupy.ndarray)
FLOAT_DTYPES = (np.float32, np.float64)

_default_dtype = np.float32


def cuda_available():
    """True when CuPy imports and sees at least one GPU."""
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy without a driver raises CUDARuntimeError here
        return False


def check_device(device):
    """Normalise a device name and make sure it can be used; returns "cpu" or "cuda"."""
    name = str(device).split(":")[0].lower()
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    if name == "cuda":
        if cupy is None:
            raise RuntimeError(
                "device 'cuda' was requested but CuPy is not installed; install it with "
                "`pip install -e .[cuda]` (cupy-cuda12x) or use device='cpu'")
        if not cuda_available():
            raise RuntimeError(
                "device 'cuda' was requested but CuPy finds no CUDA GPU on this machine; "
                "use device='cpu'")
    return name


def default_device():
    """The device new tensors go to: $MINIGAN_DEVICE if set (for the test suite), else cpu."""
    return check_device(os.environ.get("MINIGAN_DEVICE", "cpu"))


def get_array_module(*arrays):
    """The array module (numpy or cupy) of the given arrays; numpy for plain Python values."""
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def device_of(array):
    """"cuda" for a CuPy array, "cpu" for everything else."""
    return "cuda" if cupy is not None and isinstance(array, cupy.ndarray) else "cpu"


def to_device(array, device):
    """Copy an array to ``device`` (no copy when it is already there)."""
    device = check_device(device)
    if device == "cuda":
        return cupy.asarray(array)
    if device_of(array) == "cuda":
        return cupy.asnumpy(array)
    return np.asarray(array)


def to_numpy(array):
    """The array as a NumPy array on the host."""
    return to_device(array, "cpu")


# ==================== dtypes ====================

def get_default_dtype():
    return _default_dtype


def set_default_dtype(dtype):
    """Set the dtype of new floating tensors: float32 (default) or float64."""
    global _default_dtype
    dtype = np.dtype(dtype).type
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"default dtype must be float32 or float64, found {np.dtype(dtype)}")
    _default_dtype = dtype


# ==================== random numbers ====================

_generator = np.random.Generator(np.random.PCG64(0))


def manual_seed(seed):
    """Seed every random number minigan draws, on every device."""
    global _generator
    _generator = np.random.Generator(np.random.PCG64(int(seed)))


def generator():
    """The global ``numpy.random.Generator``."""
    return _generator


def get_rng_state():
    """The generator's state as a dict of strings and ints (fits in an .npz checkpoint)."""
    state = _generator.bit_generator.state
    return {"state": str(state["state"]["state"]), "inc": str(state["state"]["inc"]),
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}


def set_rng_state(saved):
    """Restore a state returned by ``get_rng_state``."""
    _generator.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
        "has_uint32": int(saved["has_uint32"]), "uinteger": int(saved["uinteger"])}
