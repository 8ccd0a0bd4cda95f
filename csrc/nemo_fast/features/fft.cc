#include "nemo_fast/features/fft.h"

#include <cmath>

#include "nemo_fast/common/error.h"
#include "nemo_fast/common/hot_loop.h"

namespace nemo_fast {

RealFft::RealFft(int n) : n_(n), half_(n / 2) {
  if (n < 4 || (n & (n - 1)) != 0) {
    Fail(ErrorCode::kInvalidConfig, "FFT size must be a power of two >= 4, got ", n);
  }
  int bits = 0;
  while ((1 << bits) < half_) ++bits;
  bitrev_.resize(half_);
  for (int i = 0; i < half_; ++i) {
    int r = 0;
    for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
    bitrev_[i] = r;
  }
  // Stage with butterfly span m uses exp(-2 pi i j / (2m)), j = 0..m-1.
  for (int m = 1; m < half_; m *= 2) {
    for (int j = 0; j < m; ++j) {
      double angle = -M_PI * j / m;
      stage_tw_re_.push_back(static_cast<float>(std::cos(angle)));
      stage_tw_im_.push_back(static_cast<float>(std::sin(angle)));
    }
  }
  split_tw_re_.resize(half_ + 1);
  split_tw_im_.resize(half_ + 1);
  for (int k = 0; k <= half_; ++k) {
    double angle = -2.0 * M_PI * k / n;
    split_tw_re_[k] = static_cast<float>(std::cos(angle));
    split_tw_im_[k] = static_cast<float>(std::sin(angle));
  }
  zr_.resize(half_);
  zi_.resize(half_);
}

NEMO_FAST_HOT_LOOP
void RealFft::ComplexHalf(const float* x) {
  float* __restrict zr = zr_.data();
  float* __restrict zi = zi_.data();
  // Load z[t] = x[2t] + i x[2t+1] in bit-reversed order, fused with the first two (span 1 and 2) stages:
  // one radix-4 butterfly per group of four.
  if (half_ >= 4) {
    for (int t = 0; t < half_; t += 4) {
      const int a = bitrev_[t], b = bitrev_[t + 1], c = bitrev_[t + 2], d = bitrev_[t + 3];
      const float ar = x[2 * a], ai = x[2 * a + 1], br = x[2 * b], bi = x[2 * b + 1];
      const float cr = x[2 * c], ci = x[2 * c + 1], dr = x[2 * d], di = x[2 * d + 1];
      // Span 1: (a, b) and (c, d).
      const float s0r = ar + br, s0i = ai + bi, s1r = ar - br, s1i = ai - bi;
      const float s2r = cr + dr, s2i = ci + di, s3r = cr - dr, s3i = ci - di;
      // Span 2: twiddles 1 and -i.
      zr[t] = s0r + s2r;
      zi[t] = s0i + s2i;
      zr[t + 2] = s0r - s2r;
      zi[t + 2] = s0i - s2i;
      zr[t + 1] = s1r + s3i;
      zi[t + 1] = s1i - s3r;
      zr[t + 3] = s1r - s3i;
      zi[t + 3] = s1i + s3r;
    }
  } else {
    for (int t = 0; t < half_; t += 2) {
      const int a = bitrev_[t], b = bitrev_[t + 1];
      const float ar = x[2 * a], ai = x[2 * a + 1], br = x[2 * b], bi = x[2 * b + 1];
      zr[t] = ar + br;
      zi[t] = ai + bi;
      zr[t + 1] = ar - br;
      zi[t + 1] = ai - bi;
    }
  }
  const float* tw_re = stage_tw_re_.data() + 3;  // skip the span-1 and span-2 twiddles
  const float* tw_im = stage_tw_im_.data() + 3;
  for (int m = 4; m < half_; m *= 2) {
    for (int start = 0; start < half_; start += 2 * m) {
      float* __restrict ur = zr + start;
      float* __restrict ui = zi + start;
      float* __restrict vr = zr + start + m;
      float* __restrict vi = zi + start + m;
#pragma GCC ivdep
      for (int j = 0; j < m; ++j) {
        const float wr = tw_re[j], wi = tw_im[j];
        const float tr = vr[j] * wr - vi[j] * wi;
        const float ti = vr[j] * wi + vi[j] * wr;
        vr[j] = ur[j] - tr;
        vi[j] = ui[j] - ti;
        ur[j] += tr;
        ui[j] += ti;
      }
    }
    tw_re += m;
    tw_im += m;
  }
}

void RealFft::Forward(const float* x, float* re, float* im) {
  ComplexHalf(x);
  const float* zr = zr_.data();
  const float* zi = zi_.data();
  re[0] = zr[0] + zi[0];
  im[0] = 0.0f;
  re[half_] = zr[0] - zi[0];
  im[half_] = 0.0f;
  // X[k] = E[k] + W^k O[k], with E = (Z[k] + conj Z[h-k]) / 2 and O = (Z[k] - conj Z[h-k]) / 2i.
  for (int k = 1; k < half_; ++k) {
    float ar = zr[k], ai = zi[k];
    float br = zr[half_ - k], bi = -zi[half_ - k];
    float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
    float or_ = 0.5f * (ai - bi), oi = -0.5f * (ar - br);
    float wr = split_tw_re_[k], wi = split_tw_im_[k];
    re[k] = er + or_ * wr - oi * wi;
    im[k] = ei + or_ * wi + oi * wr;
  }
}

NEMO_FAST_HOT_LOOP
void RealFft::PowerSpectrum(const float* x, float* power) {
  ComplexHalf(x);
  const float* __restrict zr = zr_.data();
  const float* __restrict zi = zi_.data();
  const float* __restrict wre = split_tw_re_.data();
  const float* __restrict wim = split_tw_im_.data();
  float dc = zr[0] + zi[0];
  float nyquist = zr[0] - zi[0];
  power[0] = dc * dc;
  power[half_] = nyquist * nyquist;
  for (int k = 1; k < half_; ++k) {
    float ar = zr[k], ai = zi[k];
    float br = zr[half_ - k], bi = -zi[half_ - k];
    float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
    float or_ = 0.5f * (ai - bi), oi = -0.5f * (ar - br);
    float wr = wre[k], wi = wim[k];
    float xr = er + or_ * wr - oi * wi;
    float xi = ei + or_ * wi + oi * wr;
    power[k] = xr * xr + xi * xi;
  }
}

}  // namespace nemo_fast
