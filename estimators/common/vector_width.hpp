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

}  // namespace attnrate
