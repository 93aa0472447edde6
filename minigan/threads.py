"""How many BLAS threads a training run uses: every CPU while they are idle, fewer while
other processes compete for them.

OpenBLAS, NumPy's BLAS, splits each matrix product over as many threads as there are
CPUs, and its threads wait for each other by spinning. On an idle machine that default
is what minigan's speed figures were measured with (the README's DCGAN at 64-75 ms per
step on 2 cores); but while other processes keep the CPUs busy, a thread that the kernel
has descheduled holds up every product, and on the shared 2-core VM of BENCHMARKS.md
("BLAS threads on a busy machine") a step took 5-70 times as long on 2 threads as on 1.
So ``training_threads`` (the training loop's policy):

  * starts with the threads the BLAS library has (its default, every CPU, or what
    OPENBLAS_NUM_THREADS / OMP_NUM_THREADS said before NumPy was imported);
  * after ``FIRST_CHECK`` seconds of training, and every ``RECHECK`` seconds after that,
    or at once when the steps get more than ``SLOWDOWN`` times slower than the best the
    run has seen at its thread count, times a probe, ``CALLS`` matrix products of
    ``PROBE`` in a row (a step is many products, and the stalls come per product: one
    big product hides them), at each candidate count (1, then all threads, half, ...)
    and moves to the fastest when it is at least ``MARGIN`` times faster than the count
    in use, ``MARGIN_UP`` times when that means more threads (too many threads cost
    5-70x, too few at most the share of the CPUs left idle; and on an idle machine more
    threads run the probe faster, so the margins keep it where it started); a candidate
    is given up as soon as it is ``MARGIN`` times slower than the best so far, so a probe
    costs 0.1-0.2 s even on a saturated 2-core machine, once a minute;
  * when the probe does not decide but other processes crowd the run's threads (since the
    last check they used more CPUs than the threads leave idle, by ``OTHERS`` or more;
    Linux, from /proc/stat), or the steps got ``SLOWDOWN`` times slower and the probe has
    fewer threads about as fast (within ``TRIAL``) as the count in use, tries fewer
    threads on the training steps themselves for one window, keeps them if those steps are
    ``MARGIN`` times faster than the last window before, else goes back (and tries again
    at a later check while the crowd stays). The probe's few products miss the stalls:
    beside one busy process on 2 cores it timed 2 threads as fast as 1 or faster while the
    README's DCGAN step took 150-240 ms on 2 threads and 70-90 ms on 1 (BENCHMARKS.md,
    "The first command"; ``benchmarks/thread_probe.py`` prints what the probe sees). Nor
    does the probe's word move the run up to more threads that other processes would crowd
    (a lucky probe would bring the stalls back until the next trial). On an idle machine
    nothing crowds the threads and more threads run the probe clearly faster (1.7x on 2
    cores), so no trial starts there;
  * restores the library's own setting when the run ends.

Threads are set through threadpoolctl, which changes a loaded BLAS library's setting at
run time (setting OPENBLAS_NUM_THREADS after NumPy is imported does nothing). The
probe is separate from training; only a trial runs training steps on another thread
count, and only while other processes compete or the steps slowed down.

Reproducibility: a matrix product split over another number of threads rounds
differently, so runs are bit-for-bit reproducible (and a resumed run identical to an
uninterrupted one) as long as the thread count stays the same: always on an idle
machine, where it never changes (not even for a trial), and always with a fixed count
(``--threads N``, ``train(..., threads=N)``). Runs shorter than ``FIRST_CHECK`` seconds
are never probed.
"""
import contextlib
import os
import statistics
import time

import numpy as np
from threadpoolctl import ThreadpoolController

FIRST_CHECK = 5.0    # seconds of training before the first probe
RECHECK = 60.0       # seconds between probes
SLOWDOWN = 2.0       # a window of steps this much slower than the best: probe now
MARGIN = 1.3         # how much faster fewer threads must be to move to them
MARGIN_UP = 1.5      # how much faster more threads must be to move to them
TRIAL = 1.1          # fewer threads are tried on slow steps if the probe has them this close
OTHERS = 0.5         # CPUs other processes use beyond those our threads leave idle: crowded
WINDOW = 20          # steps per window of step times, ...
WINDOW_SECONDS = 2.0  # ... or fewer (3 at least) when they take this long
PROBE = (256, 256, 256)  # the products timed: (M, K) @ (K, N) in float32, ...
CALLS = 20               # ... this many in a row
REPEATS = 3              # the best of: a preempted repeat does not decide


