"""minigan.memory: freed arrays are reused instead of being faulted in again."""
import platform
import subprocess
import sys

from minigan import memory

# Allocate and free 4 × 8 MiB of written arrays, round after round; print the minor page
# faults of one round once the pattern is warm. Run in a fresh process: the malloc
# settings are process-wide and cannot be undone.
ROUNDS = """
import resource, sys
import numpy as np
from minigan import memory
if sys.argv[1] == "keep":
    assert memory.keep_freed_memory()
def one_round():
    arrays = [np.ones(2 << 20, np.float32) for _ in range(4)]
    del arrays
for _ in range(3):
    one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    one_round()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def faults_per_round(mode):
    result = subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True,
                            text=True, check=True)
    return float(result.stdout)


def test_keep_freed_memory_applies_on_glibc_only_and_once():
    glibc = platform.libc_ver()[0] == "glibc"
    assert memory.keep_freed_memory() is glibc
    assert memory.keep_freed_memory() is glibc     # idempotent


def test_freed_arrays_are_reused_without_page_faults():
    if platform.libc_ver()[0] != "glibc":
        assert memory.keep_freed_memory() is False  # other allocators are left alone
        return
    pages_per_round = 4 * (8 << 20) // 4096
    # glibc's defaults hand part of the freed 32 MiB back to the kernel every round ...
    assert faults_per_round("default") > 0.1 * pages_per_round
    # ... keep_freed_memory keeps it: the next round reuses it, no new pages
    assert faults_per_round("keep") < 0.01 * pages_per_round


def test_training_keeps_freed_memory(monkeypatch, tmp_path):
    from minigan.data import DataLoader, load_dataset
    from minigan.models.vanilla import Vanilla
    from minigan.train import train

    calls = []
    monkeypatch.setattr(memory, "keep_freed_memory", lambda: calls.append("kept"))
    loader = DataLoader(load_dataset("ring8:64"), batch_size=32, seed=0)
    train(Vanilla((2,)), loader, str(tmp_path), steps=1, progress=False)
    assert calls == ["kept"]
