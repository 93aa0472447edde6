"""Would batch norm's memory-bound passes run faster split over both cores? (issue 22)

The non-GEMM part of a DCGAN iteration is NumPy passes over whole arrays on one core
while BLAS uses two. Batch norm is independent per channel, and a convolution's output is
channel-outermost in memory, so its passes split into two contiguous halves of channels
with nothing to combine: the cheapest possible test of the idea. This times batch norm's
forward passes (sum, centre, variance, scale, ReLU) on the DCGAN's largest activation, G3's
(C, H·W·N) = (64, 13·13·128) float32, on one thread and split by channel over two Python
threads (NumPy releases the GIL inside each pass), with the BLAS library (its matrix-vector
sum) on one thread and on its default, and once more right after a 512² GEMM, as in a
training step, where OpenBLAS's own threads have just finished spinning.

    python benchmarks/split_passes.py [--repeats 200]
"""
import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

CHANNELS, COLUMNS = 64, 13 * 13 * 128


def batch_norm_passes(x, out, ones, rows):
    """Batch norm's forward, then ReLU, for the channels ``rows`` of x (C, columns)."""
    xs, ys = x[rows], out[rows]
    mean = (xs @ ones) / xs.shape[1]
    np.subtract(xs, mean[:, None], out=ys)
    variance = np.einsum("ij,ij->i", ys, ys) / xs.shape[1]
    ys *= (1 / np.sqrt(variance + 1e-5))[:, None]
    np.maximum(ys, 0, out=ys)


def median_ms(run, repeats, before=None):
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((CHANNELS, COLUMNS), dtype=np.float32)
    out, ones = np.empty_like(x), np.ones(COLUMNS, np.float32)
    square = rng.standard_normal((512, 512), dtype=np.float32)
    pool = ThreadPoolExecutor(2)
    halves = (slice(0, CHANNELS // 2), slice(CHANNELS // 2, CHANNELS))

    def one_thread():
        batch_norm_passes(x, out, ones, slice(None))

    def two_threads():
        for job in [pool.submit(batch_norm_passes, x, out, ones, rows) for rows in halves]:
            job.result()

    print(f"batch norm + ReLU forward on ({CHANNELS}, {COLUMNS}) float32, median of "
          f"{args.repeats}, ms")
    print(f"{'BLAS threads':<14}{'before':<12}{'1 thread':>10}{'2 threads':>11}{'speed-up':>10}")
    for blas in (1, None):
        with threadpool_limits(blas, user_api="blas"):
            for label, before in (("nothing", None), ("a GEMM", lambda: square @ square)):
                one, two = (median_ms(run, args.repeats, before)
                            for run in (one_thread, two_threads))
                print(f"{blas or 'default':<14}{label:<12}{one:>10.3f}{two:>11.3f}"
                      f"{one / two:>9.2f}x")
    pool.shutdown()


if __name__ == "__main__":
    main()
