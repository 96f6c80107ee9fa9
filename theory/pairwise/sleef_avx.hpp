#pragma once
// SLEEF's 4-lane AVX deterministic ("cinz") functions. sleef.h declares them only when the whole
// file is compiled with -mavx; the activation kernels call them from functions compiled for AVX
// alone ([[gnu::target("avx")]]) and chosen at run time, so they are declared here.
#include <immintrin.h>

extern "C" {
__m256d Sleef_cinz_cosd4_u10avx(__m256d);
__m256d Sleef_cinz_expd4_u10avx(__m256d);
__m256d Sleef_cinz_powd4_u10avx(__m256d, __m256d);
__m256d Sleef_cinz_tanhd4_u10avx(__m256d);
__m256d Sleef_cinz_log1pd4_u10avx(__m256d);
__m256d Sleef_cinz_erfcd4_u15avx(__m256d);
}
