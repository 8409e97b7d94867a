"""minunet's architecture, shared by the training script (JAX) and the ONNX export.

A small fully-convolutional detector: the 500 ppi grey image, standardised, goes down to a
quarter and an eighth of its resolution and back up to the quarter, where every 4 x 4 cell
says whether a minutia lies in it (score), where in the cell (two offsets), which way it
points (cosine, sine) and whether it is a ridge ending (type). About 0.37 GMAC on a
400 x 400 image; every convolution is followed by a ReLU except the head.

Layers: name, kernel, input channels, output channels, stride, dilation.
"""

from __future__ import annotations

STRIDE = 4  # output cell, px at 500 ppi
MULTIPLE = 8  # the input's sides are padded to a multiple of this
OUTPUTS = ("score", "dx", "dy", "cos", "sin", "type")

ENCODER = (
    ("c1", 5, 1, 16, 2, 1),  # 1/2
    ("c2", 3, 16, 32, 2, 1),  # 1/4, kept for the skip
    ("c3", 3, 32, 48, 2, 1),  # 1/8
    ("c4", 3, 48, 48, 1, 1),
    ("c5", 3, 48, 48, 1, 2),
    ("c6", 3, 48, 48, 1, 1),
)
DECODER = (
    ("d1", 1, 48 + 32, 32, 1, 1),  # after the 2x nearest upsampling, joined with c2
    ("d2", 3, 32, 32, 1, 1),
)
HEAD = ("head", 1, 32, len(OUTPUTS), 1, 1)
LAYERS = (*ENCODER, *DECODER, HEAD)
