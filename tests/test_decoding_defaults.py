"""A model folder's decoding.json, read by the core (so the C++ API, the C example and Python decode a model
alike): its settings fill what the caller leaves unset, only for beam search; a damaged file is an error naming
the file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nemo_fast
from nemo_fast.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "default"


def _folder(tmp_path: Path, decoding_json: str | None) -> Path:
    """The shipped model's files (linked) with this decoding.json (None: none)."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("model.onnx", "tokens.txt", "lm.arpa"):
        (folder / name).symlink_to(SHIPPED / name)
    if decoding_json is not None:
        (folder / "decoding.json").write_text(decoding_json, encoding="utf-8")
    return folder


def _decoding(recognizer) -> dict:
    d = recognizer._core.config.decoding
    return {"method": d.method.name, "beam_size": d.beam_size, "lm_path": d.lm_path, "lm_weight": d.lm_weight,
            "word_bonus": d.word_bonus, "hotword_boost": d.hotword_boost}  # fmt: skip


def test_the_file_fills_what_the_caller_leaves_unset(tmp_path):
    folder = _folder(tmp_path, json.dumps({"decoding": "beam", "beam_size": 3, "lm": "lm.arpa", "lm_weight": 0.25,
                                           "word_bonus": 0.75, "hotword_boost": 4}))  # fmt: skip
    by_file = _decoding(nemo_fast.Recognizer(folder))
    assert by_file == {"method": "beam", "beam_size": 3, "lm_path": str(folder / "lm.arpa"), "lm_weight": 0.25,
                       "word_bonus": 0.75, "hotword_boost": 4.0}  # fmt: skip
    given = _decoding(nemo_fast.Recognizer(folder, beam_size=5, lm_weight=1.0))
    assert given == {**by_file, "beam_size": 5, "lm_weight": 1.0}
    # Greedy on request: nothing of the file applies
    assert _decoding(nemo_fast.Recognizer(folder, decoding="greedy"))["method"] == "greedy"


def test_settings_of_the_file_apply_only_to_beam_search(tmp_path):
    """A model that decodes greedily by default may still give its beam settings, for callers who ask for beam."""
    greedy_file = _folder(tmp_path, json.dumps({"decoding": "greedy", "beam_size": 3, "lm_weight": 0.25}))
    assert _decoding(nemo_fast.Recognizer(greedy_file))["method"] == "greedy"
    chosen = _decoding(nemo_fast.Recognizer(greedy_file, decoding="beam"))
    assert (chosen["method"], chosen["beam_size"], chosen["lm_weight"], chosen["lm_path"]) == ("beam", 3, 0.25, "")


def test_without_the_file_the_model_decodes_greedily_with_the_defaults_for_beam(tmp_path):
    folder = _folder(tmp_path, None)
    assert _decoding(nemo_fast.Recognizer(folder))["method"] == "greedy"
    beam = _decoding(nemo_fast.Recognizer(folder, decoding="beam"))
    assert beam == {"method": "beam", "beam_size": 8, "lm_path": "", "lm_weight": 0.5, "word_bonus": 1.5,
                    "hotword_boost": 8.0}  # fmt: skip


DAMAGED = {
    "not_json": ("{decoding: beam}", "expected '\"'"),
    "a_list": ('["beam"]', "expected '{'"),
    "unknown_key": ('{"decoding": "beam", "beam_width": 4}', 'unknown key "beam_width"'),
    "duplicate_key": ('{"beam_size": 4, "beam_size": 5}', 'the key "beam_size" is given twice'),
    "method": ('{"decoding": "sampling"}', '"decoding" must be "greedy" or "beam"'),
    "method_type": ('{"decoding": 1}', '"decoding" must be "greedy" or "beam"'),
    "number_as_string": ('{"decoding": "beam", "beam_size": "8"}', '"beam_size" must be a number'),
    "fraction": ('{"decoding": "beam", "beam_size": 2.5}', '"beam_size" must be a whole number'),
    "lm_not_a_string": ('{"decoding": "beam", "lm": 3}', '"lm" must be a string'),
    "boolean": ('{"decoding": "beam", "lm_weight": true}', "not a number or a string"),
    "nan": ('{"decoding": "beam", "lm_weight": NaN}', "not a number or a string"),
    "huge": ('{"decoding": "beam", "lm_weight": 1e999}', "out of range"),
    "text_after": ('{"decoding": "beam"} {}', "text after the object"),
    "cut_short": ('{"decoding": "be', "an unterminated string"),
    "empty": ("", "expected '{'"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_file_is_an_error_naming_it_and_the_key(tmp_path, case):
    text, message = DAMAGED[case]
    folder = _folder(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        nemo_fast.Recognizer(folder)
    assert str(folder / "decoding.json") in str(error.value) and message in str(error.value)
    # Greedy on request does not read the file
    assert nemo_fast.Recognizer(folder, decoding="greedy").decoding == "greedy"


def test_escapes_and_a_missing_lm_file(tmp_path):
    """JSON escapes in the lm name are read as JSON says; a file that is not there is named."""
    folder = _folder(tmp_path, json.dumps({"decoding": "beam", "lm": "l\u00e9/m.arpa"}))
    with pytest.raises(nemo_fast.errors.NemoFastError, match="l\u00e9/m.arpa"):
        nemo_fast.Recognizer(folder)


def test_an_unknown_method_from_python_names_the_choices():
    with pytest.raises(ConfigError, match="decoding must be 'greedy' or 'beam', not 'sampling'"):
        nemo_fast.Recognizer(SHIPPED, decoding="sampling")
