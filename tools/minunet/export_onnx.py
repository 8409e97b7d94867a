"""Write train.py's weights as an ONNX graph (NCHW, float32) for onnxruntime.

    python export_onnx.py --weights minunet.npz \
        --out ../../src/scomm/biometrics/models/minunet-v1.onnx

Input "image": 1 x 1 x H x W, the standardised 500 ppi image, H and W multiples of 8.
Output "cells": 1 x 6 x H/4 x W/4 raw values (score logit, dx and dy logits, cos, sin, type
logit), decoded by scomm.biometrics.extract_minunet.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from net import DECODER, ENCODER, HEAD
from onnx import TensorProto, helper, numpy_helper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    weights = np.load(args.weights)
    nodes, inits = [], []

    def conv(name: str, x: str, k: int, stride: int, dilation: int, relu: bool) -> str:
        w = np.transpose(weights[f"{name}.w"], (3, 2, 0, 1)).astype(np.float32)  # HWIO -> OIHW
        inits.append(numpy_helper.from_array(w, f"{name}.w"))
        inits.append(numpy_helper.from_array(weights[f"{name}.b"].astype(np.float32), f"{name}.b"))
        pad = dilation * (k - 1) // 2
        out = f"{name}.out"
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{name}.w", f"{name}.b"],
                [out],
                name=name,
                kernel_shape=[k, k],
                strides=[stride, stride],
                dilations=[dilation, dilation],
                pads=[pad] * 4,
            )
        )
        if not relu:
            return out
        nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"], name=f"{name}.relu"))
        return f"{name}.relu"

    x, skip = "image", ""
    for name, k, _ci, _co, s, d in ENCODER:
        x = conv(name, x, k, s, d, True)
        if name == "c2":
            skip = x
    inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "up.scales"))
    nodes.append(
        helper.make_node(
            "Resize",
            [x, "", "up.scales"],
            ["up"],
            name="up",
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
    )
    nodes.append(helper.make_node("Concat", ["up", skip], ["joined"], name="join", axis=1))
    x = "joined"
    for name, k, _ci, _co, s, d in DECODER:
        x = conv(name, x, k, s, d, True)
    name, k, _ci, _co, s, d = HEAD
    x = conv(name, x, k, s, d, False)
    nodes.append(helper.make_node("Identity", [x], ["cells"], name="cells"))
    graph = helper.make_graph(
        nodes,
        "minunet",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, "H", "W"])],
        [helper.make_tensor_value_info("cells", TensorProto.FLOAT, [1, 6, "h", "w"])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="scomm tools/minunet"
    )
    model.ir_version = 8
    model.doc_string = f"minunet, {int(weights['steps'])} training steps (tools/minunet)"
    onnx.checker.check_model(model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
