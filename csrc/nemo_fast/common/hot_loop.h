// NEMO_FAST_HOT_LOOP marks a function whose loops should get an AVX2/FMA clone on x86-64, chosen at load
// time by the CPU; other machines run the portable build. Results are deterministic per machine.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NEMO_FAST_HOT_LOOP __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NEMO_FAST_HOT_LOOP
#endif
