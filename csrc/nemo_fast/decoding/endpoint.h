// Endpointing: where a stream's transcript is cut into segments (utterances), decided on the decoder's output
// alone (trailing frames without speech: CTC blanks, transducer frames without emission), so the encoder and its
// caches run on unchanged and the segments' tokens, joined, are the unsegmented stream's tokens.
//
// A segment ends when any rule holds, as sherpa-onnx's three rules:
//   rule1: nothing decoded yet and a long silence (the segment is dropped: it holds no tokens);
//   rule2: a pause after speech;
//   rule3: the segment has grown too long.
#pragma once

#include <string>

namespace nemo_fast {

struct EndpointRule {
  bool must_contain_speech = false;   // the segment must hold a token
  double min_trailing_silence = 0.0;  // seconds without speech at its end (0: not required)
  double min_segment_length = 0.0;    // seconds since it started (0: not required)

  bool Holds(bool contains_speech, double trailing_silence, double segment_length) const {
    return (!must_contain_speech || contains_speech) && trailing_silence >= min_trailing_silence &&
           segment_length >= min_segment_length;
  }
};

struct EndpointConfig {
  bool enabled = true;
  EndpointRule rule1{false, 2.4, 0.0};
  EndpointRule rule2{true, 1.2, 0.0};
  EndpointRule rule3{false, 0.0, 20.0};

  bool Reached(bool contains_speech, double trailing_silence, double segment_length) const {
    return enabled && (rule1.Holds(contains_speech, trailing_silence, segment_length) ||
                       rule2.Holds(contains_speech, trailing_silence, segment_length) ||
                       rule3.Holds(contains_speech, trailing_silence, segment_length));
  }
  // Throws kInvalidConfig for negative durations and for a rule that would end every segment at once.
  void Validate() const;
};

}  // namespace nemo_fast
