// UTF-8 repair for text assembled from model tokens (byte-fallback pieces, damaged token files), so that
// every string the core hands out is valid UTF-8.
#pragma once

#include <string>

namespace nemo_fast {

// Replaces each byte that does not belong to a well-formed UTF-8 sequence with U+FFFD. With
// hold_back_incomplete_tail, a trailing sequence that is merely unfinished (more bytes may follow, as in a
// partial transcript ending inside a character) is left out instead of replaced.
std::string RepairUtf8(const std::string& text, bool hold_back_incomplete_tail = false);

// Appends the repaired text of `bytes` to *out, holding back an unfinished trailing sequence; returns how many
// bytes were consumed (the rest is that unfinished sequence, to be completed by bytes still to come).
size_t AppendRepairedUtf8(const std::string& bytes, std::string* out);

}  // namespace nemo_fast
