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

// The length of the UTF-8 sequence a lead byte of valid text starts (1 to 4).
inline size_t Utf8SequenceLength(unsigned char lead) { return lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

// The code points of valid UTF-8 text (as RepairUtf8 returns it).
std::u32string CodePoints(const std::string& valid_utf8);

// Whether a code point is punctuation: Unicode's general categories P* (Pc, Pd, Ps, Pe, Pi, Pf, Po).
bool IsUnicodePunctuation(char32_t code_point);

}  // namespace nemo_fast
