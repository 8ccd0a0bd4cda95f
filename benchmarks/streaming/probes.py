"""The probes of one encoder step on the bare loop: `profile` (time per operator type), `matmul-floor` (the
step against its matrix products alone, neither profiled), `static-shapes` (a graph specialized to the chunk
size) and `int8-kernels` (ONNX Runtime's int8 forms of the weight products)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from common import stamp, tiled_speech, write_json
from systems import bare_onnxruntime_system, write_contract

MATMUL_OPS = ("MatMul", "DynamicQuantizeMatMul", "MatMulInteger", "MatMulIntegerToFloat", "FusedMatMul")
INT8_GRAPHS = ("fp32", "dynamic_int8", "matmul_nbits_int8")


def profile_graph(model_dir: Path, graph: str, threads: int, seconds: float) -> dict:
    """One warm-up stream and one profiled stream of the bare loop on model_dir/graph/model.onnx; the
    per-step means of the profiled stream (ms)."""
    import tempfile

    chunks, one_stream = bare_onnxruntime_system(model_dir / graph, threads, str(Path(tempfile.mkdtemp()) / "ort"))
    prepared = chunks(tiled_speech(seconds))
    one_stream(prepared)  # warm-up
    one_stream(prepared)
    session = one_stream.session
    events = json.loads(Path(session.end_profiling()).read_text())
    runs = sorted((e for e in events if e.get("name") == "model_run"), key=lambda e: e["ts"])
    measured_from = runs[len(prepared)]["ts"]  # the second stream's first step
    steps = len(runs) - len(prepared)
    by_op: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= measured_from:
            by_op[e["args"]["op_name"]] = by_op.get(e["args"]["op_name"], 0.0) + e["dur"] / 1000 / steps
    step_ms = sum(e["dur"] for e in runs[len(prepared):]) / 1000 / steps
    kernels_ms = sum(by_op.values())
    return {"step_ms": step_ms, "kernels_ms": kernels_ms, "outside_kernels_ms": step_ms - kernels_ms,
            "matmul_ms": sum(v for k, v in by_op.items() if k in MATMUL_OPS),
            "by_op_ms": dict(sorted(by_op.items(), key=lambda kv: -kv[1]))}  # fmt: skip



def _sweep(kind: str, table, workdir: Path, models, threads_list, rows_for, **settings) -> None:
    """Results of one mode over every model and thread count, saved to results/KIND.json after every row;
    rows_for(model, threads) yields the rows of one model and thread count, table(results) formats them."""
    results = {"stamp": stamp(), "kind": kind, **settings, "runs": []}
    for model in models:
        write_contract(workdir / model / "nemo_fast")
        for threads in threads_list:
            for row in rows_for(model, threads):
                results["runs"].append(row)
                write_json(kind, results)
                print(table({"runs": [row]}).splitlines()[-1], flush=True)
    print(table(results))



def profile(workdir: Path, threads_list, models, seconds: float) -> None:
    def rows_for(model, threads):
        graphs = ("nemo_fast", "nemo_fast_int8")
        yield {"model": model, "threads": threads,
               **{graph: profile_graph(workdir / model, graph, threads, seconds) for graph in graphs}}  # fmt: skip

    _sweep("profile", profile_table, workdir, models, threads_list, rows_for, seconds=seconds)



def profile_table(results: dict) -> str:
    lines = ["| model, threads | graph | step (ms) | MatMul | other operators | outside operators | "
             "step / step without MatMul |", "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in results["runs"]:
        for graph in ("nemo_fast", "nemo_fast_int8"):
            p = row[graph]
            other = p["kernels_ms"] - p["matmul_ms"]
            lines.append(f"| {row['model']}, {row['threads']} | {graph} | {p['step_ms']:.1f} | {p['matmul_ms']:.1f} | "
                         f"{other:.1f} | {p['outside_kernels_ms']:.1f} | {p['step_ms'] / (p['step_ms'] - p['matmul_ms']):.2f} |")
    return "\n".join(lines)



def _static_graph(model_dir: Path, frames: int) -> tuple[str, int, int]:
    """model_dir/model.onnx with every input shape fixed to one later chunk's (batch 1, `frames` feature
    frames) and the shape arithmetic that this makes constant folded away (onnxsim); (file name, nodes
    before, nodes after)."""
    import onnx
    import onnxsim

    graph = onnx.load(str(model_dir / "model.onnx"))
    shapes = {}
    for value in graph.graph.input:
        dims = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]  # the free dims are batch and frames
        if value.name == "audio_signal":
            dims[2] = frames
        shapes[value.name] = dims
    static, ok = onnxsim.simplify(graph, overwrite_input_shapes=shapes)
    if not ok:
        raise SystemExit(f"onnxsim could not check its simplification of {model_dir / 'model.onnx'}")
    onnx.save(static, str(model_dir / "model_static.onnx"))
    return "model_static.onnx", len(graph.graph.node), len(static.graph.node)



def _optimized_nodes(model_dir: Path, graph_file: str) -> int:
    """Nodes left after ONNX Runtime's own graph optimizations (what a session runs)."""
    import tempfile

    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as work:  # the optimized copy holds the weights too
        options = ort.SessionOptions()
        options.optimized_model_filepath = str(Path(work) / "optimized.onnx")
        ort.InferenceSession(str(model_dir / graph_file), options, providers=["CPUExecutionProvider"])
        return len(onnx.load(options.optimized_model_filepath, load_external_data=False).graph.node)



