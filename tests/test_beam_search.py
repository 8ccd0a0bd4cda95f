"""Beam search, language-model fusion and hotwords (CTC head), against pyctcdecode and KenLM where they exist."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import require_module

import nemo_fast
from nemo_fast import _core
from nemo_fast.errors import ConfigError, ModelError, ModelFileNotFoundError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "default"
SPEECH = [ROOT / "examples" / "speech_example.wav", ROOT / "tests" / "data" / "speech_16k.wav"]
TEXT = """the cat sat on the mat
the dog sat on the log
a cat and a dog sat together
we changed the landscape
the problem of pay inequity
solving the problem of the cat
the mat was on the floor
""".splitlines()


@pytest.fixture(scope="module")
def greedy():
    return nemo_fast.Recognizer(SHIPPED, decoding="greedy", keep_log_probs=True)


@pytest.fixture(scope="module")
def log_probs(greedy):
    """CTC log-probs of varied speech: the two recordings at five tempos, clean and with two levels of noise."""
    rng = np.random.default_rng(0)
    out = []
    for path in SPEECH:
        audio, rate = sf.read(path, dtype="float32")
        for tempo in (0.8, 0.9, 1.0, 1.1, 1.25):
            for noise in (0.0, 0.01, 0.03):
                noisy = (audio + noise * rng.standard_normal(len(audio))).astype(np.float32)
                out.append(greedy.transcribe(noisy, sample_rate=int(rate * tempo)).log_probs)
    return out


def _search(tokens, **options):
    config = _core.DecodingConfig()
    config.method = _core.DecodingMethod.beam
    for key, value in options.items():
        setattr(config, key, value)
    return _core.CtcBeamSearch(tokens, len(tokens) - 1, True, config)


def test_lm_build_writes_a_model_kenlm_reads_with_the_same_scores(tmp_path):
    """nemo-fast lm build: KenLM loads the file, each context's probabilities sum to one, and nemo_fast's ARPA
    reader gives KenLM's scores (known, unknown and end-of-sentence words, after back-off)."""
    kenlm = require_module("kenlm")
    text = tmp_path / "text.txt"
    lines = TEXT * 3 + ["an odd line once"]
    text.write_text("\n".join(lines) + "\n")
    arpa = tmp_path / "lm.arpa"
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "lm", "build", text, arpa, "--order", "3"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "3-grams" in run.stdout
    theirs, ours = kenlm.Model(str(arpa)), _core.ArpaLm(str(arpa))
    vocabulary = sorted({w for line in lines for w in line.split()} | {"</s>"})
    for context in ([], ["the"], ["the", "cat"], ["a", "dog"], ["zebra"]):
        state, after = kenlm.State(), kenlm.State()
        theirs.BeginSentenceWrite(state)
        for word in context:
            theirs.BaseScore(state, word, after)
            state, after = after, state
        total = sum(10 ** theirs.BaseScore(state, w, kenlm.State()) for w in vocabulary + ["<unk>"])
        assert total == pytest.approx(1.0, abs=1e-4), context
        for word in vocabulary + ["zebra"]:
            assert ours.score(context, word) == pytest.approx(theirs.BaseScore(state, word, kenlm.State()), abs=1e-5)


def test_lm_build_refuses_an_empty_text(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n")
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "lm", "build", tmp_path / "empty.txt",
                          tmp_path / "lm.arpa"], capture_output=True, text=True)
    assert run.returncode == 2 and "no words" in run.stderr


@pytest.mark.parametrize("options, words", [
    (["--order", "9"], "order must lie in 1..8 (what the beam search reads), got 9"),  # once written, then refused
    (["--prune-singletons-above", "-1"], "prune_singletons_above must be >= 0"),  # once pruned the unigrams
])
def test_lm_build_refuses_what_the_search_would_not_read(tmp_path, options, words):
    (tmp_path / "text.txt").write_text("hello world\nhello there\n")
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "lm", "build", tmp_path / "text.txt",
                          tmp_path / "lm.arpa", *options], capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 2 and words in run.stderr and not (tmp_path / "lm.arpa").exists()


