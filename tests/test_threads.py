"""minigan.threads: the BLAS thread policy of training runs (issue 16, item 13).

The decisions are tested with a fake clock and fake probe timings (the machine's real
load must not decide a test); the real thread setting with threadpoolctl."""
import pytest

from minigan import threads
from minigan.data import DataLoader, load_dataset
from minigan.models.vanilla import Vanilla
from minigan.train import train

needs_blas = pytest.mark.skipif(threads.blas_threads() is None,
                                reason="NumPy's BLAS is not one threadpoolctl can set")


class Clock:
    """Fake time; ``others`` CPUs' worth of other processes' work runs meanwhile."""

    def __init__(self):
        self.now, self.others, self.other_seconds = 0.0, 0.0, 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds
        self.other_seconds += self.others * seconds


@pytest.fixture
def policy(monkeypatch):
    """A Policy on a pretend 4-CPU machine whose probe takes ``probe_times[n]`` seconds on
    n threads, where other processes keep ``clock_.others`` CPUs busy (none at first),
    recording the counts it sets instead of setting them."""
    monkeypatch.setattr(threads, "blas_threads", lambda controller=None: 4)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 4)
    set_to, reports, clock = [], [], Clock()
    monkeypatch.setattr(threads, "other_cpu_seconds", lambda: clock.other_seconds)
    monkeypatch.setattr(threads.Policy, "_set",
                        lambda self, n, remember=True: (set_to.append(n),
                                                        remember and setattr(self, "current",
                                                                             n)))
    made = threads.Policy("auto", reports.append, clock)
    made.probe_times = {4: 0.004, 2: 0.006, 1: 0.010}  # an idle machine
    monkeypatch.setattr(threads.Policy, "probe",
                        lambda self, n, budget=None: self.probe_times[n])
    made.set_to, made.reports, made.clock_ = set_to, reports, clock
    return made


def run_steps(policy, count, seconds, every=0.01):
    for _ in range(count):
        policy.clock_.advance(every)
        policy.observe(seconds)


def test_an_idle_machine_keeps_every_thread(policy):
    assert policy.candidates() == [4, 2, 1] and policy.current == 4
    run_steps(policy, 2000, 0.01)  # 20 s: the first check at 5 s, then none before 65 s
    assert policy.current == 4 and policy.changes == [] and policy.reports == []
    assert set(policy.set_to) <= {4}  # a probe may re-set 4, never train on another count


def test_busy_cpus_move_the_run_to_the_fastest_count_and_back(policy):
    policy.probe_times = {4: 0.040, 2: 0.012, 1: 0.009}  # another process on the CPUs
    run_steps(policy, 400, 0.01)  # 4 s: too early to check
    assert policy.changes == []
    run_steps(policy, 110, 0.01)
    assert policy.current == 1 and policy.changes == [(4, 1)]
    assert policy.reports == ["BLAS threads 4 -> 1: other processes are using the CPUs (20 "
                              "products 256x256 @ 256x256: 9.0 ms on 1, 40.0 ms on 4, "
                              "12.0 ms on 2)"]
    policy.probe_times = {4: 0.004, 2: 0.006, 1: 0.010}  # the other process ended
    run_steps(policy, 5900, 0.01)  # 59 s later: not yet
    assert policy.current == 1
    run_steps(policy, 200, 0.01)
    assert policy.current == 4 and policy.changes == [(4, 1), (1, 4)]
    assert policy.reports[-1].startswith("BLAS threads 1 -> 4: the CPUs are free again")


def test_a_count_only_slightly_faster_is_not_worth_a_move(policy):
    policy.probe_times = {4: 0.010, 2: 0.0085, 1: 0.012}  # 1.18x: within the margin
    run_steps(policy, 1000, 0.01)
    assert policy.current == 4 and policy.changes == []
    policy.probe_times = {4: 0.010, 2: 0.0075, 1: 0.012}  # 1.33x: fewer threads, move
    run_steps(policy, 6000, 0.01)
    assert policy.current == 2 and policy.changes == [(4, 2)]
    policy.probe_times = {4: 0.0055, 2: 0.0075, 1: 0.012}  # more threads need 1.5x
    run_steps(policy, 6000, 0.01)
    assert policy.current == 2
    policy.probe_times = {4: 0.0049, 2: 0.0075, 1: 0.012}
    run_steps(policy, 6000, 0.01)
    assert policy.current == 4 and policy.changes == [(4, 2), (2, 4)]