def _steady_chunks(chunks, seconds: float) -> list:
    """The bare loop's inputs for the later chunks of full size of `seconds` of speech (the first chunk and a
    short last one have other shapes)."""
    prepared = chunks(tiled_speech(seconds))
    return [c for c in prepared[1:] if c[0].shape[2] == prepared[1][0].shape[2]]



def _alternating_step_ms(loops: dict, steady: list, rounds: int) -> dict[str, list[float]]:
    """Mean step time (ms) of each bare loop over `steady`, per round; one warm-up each, then `rounds`
    rounds, the order reversed every other round so that neither graph always runs first."""
    for one_stream in loops.values():
        one_stream(steady)
    times: dict[str, list[float]] = {name: [] for name in loops}
    for index in range(rounds):
        for name in list(loops) if index % 2 == 0 else list(loops)[::-1]:
            start = time.perf_counter()
            loops[name](steady)
            times[name].append((time.perf_counter() - start) / len(steady) * 1000)
    return times



def matmul_floor_pair(model_dir: Path, threads: int, seconds: float, rounds: int) -> dict:
    """The bare loop's step against a graph of only that step's matrix products (one MatMul per MatMul
    ONNX Runtime runs in a steady step, with its shapes; the weights it pre-packs are constants here too, so
    they are pre-packed alike), each run once per steady chunk, alternating in one process. Neither is
    profiled: ONNX Runtime's profiler adds its own cost to every node, which a profiled step/MatMul ratio
    counts as the graph's."""
    import tempfile

    with tempfile.TemporaryDirectory() as work:  # the replica's products-only graph holds 2.4 GB of weights
        return _matmul_floor_pair(model_dir, threads, seconds, rounds, Path(work))


def _matmul_floor_pair(model_dir: Path, threads: int, seconds: float, rounds: int, work: Path) -> dict:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    chunks, step = bare_onnxruntime_system(model_dir, threads, str(work / "ort"))
    steady = _steady_chunks(chunks, seconds)
    step(steady[:6])
    events = json.loads(Path(step.session.end_profiling()).read_text())
    runs = sorted((e for e in events if e.get("name") == "model_run"), key=lambda e: e["ts"])[2:]
    kernels = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")
               and e["args"]["op_name"] in MATMUL_OPS and e["ts"] >= runs[0]["ts"]]  # fmt: skip
    # The same ratio as the profiler gives it (its per-node cost counted in the step), for comparison.
    profiled_step_ms = sum(r["dur"] for r in runs) / len(runs) / 1000
    profiled_matmul_ms = sum(e["dur"] for e in kernels) / len(runs) / 1000
    last = runs[-1]
    products = [e for e in kernels if last["ts"] <= e["ts"] <= last["ts"] + last["dur"]]
    rng = np.random.default_rng(0)
    inputs, outputs, nodes, initializers, feeds = [], [], [], [], {}
    for i, event in enumerate(products):
        # The profiler lists the activations a kernel reads; a pre-packed weight is not among them.
        shapes = [next(iter(d.values())) for d in event["args"]["input_type_shape"]]
        out_shape = next(iter(event["args"]["output_type_shape"][0].values()))
        a_shape = shapes[0]
        b_shape = shapes[1] if len(shapes) > 1 else [a_shape[-1], out_shape[-1]]
        a, b, y = f"a{i}", f"b{i}", f"y{i}"
        inputs.append(helper.make_tensor_value_info(a, TensorProto.FLOAT, a_shape))
        feeds[a] = rng.standard_normal(a_shape).astype(np.float32)
        if len(shapes) == 1:
            initializers.append(onnx.numpy_helper.from_array(rng.standard_normal(b_shape).astype(np.float32), b))
        else:
            inputs.append(helper.make_tensor_value_info(b, TensorProto.FLOAT, b_shape))
            feeds[b] = rng.standard_normal(b_shape).astype(np.float32)
        nodes.append(helper.make_node("MatMul", [a, b], [y]))
        outputs.append(helper.make_tensor_value_info(y, TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "matmuls", inputs, outputs, initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(work / "matmuls.onnx"),
              save_as_external_data=True)  # the replica's weights pass protobuf's 2 GB  # fmt: skip
    del step  # the profiled session
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    matmuls = ort.InferenceSession(str(work / "matmuls.onnx"), options, providers=["CPUExecutionProvider"])
    _, step = bare_onnxruntime_system(model_dir, threads)  # unprofiled

    def products_only(prepared, latencies=None):
        for _ in prepared:
            matmuls.run(None, feeds)

    times = _alternating_step_ms({"step": step, "matmuls": products_only}, steady, rounds)
    ratios = [s / m for s, m in zip(times["step"], times["matmuls"])]
    return {"matmuls_per_step": len(products), "nodes": _optimized_nodes(model_dir, "model.onnx"),
            "step_ms": statistics.median(times["step"]), "matmul_ms": statistics.median(times["matmuls"]),
            "step_over_matmuls": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)],
            "profiled_step_ms": profiled_step_ms, "profiled_matmul_ms": profiled_matmul_ms}  # fmt: skip


