// Times the recognizer's parts on one exported model: features, one encoder step, decoding, and the whole
// stream end to end (audio in pieces of one chunk shift, text out) against the same stream with its features
// computed up front.
// Usage: bench_recognizer LIBONNXRUNTIME MODEL_DIR [seconds=60] [repeats=5] [threads=1] [decoder=default]
// Prints medians over the repeats; audio is synthetic and speech-like (speed does not depend on words).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench_common.h"
#include "nemo_fast/model/cache_tensor.h"
#include "nemo_fast/pipeline/recognizer.h"
#include "nemo_fast/runtime/onnxruntime_loader.h"

using nemo_fast::bench::Median;
using nemo_fast::bench::MedianSeconds;
using nemo_fast::bench::SyntheticAudio;

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s LIBONNXRUNTIME MODEL_DIR [seconds=60] [repeats=5] [threads=1] [decoder=default]\n",
                 argv[0]);
    return 2;
  }
  nemo_fast::LoadOnnxRuntime(argv[1]);
  const std::string model_dir = argv[2];
  const double seconds = argc > 3 ? std::atof(argv[3]) : 60.0;
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 5;
  nemo_fast::RecognizerConfig config;
  config.session.intra_op_threads = argc > 5 ? std::atoi(argv[5]) : 1;
  if (argc > 6) config.decoder = argv[6];
  config.decoding.method = nemo_fast::DecodingMethod::kGreedy;  // beam search: benchmarks/beam_search_cost.py
  const nemo_fast::Recognizer recognizer(model_dir, config);
  const nemo_fast::ModelSpec& spec = recognizer.spec();
  const int rate = spec.features.sample_rate;
  const std::vector<float> audio = SyntheticAudio(static_cast<std::size_t>(seconds * rate), rate);
  const auto view = nemo_fast::SampleView::Float32(audio.data(), audio.size());
  std::printf("model %s (%s, decoder %s), %.0f s of audio, %d threads, median of %d\n", model_dir.c_str(),
              spec.streaming ? "streaming" : "offline", recognizer.decoder().c_str(), seconds,
              config.session.intra_op_threads, repeats);

  const double features = MedianSeconds(repeats, [&] { recognizer.fbank().Compute(view); });
  std::printf("features          %10.1f x real-time\n", seconds / features);

  if (spec.streaming) {
    // One later chunk (steady state) through the encoder, caches carried.
    const auto& g = spec.geometry;
    const int frames = g.chunk_size_frames[1] + g.pre_encode_cache_size_frames[1];
    const auto& encoder = recognizer.encoder();
    std::vector<float> chunk(static_cast<std::size_t>(spec.feat_in) * frames, -5.0f);
    nemo_fast::CacheTensor channel, time;
    channel.Zeros(encoder.cache_last_channel_row_size());
    time.Zeros(encoder.cache_last_time_row_size());
    const int64_t length = frames;
    int64_t cache_len = 0, cache_len_next = 0;
    nemo_fast::EncoderOutput out;
    std::vector<double> steps;
    for (int i = 0; i < 20 * repeats + 1; ++i) {
      const nemo_fast::EncoderBatch batch{
          1,           frames,     chunk.data(),   &length, g.drop_extra_pre_encoded, channel.data(),
          time.data(), &cache_len, &cache_len_next};
      const auto start = std::chrono::steady_clock::now();
      out = encoder.RunChunk(batch);
      if (i > 0) steps.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      channel.Adopt(std::move(out.cache_last_channel_next));
      time.Adopt(std::move(out.cache_last_time_next));
      cache_len = cache_len_next;
    }
    const double chunk_seconds = static_cast<double>(g.shift_size_frames[1]) * spec.features.hop_length_samples / rate;
    std::printf("encoder step      %10.3f ms per %.2f s chunk (%d input frames)\n", Median(steps) * 1e3, chunk_seconds,
                frames);
    if (recognizer.decoder() == "ctc") {
      nemo_fast::CtcGreedyDecoder decoder(spec.blank_id, spec.vocab_size);
      const int rows = std::min<int>(out.frames, g.valid_out_len);
      const double decode = MedianSeconds(repeats, [&] {
        for (int i = 0; i < 1000; ++i) decoder.Accept(out.frames_data.data(), rows);
      });
      std::printf("ctc decoding      %10.3f us per chunk\n", decode / 1000 * 1e6);
    }
  }

  // End to end: audio in pieces of one chunk shift, as from a live source, each decoded as it arrives. Against
  // it, round by round, the same stream with all its features computed before the clock starts (what the
  // bare ONNX Runtime loop of benchmarks/bench_streaming.py times): their ratio is the cost of the features
  // and of feeding the stream piece by piece.
  const int piece = spec.streaming ? spec.geometry.shift_size_frames[1] * spec.features.hop_length_samples : rate;
  const auto end_to_end = [&] {
    auto stream = recognizer.CreateStream();
    for (std::size_t start = 0; start < audio.size(); start += piece) {
      const std::size_t n = std::min<std::size_t>(piece, audio.size() - start);
      stream->AcceptWaveform(nemo_fast::SampleView::Float32(audio.data() + start, n), stream->sample_rate());
      recognizer.DecodeStreams({stream.get()});
    }
    stream->InputFinished();
    recognizer.DecodeStreams({stream.get()});
    return stream->Result().text;
  };
  const auto features_up_front = [&] {
    auto stream = recognizer.CreateStream();
    stream->AcceptWaveform(view, stream->sample_rate());
    stream->InputFinished();
    const auto start = std::chrono::steady_clock::now();
    recognizer.DecodeStreams({stream.get()});
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  end_to_end(), features_up_front();  // warm-up
  std::vector<double> e2e, floor, ratio;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    end_to_end();
    e2e.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    floor.push_back(features_up_front());
    ratio.push_back(e2e.back() / floor.back());
  }
  std::printf("end to end        %10.4f real-time factor (%.1f x real-time)\n", Median(e2e) / seconds,
              seconds / Median(e2e));
  std::printf("features up front %10.4f real-time factor; end to end / this: %.3f (median of the rounds' ratios)\n",
              Median(floor) / seconds, Median(ratio));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_recognizer: %s\n", e.what());
  return 1;
}