def test_steps_getting_slower_trigger_a_check_at_once(policy):
    run_steps(policy, 600, 0.01)  # checked at 5 s: idle, stays at 4
    policy.probe_times = {4: 0.050, 2: 0.020, 1: 0.010}
    run_steps(policy, 20, 0.025)  # one window 2.5x slower than the best: check now
    assert policy.current == 1 and policy.changes == [(4, 1)]


def test_slow_steps_the_probe_misses_are_tried_on_fewer_threads_and_kept(policy):
    """Beside a busy process the probe's few products may time 1 thread as 4 while the
    training steps stall on 4: the slow steps start a trial on the training steps."""
    run_steps(policy, 600, 0.01)  # checked at 5 s: idle, stays at 4; best window 10 ms
    policy.probe_times = {4: 0.010, 2: 0.0108, 1: 0.0105}  # within TRIAL: no move by probe
    run_steps(policy, 20, 0.025)  # a window 2.5x slower: the probe, then a trial on 1
    assert policy.current == 1 and policy.changes == [] and policy.trial == (4, 0.025)
    run_steps(policy, 20, 0.012)  # 12 ms on 1 against 25 ms on 4: more than MARGIN
    assert policy.current == 1 and policy.changes == [(4, 1)] and policy.trial is None
    assert policy.reports == ["BLAS threads 4 -> 1: other processes are using the CPUs "
                              "(training steps 25.0 ms on 4, 12.0 ms on 1)"]


def test_a_trial_whose_steps_are_not_faster_goes_back(policy):
    run_steps(policy, 600, 0.01)
    policy.probe_times = {4: 0.010, 2: 0.0108, 1: 0.0105}
    run_steps(policy, 20, 0.025)
    assert policy.current == 1
    run_steps(policy, 20, 0.022)  # 22 ms: 1.14x faster than 25, under MARGIN
    assert policy.current == 4 and policy.changes == [] and policy.trial is None
    assert policy.set_to[-2:] == [1, 4] and policy.reports == []


def test_a_run_started_beside_busy_processes_tries_fewer_threads(policy):
    """Started beside a busy process, the steps never slow down (they were slow from the
    first) and the probe favours 4 threads, but /proc/stat shows the other process:
    fewer threads are tried, kept when faster, and the probe's word alone does not take
    the run back up while the other process runs."""
    policy.clock_.others = 1.0
    policy.probe_times = {4: 0.008, 2: 0.010, 1: 0.012}
    run_steps(policy, 167, 0.03, every=0.03)  # 5 s: the first check starts a trial on 2
    assert policy.current == 2 and policy.trial == (4, 0.03) and policy.changes == []
    run_steps(policy, 20, 0.012)
    assert policy.current == 2 and policy.changes == [(4, 2)] and policy.trial is None
    assert policy.reports == ["BLAS threads 4 -> 2: other processes are using the CPUs "
                              "(training steps 30.0 ms on 4, 12.0 ms on 2)"]
    policy.probe_times = {4: 0.0035, 2: 0.006, 1: 0.010}  # a lucky probe: 4 looks 1.7x
    run_steps(policy, 7000, 0.012)  # 70 s, a check: the other process still runs
    assert policy.current == 2 and policy.changes == [(4, 2)]
    policy.clock_.others = 0.0  # it ended
    run_steps(policy, 6100, 0.012)
    assert policy.current == 4 and policy.changes == [(4, 2), (2, 4)]


def test_only_other_processes_that_crowd_the_threads_in_use_start_a_trial(policy):
    """On 4 CPUs, 2 threads leave 2 idle: other processes using 2 of them crowd nothing,
    3 do. And 0.4 CPUs of background work beside 4 threads is no crowd either."""
    policy.clock_.others = 0.4
    policy.probe_times = {4: 0.010, 2: 0.0105, 1: 0.0108}  # the probe cannot tell
    run_steps(policy, 600, 0.01)  # checked at 5 s
    assert policy.current == 4 and set(policy.set_to) <= {4}
    policy.probe_times = {4: 0.010, 2: 0.0075, 1: 0.0078}
    run_steps(policy, 6000, 0.01)  # checked at 65 s: 2 threads 1.33x faster, moved
    assert policy.current == 2 and policy.changes == [(4, 2)]
    policy.clock_.others = 2.0
    run_steps(policy, 6000, 0.01)
    assert policy.current == 2 and 1 not in policy.set_to
    policy.clock_.others = 3.0
    run_steps(policy, 6000, 0.01)  # a check: a trial on 1, whose steps are no faster
    assert policy.set_to[-2:] == [1, 2] and policy.current == 2