def test_pruning_options_reach_the_search(greedy):
    """token_min_log_prob and beam_prune_log_prob are the search's; a wider search is never worse in score."""
    wide = nemo_fast.Recognizer(SHIPPED, decoding="beam", token_min_log_prob=-12.0, beam_prune_log_prob=-30.0)
    assert wide._core.config.decoding.token_min_log_prob == -12.0
    assert wide._core.config.decoding.beam_prune_log_prob == -30.0
    assert wide.transcribe(SPEECH[0]).text


def test_beam_of_one_without_lm_is_greedy(greedy, log_probs):
    search = _search(greedy.tokens, beam_size=1)
    blank = len(greedy.tokens) - 1
    for lp in log_probs:
        best = lp.argmax(1)
        collapsed = [int(t) for i, t in enumerate(best) if t != blank and (i == 0 or t != best[i - 1])]
        assert search.decode(lp)[0][0] == collapsed


@pytest.mark.parametrize("with_lm", [False, True])
def test_same_transcripts_as_pyctcdecode(greedy, log_probs, with_lm):
    """pyctcdecode (NeMo's "pyctcdecode" strategy, decode_beams as NeMo calls it) on the same log-probs, LM and
    weights: the same top transcript for every input once "▁" alone and <unk> have no probability. Those two
    tokens end a word in pyctcdecode's reading, and its flag for that is one variable shared by every hypothesis
    of a frame (a hypothesis after "▁" makes the next one processed start a word): with them, most transcripts
    still agree (the shipped model's 600 test utterances: 588 with its LM; see docs/decoding.md)."""
    require_module("kenlm")
    pyctcdecode = require_module("pyctcdecode")
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    tokens = greedy.tokens
    labels = [*tokens[:-1], ""]
    lm = SHIPPED / "lm.arpa"
    options = dict(lm_path=str(lm), lm_weight=0.6, word_bonus=2.5) if with_lm else {}
    unigrams = [line.split("\t")[1] for line in lm.read_text().splitlines()
                if "\t" in line and " " not in line.split("\t")[1]] if with_lm else None
    reference = pyctcdecode.build_ctcdecoder(labels, kenlm_model_path=str(lm) if with_lm else None,
                                             unigrams=unigrams, alpha=0.6, beta=2.5)
    boundary = [i for i, t in enumerate(tokens) if t in ("\u2581", "<unk>")]
    assert len(boundary) == 2
    for beam in (4, 8, 16):
        ours = _search(tokens, beam_size=beam, **options)
        raw_same = 0
        for lp in log_probs:
            quiet = lp.astype(np.float64)
            quiet[:, boundary] = -1e4
            quiet = (quiet - np.log(np.exp(quiet).sum(1, keepdims=True))).astype(np.float32)
            theirs = reference.decode_beams(quiet, beam_width=beam)[0][0]
            assert " ".join(ours.decode(quiet)[0][1].split()) == theirs, f"beam {beam}"
            raw_same += " ".join(ours.decode(lp)[0][1].split()) == reference.decode_beams(lp, beam_width=beam)[0][0]
        assert raw_same >= 0.8 * len(log_probs), f"beam {beam}: {raw_same} of {len(log_probs)}"


def test_streaming_finals_equal_the_whole_utterance(log_probs):
    """A stream decoded in small pieces ends with what the beam search gives the utterance's log-probs at once,
    and its partial results are the best hypothesis so far (they may change; the final does not depend on
    the chunking)."""
    recognizer = nemo_fast.Recognizer(SHIPPED, decoding="beam", lm=SHIPPED / "lm.arpa", lm_weight=0.6,
                                      word_bonus=2.5, keep_log_probs=True,
                                      endpoint=nemo_fast.EndpointConfig(enabled=False))
    search = _core.CtcBeamSearch(recognizer.tokens, len(recognizer.tokens) - 1, True, recognizer._core.config.decoding)
    for path in SPEECH:
        audio, rate = sf.read(path, dtype="float32")
        stream = recognizer.create_stream()
        partials = []
        for start in range(0, len(audio), 2400):
            stream.accept_waveform(audio[start:start + 2400], rate)
            partials.append(stream.result().text)
        stream.input_finished()
        result = stream.result()
        ids, text, _ = search.decode(result.log_probs)[0]
        assert list(result.token_ids) == ids and result.text == text
        assert any(partials) and len(result.token_times_seconds) == len(ids)


