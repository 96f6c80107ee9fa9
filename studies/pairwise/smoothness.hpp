#pragma once
// `attnrate study smoothness`: the fitted slope of log error on log M against the smoothness b:
// bspline:P fitted with A unknown (erm+refit, the paper's b = P-1) and weierstrass:b fitted with
// A known (least squares, exact Hoelder b). Quantity:
//   slope  one per activation (select activation, A = known | unknown); details carry the
//          smoothness (Hoelder, claimed, convention) and the reference slope -2b/(2b+1).

#include "studies/study_definition.hpp"

namespace attnrate {

/// The study: its options, quantities, check and runner (studies/study_definition.hpp).
StudyDefinition smoothness_study();

}  // namespace attnrate
