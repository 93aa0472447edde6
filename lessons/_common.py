"""What every lesson shares: the ``--quick`` switch, the output folder, and ``check``.

A lesson starts with ``QUICK, OUT = setup("00_autograd")``: ``QUICK`` is True under
``--quick`` (tiny training, finishes in seconds), ``OUT`` is the folder its PNG figures go to,
``lessons/output/00_autograd/`` unless ``--out DIR`` or $MINIGAN_LESSONS_OUT names another
parent folder.
"""
import argparse
import os
import sys

import numpy as np

LESSONS = os.path.dirname(os.path.abspath(__file__))
# `python lessons/NN_topic.py` puts lessons/ first on sys.path, not the repository root:
# adding the root lets a plain checkout run the lessons without `pip install -e .`.
if os.path.dirname(LESSONS) not in sys.path:
    sys.path.insert(1, os.path.dirname(LESSONS))


def setup(topic):
    """Parse ``--quick`` and ``--out``; return ``(quick, output_dir)`` (the folder exists)."""
    parser = argparse.ArgumentParser(description=f"minigan lesson {topic}")
    parser.add_argument("--quick", action="store_true",
                        help="tiny training runs, so the lesson finishes in seconds")
    parser.add_argument("--out", default=os.environ.get("MINIGAN_LESSONS_OUT"),
                        help="parent folder of the figures (default lessons/output)")
    # parse_known_args: a Jupyter kernel passes its own arguments (-f kernel.json)
    args, _ = parser.parse_known_args()
    # The lessons' training loops are hand-written, so they ask for what minigan.train does:
    # freed step temporaries stay in the process instead of being faulted in afresh.
    from minigan.memory import keep_freed_memory
    keep_freed_memory()
    out = os.path.join(args.out or os.path.join(LESSONS, "output"), topic)
    os.makedirs(out, exist_ok=True)
    return args.quick, out


def check(name, value, expected, tol):
    """Print ``name: value vs expected`` and assert that they agree within ``tol`` (absolute,
    elementwise for arrays)."""
    value, expected = np.asarray(value, dtype=float), np.asarray(expected, dtype=float)
    error = float(np.max(np.abs(value - expected), initial=0.0))
    shown = (lambda a: f"{a.item():.6g}" if a.size == 1 else f"array{a.shape}")
    print(f"check {name}: {shown(value)} vs expected {shown(expected)} "
          f"(|error| {error:.2e} <= {tol:g})")
    assert error <= tol, f"{name}: {value} differs from {expected} by {error:.3g} > {tol:g}"


def train_steps(gan, loader, steps):
    """``steps`` calls of ``gan.step`` on the loader's batches (dicts of Tensors: "x", and
    "y" for labelled data), epoch after epoch; returns the list of their loss dicts."""
    return [gan.step(batch) for batch in loader.batches(steps)]
