#pragma once
// The few raw BLAS calls Armadillo does not expose directly, and the thread pinning that makes
// every result independent of the thread count (OpenBLAS level-2/3 results differ
// bitwise between 1 and 2 BLAS threads, so BLAS runs single-threaded and attnrate threads
// over blocks itself with a fixed reduction order).
#include <armadillo>

namespace attnrate {

/// Sets OpenBLAS to one thread (only if it is not already: OpenBLAS's setter restarts a worker
/// pool that end_blas_worker_pool ended). Call before a parallel region that calls BLAS.
void pin_blas_to_one_thread() noexcept;

/// For programs (the CLI, the test runner), at start: BLAS on one thread for the whole run, and
/// the worker pool that the threaded OpenBLAS starts when it loads ended. Nothing would ever
/// give that pool work, yet each worker busy-waits (sched_yield) for about 0.1 s before it
/// sleeps: 5-8% of the CPU of a two-second sweep. A library never calls it (its host may use
/// BLAS threads).
void end_blas_worker_pool() noexcept;

/// C(upper triangle) += alpha * P * P^T for P (p x k, column-major), C p x p: one dsyrk.
void syrk_upper_add(const double* P, int p, int k, double alpha, double* C) noexcept;

/// C = A * B for column-major A (m x k), B (k x n), C (m x n): one dgemm, no temporaries.
void gemm(const double* A, int m, int k, const double* B, int n, double* C) noexcept;

/// Copies the upper triangle of a square matrix onto its lower triangle.
void symmetrise_from_upper(arma::mat& C) noexcept;

}  // namespace attnrate
