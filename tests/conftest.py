"""Test configuration: a deterministic hypothesis profile for CI and a long one for fuzzing, and
the ``torch`` mark: a test that calls the PyTorch oracle is skipped without torch — or fails,
with CNNLAB_REQUIRE_TORCH=1 (.ci/run) — while the rest of its file runs."""
import os

from hypothesis import HealthCheck, settings

from tests.torch_oracle import require_torch

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", derandomize=False, deadline=None, max_examples=10_000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    config.addinivalue_line("markers", "torch: compares against the PyTorch oracle "
                                       "(skipped without torch; CNNLAB_REQUIRE_TORCH=1 fails)")


def pytest_runtest_setup(item):
    if item.get_closest_marker("torch") is not None:
        require_torch()
