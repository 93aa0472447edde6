"""Every ``>>>`` example in the minigan package runs and prints what its docstring says.

The modules are found by walking the package at collection time, so a module added later
(anywhere under minigan/) is tested without touching this file; one test per module.
"""
import doctest
import importlib
import pkgutil

import pytest

import minigan


def _raise(name):
    raise ImportError(f"cannot import {name} to look for its subpackages")


MODULES = sorted(info.name for info in pkgutil.walk_packages(
    minigan.__path__, "minigan.", onerror=_raise)
    if info.name.rsplit(".", 1)[-1] != "__main__")  # importing it would run the CLI


def _examples(module):
    return [test for test in doctest.DocTestFinder().find(module) if test.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    report = []
    runner = doctest.DocTestRunner()
    for test in _examples(module):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


def test_the_walk_finds_the_package_and_its_examples():
    """Guards against a walk that finds nothing (every test above would pass vacuously)."""
    assert {"minigan.autograd", "minigan.gradcheck", "minigan.functional.conv",
            "minigan.nn.conv", "minigan.metrics"} <= set(MODULES)
    assert len(MODULES) >= 40, MODULES
    modules = [importlib.import_module(name) for name in MODULES]
    examples = sum(len(test.examples) for m in modules for test in _examples(m))
    assert sum(1 for m in modules if _examples(m)) >= 30
    assert examples >= 150, examples
