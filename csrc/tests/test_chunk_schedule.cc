#include <gtest/gtest.h>

#include <vector>

#include "nemo_fast/pipeline/chunk_schedule.h"

namespace nemo_fast {
namespace {

// The geometry NeMo's setup_streaming_params gives an 8x dw-striding encoder at att_context_size [70,13].
ModelSpec Streaming70x13() {
  ModelSpec s;
  s.streaming = true;
  s.subsampling_factor = 8;
  StreamingGeometry& g = s.geometry;
  g.chunk_size_frames = {105, 112};
  g.shift_size_frames = {105, 112};
  g.pre_encode_cache_size_frames = {0, 9};
  g.sampling_frames = {1, 8};
  g.drop_extra_pre_encoded = 2;
  g.valid_out_len = 14;
  return s;
}

struct Row {
  const char* rule;
  StreamingMode mode;
  int64_t frames;                 // feature frames produced so far
  bool finished;                  // input ended
  std::vector<ChunkPlan> chunks;  // what the schedule runs, in order: start, frames, cache, shift, drop, last
};

ChunkPlan Chunk(int64_t start, int frames, int cache, int shift, int64_t drop, bool last) {
  ChunkPlan p;
  p.start = start;
  p.frames = frames;
  p.cache_frames = cache;
  p.shift = shift;
  p.drop = drop;
  p.last = last;
  return p;
}

std::vector<ChunkPlan> RunAll(ChunkSchedule& schedule, int64_t frames, bool finished) {
  std::vector<ChunkPlan> out;
  ChunkPlan plan;
  while (schedule.Next(frames, finished, &plan)) {
    out.push_back(plan);
    schedule.Advance(plan);
  }
  return out;
}

TEST(ChunkSchedule, NeMoRules) {
  const auto D = StreamingMode::kDefault, P = StreamingMode::kPadAndDropPreencoded;
  const std::vector<Row> table = {
      {"first chunk: its own size, no pre-encode cache, nothing dropped",
       D,
       106,
       false,
       {Chunk(0, 105, 0, 105, 0, false)}},
      {"a chunk waits until it is full", D, 104, false, {}},
      {"a full chunk waits for one frame beyond its shift (it might be the last)", D, 105, false, {}},
      {"later chunks: 9 frames of pre-encode cache, 2 encoder frames dropped",
       D,
       218,
       false,
       {Chunk(0, 105, 0, 105, 0, false), Chunk(105, 112, 9, 112, 2, false)}},
      {"after the input ends the rest runs; the last chunk keeps all outputs",
       D,
       155,
       true,
       {Chunk(0, 105, 0, 105, 0, false), Chunk(105, 50, 9, 112, 2, true)}},
      {"a short utterance is one first chunk that keeps all outputs", D, 30, true, {Chunk(0, 30, 0, 105, 0, true)}},
      {"a final piece shorter than sampling_frames is not run (NeMo stops)",
       D,
       222,
       true,
       {Chunk(0, 105, 0, 105, 0, false), Chunk(105, 112, 9, 112, 2, false)}},
      {"a final piece of sampling_frames runs",
       D,
       225,
       true,
       {Chunk(0, 105, 0, 105, 0, false), Chunk(105, 112, 9, 112, 2, false), Chunk(217, 8, 9, 112, 2, true)}},
      {"pad_and_drop_preencoded: the first chunk is cut like later ones (zero cache, drop)",
       P,
       113,
       false,
       {Chunk(0, 112, 9, 112, 2, false)}},
      {"pad_and_drop_preencoded: a short first piece still needs only the first chunk's sampling_frames",
       P,
       7,
       true,
       {Chunk(0, 7, 9, 112, 2, true)}},
  };
  for (const Row& row : table) {
    ChunkSchedule schedule(Streaming70x13(), row.mode);
    const std::vector<ChunkPlan> got = RunAll(schedule, row.frames, row.finished);
    ASSERT_EQ(got.size(), row.chunks.size()) << row.rule;
    for (size_t i = 0; i < got.size(); ++i) {
      const ChunkPlan& a = got[i];
      const ChunkPlan& e = row.chunks[i];
      EXPECT_TRUE(a.start == e.start && a.frames == e.frames && a.cache_frames == e.cache_frames &&
                  a.shift == e.shift && a.drop == e.drop && a.last == e.last)
          << row.rule << ": chunk " << i << " is (" << a.start << ", " << a.frames << ", " << a.cache_frames << ", "
          << a.shift << ", " << a.drop << ", " << a.last << ")";
    }
  }
}

TEST(ChunkSchedule, KeepsOnlyFramesLaterChunksRead) {
  ChunkSchedule schedule(Streaming70x13(), StreamingMode::kDefault);
  EXPECT_EQ(schedule.first_frame_still_needed(50), -9);  // nothing run yet: everything is needed
  RunAll(schedule, 218, false);
  EXPECT_EQ(schedule.first_frame_still_needed(218), 217 - 9);  // the next chunk's pre-encode cache
}

TEST(ChunkSchedule, StopAndReset) {
  ChunkSchedule schedule(Streaming70x13(), StreamingMode::kDefault);
  schedule.Stop();
  EXPECT_TRUE(RunAll(schedule, 300, true).empty());
  schedule.Reset();
  EXPECT_EQ(RunAll(schedule, 300, true).size(), 3u);
}

}  // namespace
}  // namespace nemo_fast
