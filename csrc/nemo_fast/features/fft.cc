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
      stage_tw_re_.push_back(std::cos(angle));
      stage_tw_im_.push_back(std::sin(angle));
    }
  }
  split_tw_re_.resize(half_ + 1);
  split_tw_im_.resize(half_ + 1);
  for (int k = 0; k <= half_; ++k) {
    double angle = -2.0 * M_PI * k / n;
    split_tw_re_[k] = std::cos(angle);
    split_tw_im_[k] = std::sin(angle);
  }
  zr_.resize(half_);
  zi_.resize(half_);
  rev_r_.resize(half_);
  rev_i_.resize(half_);
  power_scratch_.resize(half_ + 1);
}

NEMO_FAST_HOT_LOOP
void RealFft::ComplexHalf(const double* x) {
  double* __restrict zr = zr_.data();
  double* __restrict zi = zi_.data();
  // Load z[t] = x[2t] + i x[2t+1] in bit-reversed order, fused with the first two (span 1 and 2) stages:
  // one radix-4 butterfly per group of four.
  if (half_ >= 4) {
    for (int t = 0; t < half_; t += 4) {
      const int a = bitrev_[t], b = bitrev_[t + 1], c = bitrev_[t + 2], d = bitrev_[t + 3];
      const double ar = x[2 * a], ai = x[2 * a + 1], br = x[2 * b], bi = x[2 * b + 1];
      const double cr = x[2 * c], ci = x[2 * c + 1], dr = x[2 * d], di = x[2 * d + 1];
      // Span 1: (a, b) and (c, d).
      const double s0r = ar + br, s0i = ai + bi, s1r = ar - br, s1i = ai - bi;
      const double s2r = cr + dr, s2i = ci + di, s3r = cr - dr, s3i = ci - di;
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
      const double ar = x[2 * a], ai = x[2 * a + 1], br = x[2 * b], bi = x[2 * b + 1];
      zr[t] = ar + br;
      zi[t] = ai + bi;
      zr[t + 1] = ar - br;
      zi[t + 1] = ai - bi;
    }
  }
  const double* tw_re = stage_tw_re_.data() + 3;  // skip the span-1 and span-2 twiddles
  const double* tw_im = stage_tw_im_.data() + 3;
  for (int m = 4; m < half_; m *= 2) {
    for (int start = 0; start < half_; start += 2 * m) {
      double* __restrict ur = zr + start;
      double* __restrict ui = zi + start;
      double* __restrict vr = zr + start + m;
      double* __restrict vi = zi + start + m;
#pragma GCC ivdep
      for (int j = 0; j < m; ++j) {
        const double wr = tw_re[j], wi = tw_im[j];
        const double tr = vr[j] * wr - vi[j] * wi;
        const double ti = vr[j] * wi + vi[j] * wr;
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

void RealFft::Forward(const double* x, float* re, float* im) {
  ComplexHalf(x);
  const double* zr = zr_.data();
  const double* zi = zi_.data();
  re[0] = static_cast<float>(zr[0] + zi[0]);
  im[0] = 0.0f;
  re[half_] = static_cast<float>(zr[0] - zi[0]);
  im[half_] = 0.0f;
  // X[k] = E[k] + W^k O[k], with E = (Z[k] + conj Z[h-k]) / 2 and O = (Z[k] - conj Z[h-k]) / 2i.
  for (int k = 1; k < half_; ++k) {
    const double ar = zr[k], ai = zi[k];
    const double br = zr[half_ - k], bi = -zi[half_ - k];
    const double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const double or_ = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
    const double wr = split_tw_re_[k], wi = split_tw_im_[k];
    re[k] = static_cast<float>(er + or_ * wr - oi * wi);
    im[k] = static_cast<float>(ei + or_ * wi + oi * wr);
  }
}

NEMO_FAST_HOT_LOOP
void RealFft::PowerSpectrum(const double* x, float* power) {
  ComplexHalf(x);
  const double* __restrict zr = zr_.data();
  const double* __restrict zi = zi_.data();
  const double* __restrict wre = split_tw_re_.data();
  const double* __restrict wim = split_tw_im_.data();
  double* __restrict rev_r = rev_r_.data();
  double* __restrict rev_i = rev_i_.data();
  double* __restrict out = power_scratch_.data();
  // Z[h-k] in k order first, so the split loop below reads contiguously and vectorizes.
  for (int k = 1; k < half_; ++k) {
    rev_r[k] = zr[half_ - k];
    rev_i[k] = zi[half_ - k];
  }
  for (int k = 1; k < half_; ++k) {
    const double ar = zr[k], ai = zi[k];
    const double br = rev_r[k], bi = -rev_i[k];
    const double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const double or_ = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
    const double wr = wre[k], wi = wim[k];
    const double xr = er + or_ * wr - oi * wi;
    const double xi = ei + or_ * wi + oi * wr;
    out[k] = xr * xr + xi * xi;
  }
  const double dc = zr[0] + zi[0];
  const double nyquist = zr[0] - zi[0];
  out[0] = dc * dc;
  out[half_] = nyquist * nyquist;
  for (int k = 0; k <= half_; ++k) power[k] = static_cast<float>(out[k]);
}

}  // namespace nemo_fast
