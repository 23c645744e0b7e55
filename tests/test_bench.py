"""``cnnlab bench`` runs both engines and prints a well-formed table (no timing assertions)."""
import re

import pytest

from cnnlab import bench

ROW = (r"^{net}\s+{batch}\s+(\d)\s+(float32|float64)\s+(train|infer)\s+([\d,]+)\s+([\d,]+)"
       r"\s+([\d.]+)x\s+([\d.]+)x \(([\d.]+)-([\d.]+)\)\s+([\d.]+)-([\d.]+)$")


@pytest.mark.torch
def test_quick_benchmark_prints_every_row_with_rates_ratios_and_load(capsys):
    assert bench.main(["--quick", "--networks", "lenet5", "--dtypes", "float32",
                       "float64"]) == 0
    out = capsys.readouterr().out
    assert "too short" in out and "load at start" in out
    rows = re.findall(ROW.format(net="lenet5", batch=64), out, re.M)
    assert [(r[1], r[2]) for r in rows] == [("float32", "train"), ("float32", "infer"),
                                            ("float64", "train"), ("float64", "infer")]
    for _, _, _, ours, theirs, ratio, paired, lo, hi, *_ in rows:
        ours, theirs = float(ours.replace(",", "")), float(theirs.replace(",", ""))
        assert ours > 0 and theirs > 0
        # the rates are printed rounded to whole images/s and the ratio to 2 decimals
        rounding = ours / theirs * (0.5 / ours + 0.5 / theirs) + 0.005
        assert float(ratio) == pytest.approx(ours / theirs, abs=rounding + 1e-9)
        assert float(lo) <= float(paired) <= float(hi)


def test_measure_pairs_rounds_and_alternates_the_order(monkeypatch):
    calls = []

    def fake_runner(engine):
        def make(which, batch, dtype, rng):
            return (lambda: calls.append((engine, "train")),
                    lambda: calls.append((engine, "infer")))
        return make
    monkeypatch.setattr(bench, "_cnnlab_runner", fake_runner("cnnlab"))
    monkeypatch.setattr(bench, "_torch_runner", fake_runner("pytorch"))
    monkeypatch.setattr(bench, "SETTLE_SECONDS", 0.0)    # one untimed step opens a block
    r = bench.measure("lenet5", rounds=3, steps=4, use_torch=True)
    assert all(len(r[m][e]) == 3 for m in r for e in r[m])
    timed = calls[8:]                   # after 2 warm-up steps per engine and mode
    blocks = [timed[i][0] for i in range(0, len(timed), 5)]
    assert all(timed[i:i + 5] == [timed[i]] * 5 for i in range(0, len(timed), 5))
    # train: cnnlab first, then pytorch first, then cnnlab first; infer the same
    assert blocks == ["cnnlab", "pytorch", "pytorch", "cnnlab", "cnnlab", "pytorch"] * 2


def test_each_block_settles_before_it_is_timed(monkeypatch):
    # untimed steps for at least SETTLE_SECONDS, then exactly `steps` timed ones
    import time
    calls = []

    def step():
        calls.append(time.perf_counter())
        time.sleep(0.002)
    monkeypatch.setattr(bench, "SETTLE_SECONDS", 0.02)
    bench._rate(step, 3, batch=10)
    # the first timed step starts after the settling time (a lower bound: no timing test)
    assert len(calls) >= 4 and calls[-3] - calls[0] >= 0.02


def test_summary_gives_the_median_of_paired_ratios():
    s = bench.summarize({"cnnlab": [100.0, 300.0, 200.0], "pytorch": [100.0, 100.0, 400.0]})
    assert s["cnnlab"] == 200 and s["pytorch"] == 100 and s["ratio"] == 2
    assert s["paired"] == 1.0 and s["paired_range"] == (0.5, 3.0)     # ratios 1, 3, 0.5


def test_defaults_follow_the_measuring_rules():
    a = bench._parser().parse_args([])
    assert a.rounds >= 15 and a.steps >= 10 and a.threads == [1, 2] and a.dtypes == ["float32"]


def test_without_torch_shows_cnnlab_alone(capsys):
    assert bench.main(["--quick", "--no-torch", "--networks", "reference"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^reference\s+128\s+\d\s+float32\s+train\s+[\d,]+\s+[\d.]+-[\d.]+$",
                     out, re.M)
    assert "pytorch" not in out


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        bench.main(["--steps", "0"])


def test_startup_runs_share_the_numba_cache_and_may_write_bytecode(monkeypatch):
    # cold with the helper, cold without it (a cache of its own), then warm from the first
    # run's cache; every run may write Python's bytecode, as an installed package has it
    import subprocess
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    runs = []

    def run(cmd, env, **kw):
        runs.append(env)
        return subprocess.CompletedProcess(cmd, 0, stdout=f"{len(runs) / 10}\n")
    monkeypatch.setattr(bench.subprocess, "run", run)
    assert bench.startup_times("lenet5") == (0.1, 0.2, 0.3)
    assert [env["CNNLAB_COMPILE_HELPER"] for env in runs] == ["1", "0", "1"]
    caches = [env["NUMBA_CACHE_DIR"] for env in runs]
    assert caches[0] == caches[2] != caches[1]
    assert not any("PYTHONDONTWRITEBYTECODE" in env for env in runs)

