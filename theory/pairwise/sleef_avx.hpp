#pragma once
// SLEEF's 4-lane AVX and 8-lane AVX-512F (without FMA) deterministic ("cinz") functions. sleef.h
// declares them only when the whole file is compiled with -mavx or -mavx512f; the activation and
// arc-cosine kernels call them from functions compiled for that instruction set alone (a target
// pragma or [[gnu::target(...)]]) and chosen at run time, so they are declared here.
#include <immintrin.h>

// sincos returns sin in x and cos in y; the layouts are sleef.h's.
#ifndef Sleef___m256d_2_DEFINED
#define Sleef___m256d_2_DEFINED
typedef struct {
  __m256d x, y;
} Sleef___m256d_2;
#endif
#ifndef Sleef___m512d_2_DEFINED
#define Sleef___m512d_2_DEFINED
typedef struct {
  __m512d x, y;
} Sleef___m512d_2;
#endif

// clang checks the calling convention at both ends of a call: a function taking an AVX vector
// must itself be declared for AVX (GCC only checks the caller). Where the whole file is compiled
// for the instruction set, sleef.h's own declarations apply and nothing is added.
#if defined(__clang__) && !defined(__AVX__)
#define ATTNRATE_SLEEF_AVX __attribute__((target("avx")))
#else
#define ATTNRATE_SLEEF_AVX
#endif
#if defined(__clang__) && !defined(__AVX512F__)
#define ATTNRATE_SLEEF_AVX512 __attribute__((target("avx512f")))
#else
#define ATTNRATE_SLEEF_AVX512
#endif

extern "C" {
ATTNRATE_SLEEF_AVX Sleef___m256d_2 Sleef_cinz_sincosd4_u35avx(__m256d);
ATTNRATE_SLEEF_AVX512 Sleef___m512d_2 Sleef_cinz_sincosd8_u35avx512fnofma(__m512d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_cosd4_u10avx(__m256d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_acosd4_u10avx(__m256d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_expd4_u10avx(__m256d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_powd4_u10avx(__m256d, __m256d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_tanhd4_u10avx(__m256d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_log1pd4_u10avx(__m256d);
ATTNRATE_SLEEF_AVX __m256d Sleef_cinz_erfcd4_u15avx(__m256d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_cosd8_u10avx512fnofma(__m512d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_acosd8_u10avx512fnofma(__m512d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_expd8_u10avx512fnofma(__m512d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_powd8_u10avx512fnofma(__m512d, __m512d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_tanhd8_u10avx512fnofma(__m512d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_log1pd8_u10avx512fnofma(__m512d);
ATTNRATE_SLEEF_AVX512 __m512d Sleef_cinz_erfcd8_u15avx512fnofma(__m512d);
}