def test_shipped_model_decodes_with_its_language_model_by_default(greedy):
    """The shipped model's decoding.json: beam search with its LM; greedy on request, unchanged."""
    default = nemo_fast.Recognizer(SHIPPED)
    assert default.decoding == "beam"
    assert default._core.config.decoding.lm_path.endswith("lm.arpa")
    assert nemo_fast.Recognizer(SHIPPED, decoding="greedy").decoding == "greedy"
    # An explicit greedy run ignores the model's file and equals NeMo's greedy collapse of the log-probs.
    result = greedy.transcribe(SPEECH[0])
    best = result.log_probs.argmax(1)
    blank = len(greedy.tokens) - 1
    assert list(result.token_ids) == [int(t) for i, t in enumerate(best) if t != blank and (i == 0 or t != best[i - 1])]


def test_hotwords_favour_a_phrase_and_leave_others_alone(greedy):
    """The example says "pay inequity"; without help the model and LM write "pay in equity". Boosting
    "inequity" fixes it; a phrase never said changes nothing; per-stream hotwords replace the recognizer's."""
    plain = nemo_fast.Recognizer(SHIPPED, decoding="beam")
    assert "inequity" not in plain.transcribe(SPEECH[0]).text.split()
    boosted = nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=["inequity"])
    assert "inequity" in boosted.transcribe(SPEECH[0]).text.split()
    unrelated = nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=[("zucchini bread", 20.0)])
    assert unrelated.transcribe(SPEECH[0]).text == plain.transcribe(SPEECH[0]).text
    stream = plain.create_stream(hotwords=["Inequity"])  # capitals: lowered for this lower-case vocabulary
    audio, rate = sf.read(SPEECH[0], dtype="float32")
    stream.accept_waveform(audio, rate)
    stream.input_finished()
    assert "inequity" in stream.result().text.split()


def test_partial_hotword_matches_are_not_rewarded_at_the_end(greedy):
    """A phrase whose beginning ends the input earns nothing: the boost of an unfinished match is taken back."""
    audio, rate = sf.read(SPEECH[0], dtype="float32")
    plain = nemo_fast.Recognizer(SHIPPED, decoding="beam").transcribe(audio, sample_rate=rate).text
    last = plain.split()[-1]
    boosted = nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=[(f"{last} zebra crossing", 30.0)])
    assert boosted.transcribe(audio, sample_rate=rate).text == plain


def test_hotwords_file(tmp_path):
    path = tmp_path / "hotwords.txt"
    path.write_text("# names\ninequity :12\n\nlandscape\n")
    listed = _core.read_hotwords_file(str(path))
    assert [(h.phrase, h.boost) for h in listed] == [("inequity", 12.0), ("landscape", 0.0)]
    assert "inequity" in nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=path).transcribe(SPEECH[0]).text
    path.write_text("inequity :lots\n")
    with pytest.raises(ConfigError, match="hotwords.txt:1"):
        nemo_fast.Recognizer(SHIPPED, decoding="beam", hotwords=path)


@pytest.mark.parametrize("options, error, match", [
    (dict(decoding="beam", beam_size=0), ConfigError, "beam_size must be >= 1"),
    (dict(decoding="beam", beam_prune_log_prob=0.5), ConfigError, "beam_prune_log_prob must be negative"),
    (dict(decoding="sampling"), ConfigError, "decoding must be 'greedy' or 'beam'"),
    (dict(decoding="greedy", hotwords=["cat"]), ConfigError, "set decoding='beam'"),
    (dict(decoding="beam", hotwords=["caf\u00e9"]), ConfigError, "no token of the model spells"),
    (dict(decoding="beam", hotwords=["   "]), ConfigError, "is empty"),
    (dict(decoding="beam", hotwords=[("cat", "lots")]), ConfigError, "hotword 'cat': its boost must be a number"),
    (dict(decoding="beam", lm="/no/such/lm.arpa"), ModelFileNotFoundError, "language model not found"),
])
def test_bad_decoding_options_are_refused(options, error, match):
    with pytest.raises(error, match=match):
        nemo_fast.Recognizer(SHIPPED, **options)


def test_a_corrupt_lm_names_the_line(tmp_path):
    bad = tmp_path / "bad.arpa"
    bad.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1.0\t</s>\nnot-a-number\tcat\n\n\\end\\\n")
    with pytest.raises(ModelError, match="bad.arpa:6.*'not-a-number' is not a finite number"):
        nemo_fast.Recognizer(SHIPPED, decoding="beam", lm=bad)


