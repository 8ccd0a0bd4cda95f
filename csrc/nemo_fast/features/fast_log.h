// Natural log of a float array, vectorizable (no libm call in the loop), accurate to about 1e-7
// relative + 1e-7 absolute for normal positive inputs: ample for 1e-4 log-mel parity.
#pragma once

#include <cstdint>
#include <cstring>

namespace nemo_fast {

// out[i] = log(in[i]) for positive, finite, normal in[i]. in and out may alias.
inline void LogArray(const float* in, float* out, int n) {
  constexpr std::int32_t kSqrtHalfBits = 0x3f3504f3;  // bit pattern of sqrt(1/2)
#pragma GCC ivdep
  for (int i = 0; i < n; ++i) {
    std::int32_t bits;
    std::memcpy(&bits, &in[i], sizeof(bits));
    // Split x = 2^e * m with m in [sqrt(1/2), sqrt(2)), branch-free so the loop vectorizes.
    const std::int32_t e = (bits - kSqrtHalfBits) >> 23;
    const std::int32_t mant_bits = bits - static_cast<std::int32_t>(static_cast<std::uint32_t>(e) << 23);
    float m;
    std::memcpy(&m, &mant_bits, sizeof(m));
    // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716.
    const float s = (m - 1.0f) / (m + 1.0f);
    const float s2 = s * s;
    const float series =
        1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
    out[i] = static_cast<float>(e) * 0.693147180559945f + 2.0f * s * series;
  }
}

}  // namespace nemo_fast