def matmul_floor(workdir: Path, threads_list, models, seconds: float, rounds: int) -> None:
    def rows_for(model, threads):
        yield {"model": model, "threads": threads, **matmul_floor_pair(workdir / model / "nemo_fast", threads,
                                                                       seconds, rounds)}  # fmt: skip

    _sweep("matmul_floor", matmul_floor_table, workdir, models, threads_list, rows_for, seconds=seconds,
           rounds=rounds)  # fmt: skip


def matmul_floor_table(results: dict) -> str:
    lines = ["| model, threads | nodes (after ONNX Runtime) | MatMuls | step (ms) | MatMuls alone (ms) | step / MatMuls "
             "| profiled: step (ms) | MatMul kernels (ms) | step / MatMul kernels |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in results["runs"]:
        lo, hi = r["ratio_range"]
        lines.append(f"| {r['model']}, {r['threads']} | {r['nodes']} | {r['matmuls_per_step']} | {r['step_ms']:.2f} | "
                     f"{r['matmul_ms']:.2f} | {r['step_over_matmuls']:.3f} ({lo:.3f}-{hi:.3f}) | "
                     f"{r['profiled_step_ms']:.2f} | {r['profiled_matmul_ms']:.2f} | "
                     f"{r['profiled_step_ms'] / r['profiled_matmul_ms']:.3f} |")  # fmt: skip
    return "\n".join(lines)


def static_shapes_pair(model_dir: Path, threads: int, seconds: float, rounds: int) -> dict:
    """The bare loop on the graph as exported against the same graph specialized to the later chunks' fixed
    shapes, in one process, alternating; only the later chunks of full size are timed (the first chunk and a
    short last one would need the general graph anyway)."""
    import numpy as np

    chunks, general = bare_onnxruntime_system(model_dir, threads)
    steady = _steady_chunks(chunks, seconds)
    static_file, nodes, static_nodes = _static_graph(model_dir, steady[0][0].shape[2])
    _, static = bare_onnxruntime_system(model_dir, threads, graph_file=static_file)

    def log_probs(one_stream):
        steps = []
        one_stream(steady[:50], log_probs=steps)
        return np.concatenate(steps, axis=1)

    max_difference = float(np.abs(log_probs(general) - log_probs(static)).max())
    times = _alternating_step_ms({"general": general, "static": static}, steady, rounds)
    ratios = [g / s for g, s in zip(times["general"], times["static"])]
    return {
        "nodes": nodes, "static_nodes": static_nodes, "optimized_nodes": _optimized_nodes(model_dir, "model.onnx"),
        "optimized_static_nodes": _optimized_nodes(model_dir, static_file), "max_log_prob_difference": max_difference,
        "step_ms": statistics.median(times["general"]), "static_step_ms": statistics.median(times["static"]),
        "general_over_static": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)],
    }  # fmt: skip



def static_shapes(workdir: Path, threads_list, models, seconds: float, rounds: int) -> None:
    def rows_for(model, threads):
        for graph in ("nemo_fast", "nemo_fast_int8"):
            yield {"model": model, "threads": threads, "graph": graph,
                   **static_shapes_pair(workdir / model / graph, threads, seconds, rounds)}  # fmt: skip

    _sweep("static_shapes", static_shapes_table, workdir, models, threads_list, rows_for,
           seconds=seconds, rounds=rounds)  # fmt: skip



