#pragma once
// The x86-64 vector widths of the hand-vectorised kernels (activations, arc-cosine kernel, Gram
// matrix), one chosen at run time. Each kernel documents whether its widths agree bit for bit.

namespace attnrate {

/// 2-lane SSE2 (part of every x86-64 CPU), 4-lane AVX, 8-lane AVX-512F.
enum class VectorWidth { sse2, avx, avx512 };

/// Whether this CPU runs `width` (checked once; safe before main).
bool cpu_supports(VectorWidth width) noexcept;

/// The widest width this CPU runs.
VectorWidth widest_vector() noexcept;

/// The three builds of a kernel compiled for the x86-64 baseline, AVX2 and AVX-512F.
enum class KernelBuild { baseline, avx2, avx512 };

/// The build that runs `width`: avx512 -> avx512, avx -> avx2 where the CPU has AVX2 (AVX alone
/// lacks the 256-bit integer operations) and the baseline otherwise, sse2 -> baseline; a width
/// this CPU lacks is taken as the widest it runs.
KernelBuild kernel_build(VectorWidth width) noexcept;

}  // namespace attnrate
