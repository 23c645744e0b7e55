"""cnnlab: watch a convolutional neural network compute (public names are added as modules land)."""
