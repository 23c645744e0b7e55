"""ipywidgets explorers built on :mod:`cnnlab.viz`: controls wired to the engine and a picture."""
