#include "nemo_fast/common/utf8.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace nemo_fast {
namespace {

const char kReplacement[] = "\xef\xbf\xbd";  // U+FFFD

// Length of the sequence a lead byte announces (0: not a lead byte), and the allowed range of the byte
// after it (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
int SequenceLength(uint8_t lead, uint8_t* second_min, uint8_t* second_max) {
  *second_min = 0x80;
  *second_max = 0xBF;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (lead == 0xE0) *second_min = 0xA0;
    if (lead == 0xED) *second_max = 0x9F;
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (lead == 0xF0) *second_min = 0x90;
    if (lead == 0xF4) *second_max = 0x8F;
    return 4;
  }
  return 0;
}

}  // namespace

namespace {

// Appends the repaired text to *out; returns the bytes consumed, which is all of them unless
// hold_back_incomplete_tail left out an unfinished last sequence.
size_t Repair(const std::string& text, bool hold_back_incomplete_tail, std::string* out) {
  out->reserve(out->size() + text.size());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const auto lead = static_cast<uint8_t>(text[i]);
    uint8_t lo, hi;
    const int length = SequenceLength(lead, &lo, &hi);
    if (length == 1) {
      *out += text[i++];
      continue;
    }
    // Count the continuation bytes that are in range.
    int good = length == 0 ? 0 : 1;
    while (good > 0 && good < length && i + good < n) {
      const auto c = static_cast<uint8_t>(text[i + good]);
      if (c < (good == 1 ? lo : 0x80) || c > (good == 1 ? hi : 0xBF)) break;
      ++good;
    }
    if (length > 0 && good == length) {
      out->append(text, i, length);
      i += length;
    } else if (length > 0 && i + good == n && hold_back_incomplete_tail) {
      break;  // the rest of this character has not been decoded yet
    } else {
      *out += kReplacement;
      i += 1;
    }
  }
  return i;
}

}  // namespace

std::string RepairUtf8(const std::string& text, bool hold_back_incomplete_tail) {
  std::string out;
  Repair(text, hold_back_incomplete_tail, &out);
  return out;
}

size_t AppendRepairedUtf8(const std::string& bytes, std::string* out) { return Repair(bytes, true, out); }

}  // namespace nemo_fast

namespace nemo_fast {
namespace {

struct CodePointRange {
  char32_t first, last;
};

const CodePointRange kPunctuation[] = {
#include "nemo_fast/common/unicode_punctuation_table.inc"
};

}  // namespace

std::u32string CodePoints(const std::string& valid_utf8) {
  std::u32string out;
  for (size_t i = 0; i < valid_utf8.size();) {
    const auto lead = static_cast<uint8_t>(valid_utf8[i]);
    const int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t cp = length == 1 ? lead : lead & (0x3F >> (length - 1));
    for (int k = 1; k < length && i + k < valid_utf8.size(); ++k) {
      cp = (cp << 6) | (static_cast<uint8_t>(valid_utf8[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += length;
  }
  return out;
}

bool IsUnicodePunctuation(char32_t code_point) {
  const auto* end = std::end(kPunctuation);
  const auto* it = std::upper_bound(std::begin(kPunctuation), end, code_point,
                                    [](char32_t cp, const CodePointRange& r) { return cp < r.first; });
  return it != std::begin(kPunctuation) && code_point <= (it - 1)->last;
}

}  // namespace nemo_fast
