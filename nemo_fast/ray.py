"""Transcription across machines with Ray Data (the extra `ray`): manifest entries flow through `map_batches`
into a pool of actors, each holding one Recognizer (loaded once per actor) that decodes its batches as
`transcribe_many` does on one machine, so every entry gets the output a local run gives it. Ray restarts an
actor that dies and runs its batch again; the output manifest is written by the driver in the input order,
each entry once, so `--resume` works as for a local run.

The audio files and the model folder must be readable at the same paths on every node (a shared file system),
as for NeMo's own distributed transcription."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from nemo_fast import manifest
from nemo_fast.errors import ConfigError
from nemo_fast.manifest import ManifestEntry
from nemo_fast.options import RecognizerOptions, absolute_paths


class _Transcriber:
    """One actor's Recognizer; called with a batch of manifest lines (line number, JSON text, folder)."""

    def __init__(self, model_dir: str, options: RecognizerOptions, batch: int, channel: int | None, words: bool):
        from nemo_fast.recognizer import Recognizer

        self.recognizer = Recognizer(model_dir, options)
        self.batch, self.channel, self.words = batch, channel, words

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        entries = [manifest.parse_line(int(number), str(text), Path(str(folder)))
                   for number, text, folder in zip(rows["line"], rows["entry"], rows["folder"])]
        results = self.recognizer.transcribe_many(entries, batch=self.batch,
                                                  reader=lambda e: manifest.read_entry_audio(e, self.channel))
        outputs, failed = [], []
        for entry, result in results:
            outputs.append(json.dumps(manifest.output_row(entry, result, self.words), ensure_ascii=False))
            failed.append(not isinstance(result, list))
        return {"line": rows["line"], "output": np.array(outputs, dtype=object), "failed": np.array(failed)}


def connect(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at `address` ("auto": the one `ray start` runs on this machine), or start a local
    one with `num_cpus` when None. A process already connected stays as it is."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError("transcription with Ray needs Ray Data: pip install 'nemo_fast[ray]'") from e

    if ray.is_initialized():
        return
    quiet = {"log_to_driver": False, "logging_level": "WARNING"}
    if address is None:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **quiet)
    else:
        ray.init(address=address, **quiet)
    from ray.data import DataContext

    DataContext.get_current().enable_progress_bars = False


def _lines_dataset(entries: list[ManifestEntry], folder: Path):
    import ray

    rows = [{"line": e.line, "entry": json.dumps(e.fields, ensure_ascii=False) if e.error is None else "",
             "folder": str(folder)} for e in entries]
    return ray.data.from_items(rows)


def _check_cpus(actors: int, threads: int, reading: int) -> None:
    """Ray waits for ever for CPUs a cluster does not have: say so instead."""
    import ray

    if actors < 1 or threads < 1:
        raise ConfigError(f"actors and threads must be >= 1, got {actors} and {threads}")
    if not ray.is_initialized():
        ray.init()  # as Ray Data would when the dataset runs
    have = ray.cluster_resources().get("CPU", 0)
    need = actors * threads + reading
    if need > have:
        reader = f" plus {reading} for the tasks that read the dataset" if reading else ""
        raise ConfigError(f"{actors} actors x {threads} threads need {actors * threads} CPUs{reader}, and the Ray "
                          f"cluster has {have:g}: use fewer actors or threads, or add nodes")


def _transcribe(ds, model_dir: str | os.PathLike, *, options: RecognizerOptions | None, actors: int, batch: int,
                channel: int | None, words: bool, reading_cpus: int):
    options = absolute_paths(options or RecognizerOptions())
    threads = options.session.num_threads
    _check_cpus(actors, threads, reading_cpus)
    # Ray Data restarts a dead actor and retries its batch by default (max_restarts, max_task_retries -1).
    from ray.data import ActorPoolStrategy

    return ds.map_batches(_Transcriber, batch_size=4 * batch, compute=ActorPoolStrategy(size=actors),
                          num_cpus=threads,
                          fn_constructor_args=(str(Path(model_dir).resolve()), options, batch, channel, words))


def transcribe_entries(entries: list[ManifestEntry], manifest_folder: str | os.PathLike,
                       model_dir: str | os.PathLike, *, options: RecognizerOptions | None = None, actors: int = 2,
                       batch: int = 4, channel: int | None = None,
                       words: bool = False) -> Iterator[tuple[int, dict, bool]]:
    """(line, output entry, failed) for each entry of the manifest in `manifest_folder` (relative audio paths
    are relative to it), in the order given, computed by `actors` Ray actors (connect() first), each with a
    Recognizer of these options (pickled as they are; each actor holds options.session.num_threads CPUs)."""
    from ray.data import DataContext

    DataContext.get_current().execution_options.preserve_order = True
    unusable = {e.line: e for e in entries if e.error is not None}
    lines = _lines_dataset(entries, Path(manifest_folder).resolve())
    ds = _transcribe(lines, model_dir, options=options, actors=actors, batch=batch, channel=channel, words=words,
                     reading_cpus=0)
    for row in ds.iter_rows():
        line = int(row["line"])
        if line in unusable:  # shipped empty (it may not be JSON): its error is the one read_manifest gave here
            entry = unusable[line]
            yield line, manifest.output_row(entry, ConfigError(entry.error)), True
        else:
            yield line, json.loads(row["output"]), bool(row["failed"])


def transcribe_dataset(ds, model_dir: str | os.PathLike | None = None, *, options: RecognizerOptions | None = None,
                       base_dir: str | os.PathLike = ".", actors: int = 2, batch: int = 4, channel: int | None = None,
                       words: bool = False):
    """A Ray Dataset of manifest entries (columns audio_filepath and optionally offset, duration, text, ...;
    relative paths are relative to `base_dir`) mapped to one of the output entries: each row's columns plus
    `pred_text`, `error` (None when it was transcribed) and, with `words`, `segments` (JSON text). Lazy, as
    Ray Datasets are: write it with e.g. `write_json` or `write_parquet`. The actors (each a Recognizer of
    these options) hold `actors * options.session.num_threads` CPUs for the whole run and the tasks that read `ds` need one more: a cluster with fewer is refused with a
    ConfigError (Ray would wait for ever)."""
    from nemo_fast.models import default_model_dir

    folder = str(Path(base_dir).resolve())

    def to_line(row: dict) -> dict:
        fields = {k: _plain(v) for k, v in row.items()}
        fields = {k: v for k, v in fields.items() if v is not None}
        return {"line": 0, "entry": json.dumps(fields, ensure_ascii=False), "folder": folder}

    def from_output(row: dict) -> dict:
        out = json.loads(row["output"])
        out.pop("manifest_line", None)
        out.setdefault("error", None)
        if words:
            out["segments"] = json.dumps(out["segments"]) if "segments" in out else None
        return out

    lines = ds.map(to_line)
    return _transcribe(lines, model_dir or default_model_dir(), options=options, actors=actors, batch=batch,
                       channel=channel, words=words, reading_cpus=1).map(from_output)


def _plain(value):
    """A Ray row value as JSON would hold it (numpy scalars to Python numbers; NaN, a missing number, to None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