def static_shapes_table(results: dict) -> str:
    header = ("| model, threads | graph | nodes (after ONNX Runtime) | static | step (ms) | static "
              "| general / static | max log-prob difference |")  # fmt: skip
    lines = [header, "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["runs"]:
        lo, hi = r["ratio_range"]
        lines.append(f"| {r['model']}, {r['threads']} | {r['graph']} | {r['optimized_nodes']} | "
                     f"{r['optimized_static_nodes']} | {r['step_ms']:.2f} | {r['static_step_ms']:.2f} | "
                     f"{r['general_over_static']:.3f} ({lo:.3f}-{hi:.3f}) | "
                     f"{r['max_log_prob_difference']:.1e} |")  # fmt: skip
    return "\n".join(lines)



def _matmul_nbits_graph(model_dir: Path) -> str:
    """model_dir/nemo_fast/model.onnx with every MatMul of a constant weight as ONNX Runtime's MatMulNBits,
    8 bits, blocks of 32, symmetric, accuracy level 4 (int8 activations: the kernel made for products of
    few rows); the file name, relative to model_dir/nemo_fast."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    graph_file = "model_matmul_nbits_int8.onnx"
    quantizer = MatMulNBitsQuantizer(onnx.load(str(model_dir / "nemo_fast" / "model.onnx")), bits=8, block_size=32,
                                     is_symmetric=True, accuracy_level=4)  # fmt: skip
    quantizer.process()
    quantizer.model.save_model_to_file(str(model_dir / "nemo_fast" / graph_file), False)
    return graph_file



def int8_kernels_row(model_dir: Path, threads: int, seconds: float, rounds: int) -> dict:
    """The bare loop's later chunks on the fp32 graph, the exporter's int8 graph (dynamic quantization,
    DynamicQuantizeMatMul) and a MatMulNBits 8-bit graph, in one process, alternating."""
    import numpy as np

    nbits_file = _matmul_nbits_graph(model_dir)
    chunks, fp32 = bare_onnxruntime_system(model_dir / "nemo_fast", threads)
    loops = {"fp32": fp32, "dynamic_int8": bare_onnxruntime_system(model_dir / "nemo_fast_int8", threads)[1],
             "matmul_nbits_int8": bare_onnxruntime_system(model_dir / "nemo_fast", threads, graph_file=nbits_file)[1]}
    steady = _steady_chunks(chunks, seconds)
    log_probs = {}
    for name, one_stream in loops.items():
        steps: list = []
        one_stream(steady[:50], log_probs=steps)
        log_probs[name] = np.concatenate(steps, axis=1)
    times = _alternating_step_ms(loops, steady, rounds)
    row: dict = {"step_ms": {name: statistics.median(t) for name, t in times.items()}}
    row["fp32_over"], row["argmax_agreement"] = {}, {}
    for name in INT8_GRAPHS[1:]:
        ratios = [a / b for a, b in zip(times["fp32"], times[name])]
        row["fp32_over"][name] = {"median": statistics.median(ratios), "range": [min(ratios), max(ratios)]}
        row["argmax_agreement"][name] = float((log_probs[name].argmax(-1) == log_probs["fp32"].argmax(-1)).mean())
    return row



def int8_kernels(workdir: Path, threads_list, models, seconds: float, rounds: int) -> None:
    def rows_for(model, threads):
        yield {"model": model, "threads": threads, **int8_kernels_row(workdir / model, threads, seconds, rounds)}

    _sweep("int8_kernels", int8_kernels_table, workdir, models, threads_list, rows_for, seconds=seconds, rounds=rounds)



def int8_kernels_table(results: dict) -> str:
    header = ("| model, threads | fp32 step (ms) | dynamic int8 | MatMulNBits int8 | fp32 / dynamic | "
              "fp32 / MatMulNBits | same top piece as fp32: dynamic, MatMulNBits |")  # fmt: skip
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results["runs"]:
        ms, over, agree = r["step_ms"], r["fp32_over"], r["argmax_agreement"]
        ratios = [f"{over[g]['median']:.2f} ({over[g]['range'][0]:.2f}-{over[g]['range'][1]:.2f})"
                  for g in INT8_GRAPHS[1:]]  # fmt: skip
        lines.append(f"| {r['model']}, {r['threads']} | " + " | ".join(f"{ms[g]:.2f}" for g in INT8_GRAPHS) + " | "
                     + " | ".join(ratios) + f" | {agree['dynamic_int8']:.0%}, {agree['matmul_nbits_int8']:.0%} |")
    return "\n".join(lines)
