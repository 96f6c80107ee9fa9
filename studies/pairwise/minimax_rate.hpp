#pragma once
// `attnrate study minimax-rate` A known, least squares over clamped
// B-splines with K from a schedule, composed L2(rho) error against M, slope vs -2b/(2b+1).
// With --schedule adaptive the degree and K are selected from the data per cell
// (estimators/pairwise_lse/adaptive_spline.hpp); the oracle and the known-b schedule are
// reported beside it.
#include <string>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/study_definition.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition minimax_rate_study();

/// The model options tokens, N, d, r, sigma, activation (validated, messages naming the option);
/// shared by `simulate pairwise` and the minimax-rate study.
PairwiseModelSpec read_pairwise_model_spec(const Settings& settings);

/// A rate study's activation (option `key`): its claimed smoothness must be > 0 (a rate exponent
/// to test) and, when fitted with A unknown (`joint`), its default spline degree >= 1 (the joint
/// fit's A-step needs phi'). Throws InputError naming the option.
void check_rate_activation(const Settings& settings, const std::string& key, const Activation& phi, bool joint);

}  // namespace attnrate