def test_no_check_interrupts_a_trial(policy):
    """Steps of 30 s: a trial's window (3 steps) outlasts RECHECK, but the trial decides
    before any other check does."""
    policy.clock_.others = 1.0
    policy.probe_times = {4: 0.008, 2: 0.010, 1: 0.012}
    run_steps(policy, 3, 30.0, every=30.0)  # 90 s: the first window, a check, a trial on 2
    assert policy.current == 2 and policy.trial == (4, 30.0)
    policy.probe_times = {4: 0.030, 2: 0.020, 1: 0.005}  # would move 2 -> 1 if probed
    run_steps(policy, 3, 12.0, every=30.0)  # 180 s: 60 s after the check, inside the trial
    assert policy.changes == [(4, 2)] and policy.current == 2 and policy.trial is None
    run_steps(policy, 1, 12.0, every=30.0)  # the next check comes after the trial
    assert policy.changes == [(4, 2), (2, 1)]


def test_slow_steps_on_an_idle_machine_start_no_trial(policy):
    """A slow window (another job for a moment) while the probe has every thread clearly
    fastest: no step runs on another count, so the run stays reproducible."""
    run_steps(policy, 600, 0.01)
    run_steps(policy, 20, 0.025)
    assert policy.current == 4 and policy.trial is None and set(policy.set_to) <= {4}


def test_slow_steps_make_short_windows(policy):
    """Steps of a second (a big model on busy CPUs) are judged every few steps, not every
    20: a window also ends after 2 s of steps."""
    run_steps(policy, 6, 1.0, every=1.0)  # checked at 5 s: idle, stays at 4
    policy.probe_times = {4: 0.050, 2: 0.020, 1: 0.010}
    run_steps(policy, 3, 2.5, every=2.5)
    assert policy.current == 1 and policy.changes == [(4, 1)]


def test_a_fixed_count_never_probes(policy, monkeypatch):
    fixed = threads.Policy(2, None, policy.clock_)
    fixed.probe = pytest.fail
    policy.clock_.others = 1.0
    for _ in range(3000):
        policy.clock_.advance(0.01)
        fixed.observe(0.01)
    assert fixed.current == 2 and fixed.changes == []
    with pytest.raises(ValueError, match="threads must be 'auto' or an int >= 1, found 0"):
        threads.check_threads(0)


@needs_blas
def test_the_blas_setting_is_changed_for_the_block_and_restored():
    before = threads.blas_threads()
    other = 2 if before == 1 else 1  # a change that shows (the suite may hold BLAS at 1)
    with threads.training_threads(other):
        assert threads.blas_threads() == other
    assert threads.blas_threads() == before
    policy = threads.Policy("auto")
    assert policy.probe(other) > 0 and threads.blas_threads() == other  # a probe sets it
    assert policy.probe(other, budget=0.0) < policy.probe(other)  # given up after one product
    policy.restore()
    assert threads.blas_threads() == before


@needs_blas
def test_train_restores_the_blas_setting(tmp_path):
    before = threads.blas_threads()
    loader = DataLoader(load_dataset("ring8:64"), batch_size=16, seed=0)
    train(Vanilla((2,), latent_dim=4, hidden=8), loader, tmp_path, steps=1,
          threads=2 if before == 1 else 1,
          sample_every=10, progress=False)
    assert threads.blas_threads() == before
    with pytest.raises(ValueError, match="threads must be 'auto' or an int >= 1"):
        train(Vanilla((2,)), loader, tmp_path / "b", steps=1, threads="many")


def test_other_processes_cpu_time_is_the_machines_busy_time_less_ours(monkeypatch):
    """/proc/stat's first line: user nice system idle iowait irq softirq steal guest
    guest_nice, in ticks; guest time is inside user time already, idle and iowait are
    not work."""
    import io
    import os
    import types
    stat = "cpu  100 20 30 1000 50 5 5 10 7 3\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    monkeypatch.setattr(threads, "open", lambda path: io.StringIO(stat), raising=False)
    monkeypatch.setattr(os, "sysconf", lambda name: 100)
    monkeypatch.setattr(os, "times", lambda: types.SimpleNamespace(user=0.4, system=0.1))
    # (100 + 20 + 30 + 5 + 5 + 10) ticks of work = 1.7 s, less this process's 0.5 s
    assert threads.other_cpu_seconds() == pytest.approx(1.2, abs=1e-12)

    def missing(path):
        raise FileNotFoundError(path)
    monkeypatch.setattr(threads, "open", missing, raising=False)
    assert threads.other_cpu_seconds() is None
