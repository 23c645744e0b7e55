"""The widget benchmark runs and measures what it says (no timing is asserted)."""
from cnnlab.bench_widgets import step_benchmark


def test_step_benchmark_moves_the_asked_layer():
    result = step_benchmark(moves=3, input_size=6, filter_size=3)
    # 6×6, 3×3, padding 1, stride 1: (6 + 2 - 3) / 1 + 1 = 6 → 6×6 outputs, 2 filters
    assert result["moves"] == 3 and result["output"] == (6, 6, 2)
    assert result["png_bytes"] > 0
    assert 0 <= result["median_ms"] <= result["p90_ms"] <= result["max_ms"]