def test_transducer_beam_search_streams():
    """RNN-T heads: modified beam search gives the same final whatever the feed, at most one token per frame, and
    takes hotwords. TDT heads: tokens with their durations, and words timed by them."""
    from recognizer_cases import MODELS_DIR, feed_in_pieces

    audio, rate = sf.read(SPEECH[1], dtype="float32")
    for name, decoder in (("rnnt_bpe_d48_80mel_70_6", None), ("hybrid_bpe_d48_80mel_70_13", "rnnt")):
        recognizer = nemo_fast.Recognizer(MODELS_DIR / name, decoder=decoder, decoding="beam", beam_size=4,
                                          endpoint=nemo_fast.EndpointConfig(enabled=False))
        whole = recognizer.transcribe(audio, sample_rate=rate)
        assert whole.token_ids, name
        for piece in (160, 4321):
            fed = feed_in_pieces(recognizer, audio, piece)
            assert fed.token_ids == whole.token_ids and fed.text == whole.text, (name, piece)
        frames = [round(t / recognizer.spec.frame_shift_seconds) for t in whole.token_times_seconds]
        assert len(set(frames)) == len(frames)  # one token per frame at most
        word = max((t.lstrip("\u2581") for t in recognizer.tokens if t.lstrip("\u2581").isalpha()), key=len)
        hot = nemo_fast.Recognizer(MODELS_DIR / name, decoder=decoder, decoding="beam", hotwords=[(word, 5.0)])
        assert hot.transcribe(audio, sample_rate=rate).num_frames == whole.num_frames
    tdt = nemo_fast.Recognizer(MODELS_DIR / "tdt_bpe_d48_80mel_offline", decoding="beam", beam_size=4)
    segments = tdt.transcribe_segments(audio, sample_rate=rate)
    tokens = [w for s in segments for w in s.words]
    assert tokens and all(w.end >= w.start for w in tokens)
    assert feed_in_pieces(tdt, audio, 3000).token_ids == tdt.transcribe(audio, sample_rate=rate).token_ids
    # Beam 1 takes the best token and duration of each step, as greedy decoding (this model never picks blank
    # with duration 0, which greedy decoding allows and the search does not).
    one = nemo_fast.Recognizer(MODELS_DIR / "tdt_bpe_d48_80mel_offline", decoding="beam", beam_size=1)
    greedy = nemo_fast.Recognizer(MODELS_DIR / "tdt_bpe_d48_80mel_offline")
    assert one.transcribe(audio, sample_rate=rate).token_ids == greedy.transcribe(audio, sample_rate=rate).token_ids


def test_lm_fusion_steers_transducer_search(tmp_path):
    """The word bonus and LM of the fusion act on transducer hypotheses too: a large bonus gives more words than
    a large penalty, for RNN-T and TDT heads alike."""
    from recognizer_cases import MODELS_DIR

    text = tmp_path / "text.txt"
    text.write_text("\n".join(TEXT) + "\n")
    lm = tmp_path / "lm.arpa"
    subprocess.run([sys.executable, "-m", "nemo_fast.cli", "lm", "build", text, lm], check=True, capture_output=True)
    audio, rate = sf.read(SPEECH[1], dtype="float32")
    for name in ("rnnt_bpe_d48_80mel_70_6", "tdt_bpe_d48_80mel_offline"):
        words = {}
        for bonus in (-20.0, 20.0):
            recognizer = nemo_fast.Recognizer(MODELS_DIR / name, decoding="beam", lm=lm, lm_weight=0.5,
                                              word_bonus=bonus)
            words[bonus] = len(recognizer.transcribe(audio, sample_rate=rate).text.split())
        assert words[20.0] > words[-20.0], (name, words)


def test_cli_beam_search_with_lm_and_hotwords(tmp_path):
    hotwords = tmp_path / "hotwords.txt"
    hotwords.write_text("inequity\n")
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", SPEECH[0], "--decoding", "beam",
                          "--beam-size", "8", "--lm", SHIPPED / "lm.arpa", "--lm-weight", "0.6", "--word-bonus",
                          "2.5", "--hotwords", hotwords], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "inequity" in run.stdout.split()
    run = subprocess.run([sys.executable, "-m", "nemo_fast.cli", "transcribe", SPEECH[0], "--beam-size", "0"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2
