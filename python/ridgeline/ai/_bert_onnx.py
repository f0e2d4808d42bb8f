"""Build an ONNX graph of a BERT encoder + mean pooling + L2 normalisation from a safetensors file.

The graph takes ``input_ids`` and ``attention_mask`` (int64, shape (batch, seq)) and returns
``embeddings`` (float32, (batch, hidden)), already pooled and normalised, so one ``run`` call does the
whole sentence-transformers pipeline. Token types are always 0 for single sentences, so the type-0
embedding row is folded into the position table. Plain opset-18 ops only (LayerNormalization, Erf,
MatMul, Softmax); onnxruntime's graph optimiser fuses the attention and GELU patterns itself.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

GRAPH_VERSION = 2  # bump when the graph changes, so cached files are rebuilt
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a safetensors file (header: u64 length + JSON; then raw little-endian data)."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (n,) = struct.unpack("<Q", bytes(raw[:8]))
    header = json.loads(bytes(raw[8 : 8 + n]))
    base = 8 + n
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(raw[base + start : base + end], dtype=dtype).reshape(info["shape"]).copy()
    return out


def build_model(weights: dict[str, np.ndarray], config: dict[str, Any], *, fused: bool = True) -> bytes:
    """The serialised ONNX model (weights embedded). ``fused`` uses onnxruntime's contrib kernels
    (``com.microsoft`` Attention, SkipLayerNormalization, BiasGelu: the same maths, one kernel each);
    without it the graph is plain ONNX (slower on onnxruntime, kept for comparison and other runtimes)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    head_dim = hidden // heads
    if config.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"unsupported activation {config.get('hidden_act')!r}")

    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def w(name: str) -> np.ndarray:
        return weights[name].astype(np.float32)

    def linear(x: str, prefix: str, out: str) -> str:
        wt = const(f"{prefix}.wT", w(f"{prefix}.weight").T)  # torch Linear stores (out, in)
        b = const(f"{prefix}.b", w(f"{prefix}.bias"))
        return node("Add", [node("MatMul", [x, wt], f"{out}_mm"), b], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        g = const(f"{prefix}.g", w(f"{prefix}.weight"))
        b = const(f"{prefix}.b", w(f"{prefix}.bias"))
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=eps)

    def skip_ln(y: str, skip: str, prefix: str, out: str) -> str:
        # LayerNorm(y + bias + skip) in one kernel.
        g = const(f"{prefix}.LayerNorm.g", w(f"{prefix}.LayerNorm.weight"))
        b = const(f"{prefix}.LayerNorm.b", w(f"{prefix}.LayerNorm.bias"))
        bias = const(f"{prefix}.dense.b", w(f"{prefix}.dense.bias"))
        return node("SkipLayerNormalization", [y, skip, g, b, bias], out, domain="com.microsoft", epsilon=eps)

    i64 = lambda name, *v: const(name, np.array(v, dtype=np.int64))  # noqa: E731
    f32 = lambda name, v: const(name, np.array(v, dtype=np.float32))  # noqa: E731
    i64("c_0", 0)
    i64("c_1", 1)
    i64("ax_1", 1)
    f32("f_tiny", 1e-9)
    f32("f_eps_norm", 1e-12)

    # Embeddings: word + (position + type-0), then LayerNorm.
    word = const("word_emb", w("embeddings.word_embeddings.weight"))
    pos_type = const(
        "pos_type_emb",
        w("embeddings.position_embeddings.weight") + w("embeddings.token_type_embeddings.weight")[0],
    )
    seq_shape = node("Shape", ["input_ids"], "ids_shape")
    seq_len = node("Slice", [seq_shape, "c_1", "c_2_end"], "seq_len")
    i64("c_2_end", 2)
    pos = node("Slice", [pos_type, "c_0", seq_len, "c_0"], "pos_slice")
    x = node("Add", [node("Gather", [word, "input_ids"], "tok_emb", axis=0), pos], "emb_sum")
    x = layer_norm(x, "embeddings.LayerNorm", "emb_ln")

    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    if fused:
        # The contrib Attention kernel takes the raw (batch, seq) 0/1 mask.
        mask_i32 = node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)
        for i in range(layers):
            p = f"encoder.layer.{i}"
            qkv_w = np.concatenate(
                [w(f"{p}.attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1
            )
            qkv_b = np.concatenate([w(f"{p}.attention.self.{n}.bias") for n in ("query", "key", "value")])
            attn = node(
                "Attention",
                [x, const(f"l{i}_qkv_w", qkv_w), const(f"l{i}_qkv_b", qkv_b), mask_i32],
                f"l{i}_attn",
                domain="com.microsoft",
                num_heads=heads,
            )
            attn_o = node(
                "MatMul", [attn, const(f"l{i}_ao_w", w(f"{p}.attention.output.dense.weight").T)], f"l{i}_ao"
            )
            x = skip_ln(attn_o, x, f"{p}.attention.output", f"l{i}_ln1")
            ff1 = node(
                "MatMul", [x, const(f"l{i}_ff1_w", w(f"{p}.intermediate.dense.weight").T)], f"l{i}_ff1"
            )
            g = node(
                "BiasGelu",
                [ff1, const(f"l{i}_ff1_b", w(f"{p}.intermediate.dense.bias"))],
                f"l{i}_gelu",
                domain="com.microsoft",
            )
            ff2 = node("MatMul", [g, const(f"l{i}_ff2_w", w(f"{p}.output.dense.weight").T)], f"l{i}_ff2")
            x = skip_ln(ff2, x, f"{p}.output", f"l{i}_ln2")
        layers_left = 0
    else:
        layers_left = layers

    if layers_left:
        i64("ax_12", 1, 2)
        i64("shape_heads", 0, 0, heads, head_dim)
        i64("shape_merge", 0, 0, hidden)
        f32("f_one", 1.0)
        f32("f_half", 0.5)
        f32("f_neg", -10000.0)
        f32("f_inv_sqrt2", 1.0 / np.sqrt(2.0))
        f32("f_scale", 1.0 / np.sqrt(head_dim))
        # Additive attention mask (batch, 1, 1, seq): 0 where attended, -10000 at padding.
        inv = node("Sub", ["f_one", mask_f], "mask_inv")
        add_mask = node("Unsqueeze", [node("Mul", [inv, "f_neg"], "mask_neg"), "ax_12"], "mask_add")
    for i in range(layers_left):
        p = f"encoder.layer.{i}"

        def split_heads(t: str, tag: str, p: str = p, i: int = i) -> str:
            r = node("Reshape", [t, "shape_heads"], f"l{i}_{tag}_r")
            return node("Transpose", [r], f"l{i}_{tag}_t", perm=[0, 2, 1, 3])

        q = split_heads(linear(x, f"{p}.attention.self.query", f"l{i}_q"), "q")
        k = split_heads(linear(x, f"{p}.attention.self.key", f"l{i}_k"), "k")
        v = split_heads(linear(x, f"{p}.attention.self.value", f"l{i}_v"), "v")
        kt = node("Transpose", [k], f"l{i}_kT", perm=[0, 1, 3, 2])
        scores = node("Mul", [node("MatMul", [q, kt], f"l{i}_qk"), "f_scale"], f"l{i}_scaled")
        probs = node("Softmax", [node("Add", [scores, add_mask], f"l{i}_masked")], f"l{i}_probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"l{i}_ctx")], f"l{i}_ctx_t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shape_merge"], f"l{i}_ctx_m")
        attn = linear(ctx, f"{p}.attention.output.dense", f"l{i}_ao")
        x = layer_norm(node("Add", [attn, x], f"l{i}_res1"), f"{p}.attention.output.LayerNorm", f"l{i}_ln1")
        h = linear(x, f"{p}.intermediate.dense", f"l{i}_ff1")
        # exact GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        erf = node("Erf", [node("Mul", [h, "f_inv_sqrt2"], f"l{i}_hs")], f"l{i}_erf")
        g = node(
            "Mul",
            [node("Mul", [h, "f_half"], f"l{i}_hh"), node("Add", [erf, "f_one"], f"l{i}_e1")],
            f"l{i}_gelu",
        )
        ff = linear(g, f"{p}.output.dense", f"l{i}_ff2")
        x = layer_norm(node("Add", [ff, x], f"l{i}_res2"), f"{p}.output.LayerNorm", f"l{i}_ln2")

    # Mean pooling over attended tokens, then L2 normalisation.
    m3 = node("Unsqueeze", [mask_f, "c_neg1"], "mask3")
    i64("c_neg1", -1)
    summed = node("ReduceSum", [node("Mul", [x, m3], "masked_h"), "ax_1"], "sum_h", keepdims=0)
    counts = node("Max", [node("ReduceSum", [m3, "ax_1"], "cnt", keepdims=0), "f_tiny"], "cnt_c")
    mean = node("Div", [summed, counts], "mean")
    norm = node("ReduceL2", [mean, "c_neg1"], "norm", keepdims=1)
    node("Div", [mean, node("Max", [norm, "f_eps_norm"], "norm_c")], "embeddings")

    graph = helper.make_graph(
        nodes,
        "bert_mean_pool",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)],
        producer_name="ridgeline",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
