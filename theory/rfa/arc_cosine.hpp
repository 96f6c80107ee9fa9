#pragma once
// The degree-1 arc-cosine function, the elementary function of both infinite-width kernels:
//   J(rho) = (sqrt((1 - rho)(1 + rho)) + (pi - acos(rho)) rho) / (2 pi),  rho clamped to [-1, 1],
// so that E[relu(X) relu(Y)] = s1 s2 J(rho) for centred bivariate normals with standard deviations
// s1, s2 and correlation rho (Cho & Saul 2009). A Gram matrix needs it at every pair of samples
// (the RFA kernel at every pair of keys too), so it is evaluated over arrays with SLEEF's
// deterministic acos at the widest vector width the CPU runs, as the activations are
// (theory/pairwise/activation.hpp, whose VectorWidth it shares): the same IEEE operations in every
// lane at every width, no FMA, an odd tail padded into a full vector. A value therefore depends on
// rho alone, not on its position in an array, the width or the thread count; the scalar overload
// is a one-element array. Accuracy: SLEEF's acos is within 1 ulp, and J within a few ulp of the
// exact value away from rho = -1, where J vanishes and its relative error grows (tested against a
// long-double reference in tests/test_rfa_theory.cpp).
#include <span>

#include "theory/pairwise/activation.hpp"

namespace attnrate {

/// out[k] = J(rho[k]) for every k (equal sizes; NaN gives NaN) at the widest width the CPU runs.
void arc_cosine_j1(std::span<const double> rho, std::span<double> out) noexcept;
/// The same at a given width (a width the CPU lacks falls back to the widest it has): for tests
/// and benchmarks, which compare the widths bit for bit.
void arc_cosine_j1(std::span<const double> rho, std::span<double> out, Activation::VectorWidth width) noexcept;
/// J(rho) for one value; the same bits as the array form.
double arc_cosine_j1(double rho) noexcept;

}  // namespace attnrate
