"""Hand-made expected values shared by several test modules; no PyTorch here, so the tests
that only use these numbers run (and fail) whether or not the oracle is installed."""
import numpy as np

# ---- the reference document's example: [[3,1,4],[1,5,9],[2,6,5]] padded by 2 everywhere ----
MAGIC = np.array([[3, 1, 4], [1, 5, 9], [2, 6, 5]], dtype=float)
EXPECTED = {
    0: [[0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 3, 1, 4, 0, 0],
        [0, 0, 1, 5, 9, 0, 0],
        [0, 0, 2, 6, 5, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0]],
    "symmetric-include-edge": [[5, 1, 1, 5, 9, 9, 5],
                               [1, 3, 3, 1, 4, 4, 1],
                               [1, 3, 3, 1, 4, 4, 1],
                               [5, 1, 1, 5, 9, 9, 5],
                               [6, 2, 2, 6, 5, 5, 6],
                               [6, 2, 2, 6, 5, 5, 6],
                               [5, 1, 1, 5, 9, 9, 5]],
    "symmetric-exclude-edge": [[5, 6, 2, 6, 5, 6, 2],
                               [9, 5, 1, 5, 9, 5, 1],
                               [4, 1, 3, 1, 4, 1, 3],
                               [9, 5, 1, 5, 9, 5, 1],
                               [5, 6, 2, 6, 5, 6, 2],
                               [9, 5, 1, 5, 9, 5, 1],
                               [4, 1, 3, 1, 4, 1, 3]],
    "replicate": [[3, 3, 3, 1, 4, 4, 4],
                  [3, 3, 3, 1, 4, 4, 4],
                  [3, 3, 3, 1, 4, 4, 4],
                  [1, 1, 1, 5, 9, 9, 9],
                  [2, 2, 2, 6, 5, 5, 5],
                  [2, 2, 2, 6, 5, 5, 5],
                  [2, 2, 2, 6, 5, 5, 5]],
}