def usable_cpus():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def blas_threads(controller=None):
    """The thread count of the loaded BLAS libraries (the largest, if several), or None
    when NumPy's BLAS is not one threadpoolctl knows."""
    info = (controller or ThreadpoolController()).select(user_api="blas").info()
    return max((lib["num_threads"] for lib in info), default=None)


def other_cpu_seconds():
    """CPU seconds every other process has used since boot: the machine's busy time in
    /proc/stat (every state but idle and I/O wait; guest time is counted in user time
    already) less this process's own (``os.times``, all its threads). None where there
    is no /proc/stat (macOS, Windows): the policy then decides by the probe alone."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # ticks: user nice system idle iowait irq softirq steal (guest guest_nice)
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK") - (own.user + own.system)


def probe_operands():
    """The probe's factors, (M, K) and (K, N) float32 for ``PROBE`` = (M, K, N), drawn
    from a fixed seed (not minigan's generator: training's stream stays untouched)."""
    rng = np.random.default_rng(0)
    m, k, n = PROBE
    return (rng.standard_normal((m, k), dtype=np.float32),
            rng.standard_normal((k, n), dtype=np.float32))


def check_threads(threads):
    """``threads`` if it is "auto" or an int >= 1, else a ValueError."""
    if threads == "auto" or (type(threads) is int and threads >= 1):
        return threads
    raise ValueError(f"threads must be 'auto' or an int >= 1, found {threads!r}")


class Policy:
    """The thread count of one training run; ``observe(seconds)`` after every step.

    threads: "auto" (the adaptive policy of the module docstring) or a fixed count;
    report: called with a one-line message when the count changes.
    ``changes`` lists (step seconds seen so far, old count, new count)."""

    def __init__(self, threads="auto", report=None, clock=time.perf_counter):
        self.controller = ThreadpoolController()
        self.original = blas_threads(self.controller)
        self.report, self.clock = report, clock
        self.changes = []
        self.fixed = threads != "auto"
        self.current = self.original
        if self.original is None:  # no BLAS threadpoolctl can set: nothing to do
            self.fixed, self.most = True, None
            return
        self.most = min(self.original, usable_cpus())
        if self.fixed:
            self._set(threads)
        self.started = self.last_check = clock()
        self.window, self.best = [], {}
        self.last_median = None  # of the last window of steps at the count in use
        self.trial = None  # (count before, its last window's median) while fewer are tried
        self.others = (self.started, other_cpu_seconds())
        self.probe_inputs = None

    # ---- the policy ----
    def candidates(self):
        """All threads, half of them, a quarter, ..., 1."""
        counts, n = [], self.most
        while n > 1:
            counts.append(n)
            n //= 2
        return counts + [1]

    def observe(self, seconds):
        """Record one step's time; probe when it is time to, or when steps got slow."""
        if self.fixed or self.most <= 1:
            return
        self.window.append(seconds)
        slow = False
        if len(self.window) >= WINDOW or (len(self.window) >= 3
                                          and sum(self.window) >= WINDOW_SECONDS):
            median = statistics.median(self.window)
            self.window = []
            best = self.best.get(self.current)
            self.best[self.current] = median if best is None else min(best, median)
            if self.trial is not None:
                self._end_trial(median)
                return
            self.last_median = median
            slow = best is not None and median > SLOWDOWN * best
        now = self.clock()
        if now - self.started < FIRST_CHECK or self.trial is not None:  # a trial decides first
            return
        if slow or now - self.last_check >= (FIRST_CHECK if self.last_check == self.started
                                             else RECHECK):
            self.last_check = now
            self.check(slow)

    def other_cpus(self):
        """How many CPUs other processes used on average since the last call (None where
        that cannot be known)."""
        now, seconds = self.clock(), other_cpu_seconds()
        (then, before), self.others = self.others, (now, seconds)
        if seconds is None or before is None or now <= then:
            return None
        return (seconds - before) / (now - then)

    def check(self, slow=False):
        """Time the probe at every candidate count (1 first: on busy CPUs it is the quick
        one); move to the fastest when it beats the count in use by ``MARGIN`` (by
        ``MARGIN_UP`` for more threads, and only if other processes would not crowd
        them). Else start a trial of fewer threads on the training steps when other
        processes crowd the count in use, or when the steps got ``slow`` and the probe
        has fewer threads within ``TRIAL`` of it. Returns {count: seconds} (a count given
        up on: the seconds it had taken by then)."""
        others = self.other_cpus()

        def crowded(count):  # other processes want more CPUs than ``count`` threads leave
            return others is not None and others >= self.most - count + OTHERS
        times = {}
        for count in [1] + [n for n in self.candidates() if n != 1]:
            times[count] = self.probe(count, MARGIN * min(times.values(), default=np.inf))
        self._set(self.current)  # the probe left the last candidate set
        fastest = min(times, key=times.get)
        up = fastest > self.current
        margin = MARGIN_UP if up else MARGIN
        if (fastest != self.current and times[fastest] * margin <= times[self.current]
                and not (up and crowded(fastest))):
            old = self.current
            self._set(fastest)
            self.window, self.last_median = [], None
            self.changes.append((old, fastest))
            if self.report:
                why = ("other processes are using the CPUs" if fastest < old
                       else "the CPUs are free again")
                self.report(f"BLAS threads {old} -> {fastest}: {why} ({CALLS} products "
                            f"{PROBE[0]}x{PROBE[1]} @ {PROBE[1]}x{PROBE[2]}: "
                            + ", ".join(f"{1e3 * t:.1f} ms on {n}" for n, t in times.items())
                            + ")")
        elif self.last_median is not None:
            fewer = [n for n in times if n < self.current
                     and (crowded(self.current)
                          or (slow and times[n] <= TRIAL * times[self.current]))]
            if fewer:
                self.trial = (self.current, self.last_median)
                self._set(min(fewer, key=times.get))
                self.window = []
        return times

    def _end_trial(self, median):
        """Keep the trial's count if its window of steps (``median`` seconds) beat the last
        window before it by ``MARGIN``, else go back to the count before."""
        before, last = self.trial
        self.trial = None
        if median * MARGIN <= last:
            self.changes.append((before, self.current))
            self.last_median = median
            if self.report:
                self.report(f"BLAS threads {before} -> {self.current}: other processes are "
                            f"using the CPUs (training steps {1e3 * last:.1f} ms on "
                            f"{before}, {1e3 * median:.1f} ms on {self.current})")
        else:
            self._set(before)

    def probe(self, count, budget=np.inf):
        """Seconds of ``CALLS`` probe products in a row on ``count`` threads (the best of
        ``REPEATS``), or the seconds taken when they passed ``budget``."""
        if self.probe_inputs is None:
            self.probe_inputs = probe_operands()
        a, b = self.probe_inputs
        self._set(count, remember=False)
        a @ b  # wake the threads
        best = np.inf
        for _ in range(REPEATS):
            start = time.perf_counter()
            for _ in range(CALLS):
                a @ b
                if time.perf_counter() - start > budget:
                    break
            best = min(best, time.perf_counter() - start)
            if best > budget:
                break
        return best

    def _set(self, count, remember=True):
        self.controller.limit(limits=count, user_api="blas")
        if remember:
            self.current = count

    def restore(self):
        """Give the BLAS library back its own thread count."""
        if self.original is not None:
            self.controller.limit(limits=self.original, user_api="blas")


@contextlib.contextmanager
def training_threads(threads="auto", report=None):
    """The block runs under a ``Policy`` (yielded); the BLAS library's own thread count
    is restored after it."""
    policy = Policy(check_threads(threads), report)
    try:
        yield policy
    finally:
        policy.restore()
