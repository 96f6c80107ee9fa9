#include "theory/claims/old_pairwise_claims.hpp"

#include <string>

#include "theory/pairwise/activation.hpp"

namespace attnrate {
namespace {

const char* kSource = "Zucker, Wang, Lu, Seroussi: minimax rate of learning pairwise interactions";

// Quick: d in {1, 5}, M 1000..8000, 4 seeds (about 30 s). Full: the study's default sizes for the d
// series of bspline:3 and weierstrass:2 at d in {1, 5}, without the N and r series (these claims
// do not use them).
SettingOverrides dimfree_quick() {
  return {{"activations", "bspline:3,weierstrass:2"},
          {"d-values", "1,5"},
          {"N-values", "8"},
          {"r-values", "1"},
          {"M", "1000:8000:x2"},
          {"seeds", "4"},
          {"test-pairs", "20000"},
          {"tolerance", "0.05"},
          {"max-ci-width", "0.5"}};
}
SettingOverrides dimfree_full() {
  return {{"activations", "bspline:3,weierstrass:2"}, {"d-values", "1,5"}, {"N-values", "8"},
          {"r-values", "1"},                          {"tolerance", "0.05"}, {"max-ci-width", "0.3"}};
}

// Both activations have b = 2 (bspline:3 in the paper's convention b = P - 1; weierstrass:2
// exactly), degree 3, slope -0.8.
struct DimfreeActivation {
  const char* name;  // as --activations spells it
  const char* tag;   // in the study's claim ids
  const char* note;  // smoothness convention, for the statement
};
constexpr DimfreeActivation kBspline3{"bspline:3", "bspline.P3", "b = P-1 = 2"};
constexpr DimfreeActivation kWeierstrass2{"weierstrass:2", "weierstrass.b2", "Hoelder exponent exactly 2"};

ClaimSpec dimfree_slope(const DimfreeActivation& act, int d) {
  const double theory = -minimax_exponent(2.0, 3);
  ClaimSpec c;
  c.id = std::string("dimfree.") + act.tag + ".d" + std::to_string(d) + ".slope";
  c.statement = std::string("With A unknown (joint fit), the composed L2(rho) error for phi = ") + act.name + " (" +
                act.note + ") at d = " + std::to_string(d) + " decays like M^-0.8";
  // r d = d above the knee (M / log M)^(1/5) (at most 3.9 for the M of both profiles): the bound adds
  // r d log M / M and the study judges the slope against [-1, -0.8].
  if (d > 1)
    c.statement += ", or, with r d = " + std::to_string(d) +
                   " above the rank-condition knee at these M, with a slope between -1 and -0.8 (the bound's "
                   "parametric term r d log M / M)";
  c.source = std::string(kSource) + ", main theorem and Figure 1 (A unknown)";
  c.study = "dimension-free";
  c.quantity = "slope";
  c.theory_value = theory;
  c.tolerance = 0.05;
  c.max_ci_width = 0.3;
  c.quick = dimfree_quick();
  c.full = dimfree_full();
  return c;
}

ClaimSpec dimfree_ratio(const DimfreeActivation& act) {
  ClaimSpec c;
  c.id = std::string("dimfree.") + act.tag + ".d.ratio";
  c.statement = std::string("With A unknown, the errors for phi = ") + act.name +
                " at d = 1 and d = 5 at the largest M lie within a factor 2 of each other";
  c.source = std::string(kSource) + " (the rate does not depend on d)";
  c.study = "dimension-free";
  c.quantity = "ratio";
  c.theory_value = 2.0;
  c.quick = dimfree_quick();
  c.full = dimfree_full();
  return c;
}

ClaimSpec coercivity(const std::string& law) {
  ClaimSpec c;
  c.id = "coercivity." + law;
  c.statement = "The normal matrix of the A-known least squares is coercive in L2(rho) for " + law +
                " tokens: lambda_min(G, Gamma) > 0.01 at the largest M";
  c.source = std::string(kSource) + ", coercivity condition";
  c.study = "coercivity";
  c.quantity = "coercivity constant";
  c.theory_value = 0.01;
  c.quick = {{"M", "250:4000:x4"}, {"seeds", "4"}, {"gram-pairs", "100000"}};
  c.full = {};
  return c;
}

// The rank condition r d <= (M / log M)^(1/(2b+1)) at the study's defaults (M = 4000, bspline:3,
// d in {1..32}, r = 1; about 10 s): both profiles run the defaults.
ClaimSpec rank_condition(bool below) {
  ClaimSpec c;
  c.study = "rank-condition";
  c.source = std::string(kSource) + ", condition r d <= (M / log M)^(1/(2b+1))";
  if (below) {
    c.id = "rank.below-knee.ratio";
    c.statement = "Below the knee (M / log M)^(1/(2b+1)) the composed error grows with r d by at most a factor 2";
    c.quantity = "ratio";
    c.theory_value = 2.0;
  } else {
    c.id = "rank.above-knee.growth";
    c.statement = "Above the knee the parametric term r d log M / M takes over: the error grows with r d "
                  "(slope of log error on log(r d) > 0)";
    c.quantity = "slope";
    c.theory_value = 1.0;
  }
  c.quick = {};
  c.full = {};
  return c;
}

}  // namespace

void append_pairwise_claims(std::vector<ClaimSpec>& claims) {
  for (const DimfreeActivation& act : {kBspline3, kWeierstrass2}) {
    claims.push_back(dimfree_slope(act, 1));
    claims.push_back(dimfree_slope(act, 5));
    claims.push_back(dimfree_ratio(act));
  }
  for (const char* law : {"uniform", "gaussian", "exchangeable"}) claims.push_back(coercivity(law));
  claims.push_back(rank_condition(true));
  claims.push_back(rank_condition(false));
}

}  // namespace attnrate
