#pragma once
// The random-feature attention studies of issue 4 (SPEC §3-§6). Each writes summary.json
// (claims with measured value, t and seed-bootstrap 95% intervals, tolerance, verdict),
// cells.csv (one row per fitted model: every parameter, seed, error, its Monte Carlo standard
// error, lambda, seconds), PNG+SVG figures and cells/ checkpoints into ctx.out, and returns the
// summary. Invalid settings throw InputError before any work.
//
// Common conventions:
//  - Inputs: query and N keys iid on the unit sphere S^{d-1} (`inputs`, or gaussian).
//  - Training responses y = f*(x) + sigma * xi, xi iid N(0, 1); f* has unit variance under the
//    input law, so sigma is the noise-to-signal standard deviation ratio (default 0.1).
//  - Error: normalised test error mean (f_hat - f*)^2 / Var f* on `test-n` (>= 10^4) fresh
//    noiseless inputs, Var f* the empirical variance of the test targets (1 = predicting the
//    mean). Its Monte Carlo standard error is recorded.
//  - lambda: "gcv" (default), "kfold[:K]" or a fixed number, always chosen on the training data
//    only (estimators/ridge.hpp).
//  - Seeding: a group = (parameter point, repetition) derives every stream from (seed, names,
//    parameter, rep): frozen weights, training inputs per n, noise per (n, target), test inputs.
//    The training and test inputs of a repetition are shared by the models (and weight laws) it
//    compares, so comparisons are paired by repetition. Results do not depend on threads.
//  - n_eps: per repetition, the first crossing of eps by the error curve, interpolated
//    log-log between grid points; a curve that never crosses (or crosses before the first
//    grid point) is censored and reported as such, never extrapolated (studies/rfa_common.hpp).
#include <nlohmann/json.hpp>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// rfa-vs-mlp: error vs n for RFA and the RF-MLP with the same number of trainable
/// parameters, for several targets and key counts N. Claims per invariant target: the MLP/RFA
/// n_eps ratio at claim-N is >= ratio-threshold; the ratio grows with N (each consecutive pair
/// of N); RFA's n_eps spread over N (max/min of the geometric means) is <= spread-threshold.
/// Per non-invariant control at control-N: RFA error at the largest n >= the best invariant
/// error (1 - 1/N), and the RF-MLP's error there <= that floor (it learns what RFA cannot).
std::vector<KeySpec> rfa_vs_mlp_keys();
nlohmann::json run_rfa_vs_mlp(const Settings& settings, const StudyContext& ctx);

/// biased-weights: zero-mean vs biased query-key weights (mu list) on several targets. Claims
/// per (target, mu): on inner-product targets the biased/zero-mean error ratio is < 1 at every
/// n >= claim-from; on the others (key-poly) it is not below 1 - tolerance at any such n.
std::vector<KeySpec> biased_weights_keys();
nlohmann::json run_biased_weights(const Settings& settings, const StudyContext& ctx);

/// target-complexity: error vs n and n_eps for key-poly:p and inner-poly:p, p in a list, for
/// several d. Claim (for each family and d where n_eps is measurable): n_eps(p+1)/n_eps(p) >= 1.
std::vector<KeySpec> target_complexity_keys();
nlohmann::json run_target_complexity(const Settings& settings, const StudyContext& ctx);

/// heads: RFA ridge with M heads and penalty M * lambda_K against kernel ridge with the
/// infinite-width kernel and penalty lambda_K (theory/rfa_kernel.hpp), same training data.
/// Gap = mean over test inputs of (f_M - f_inf)^2 / Var f*; claim: slope of log gap vs log M
/// is -1 (random-features variance), SPEC §4 verdict.
std::vector<KeySpec> heads_keys();
nlohmann::json run_heads(const Settings& settings, const StudyContext& ctx);

}  // namespace attnrate
