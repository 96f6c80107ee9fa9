#include "studies/pairwise/pairwise_options.hpp"

#include <limits>

#include "estimators/common/input_error.hpp"

namespace attnrate {
namespace {

std::string help(const std::string& what, const std::string& detail, const std::string& range) {
  return what + (detail.empty() ? "" : " " + detail) + " (" + range + ")";
}

}  // namespace

KeySpec token_law_key(const std::string& default_value) {
  return {"tokens", default_value, "token law: uniform | gaussian | exchangeable[:rho]"};
}

KeySpec tokens_per_sample_key(const std::string& default_value, const std::string& detail) {
  return {"N", default_value, help("tokens per sample", detail, "2..100000")};
}

KeySpec token_dimension_key(const std::string& default_value, const std::string& detail) {
  return {"d", default_value, help("token dimension", detail, "1..100000")};
}

KeySpec interaction_rank_key(const std::string& default_value, const std::string& detail) {
  return {"r", default_value, help("rank of A", detail, "1 <= r <= d")};
}

KeySpec activation_key(const std::string& default_value) {
  return {"activation", default_value, "phi: bspline:P | weierstrass:b | kink:b | tanh | softplus | gelu | exp"};
}

KeySpec test_pairs_key(const std::string& default_value) {
  return {"test-pairs", default_value, "fresh pairs for the composed L2(rho) error (1000..10^9)"};
}

std::vector<KeySpec> adaptive_selection_keys() {
  return {
      {"select", "mixture",
       "--schedule adaptive: mixture (phi_hat mixes every candidate with exponential weights of their C_p) | cv "
       "(k-fold cross-validation) | cv-refit (cv that also refits A in each fold where A is fitted) | penalty "
       "(BIC-type)"},
      {"folds", "5", "--schedule adaptive: cross-validation folds (2..100, <= every M)"},
      {"max-degree", "3", "--schedule adaptive: candidate degrees 0..max-degree (0..10)"},
      {"max-knots", "auto", "--schedule adaptive: largest K of the grid 1, 2, 4, ... (auto: M / ln(M)^2; 1..1048576)", "INT|auto"},
      {"penalty", "1", "--schedule adaptive --select penalty: c_pen of the penalty rule (> 0)", "FLOAT"},
  };
}

void read_adaptive_selection(const Settings& s, AdaptiveSplineOptions& options) {
  try {
    options.rule = parse_selection_rule(s.get_string("select"));
  } catch (const InputError&) {  // named where it was given (a --config file's key, or --select)
    throw InputError(s.label("select") + " must be mixture, cv, cv-refit or penalty, got '" + s.raw("select") + "'");
  }
  options.folds = s.get_count("folds", 2, 100);
  options.max_degree = s.get_count("max-degree", 0, BSplineBasis::max_degree);
  options.max_pieces = s.raw("max-knots") == "auto" ? 0 : s.get_count("max-knots", 1, 1 << 20);
  options.penalty = s.get_double("penalty", 0.0, std::numeric_limits<double>::infinity(), false);
  if (options.rule != SelectionRule::penalty && s.given("penalty"))
    throw InputError(s.source("penalty") + " is an option of --select penalty (the selection rule is " +
                     s.raw("select") + ")");
}

void refuse_adaptive_selection(const Settings& s, const std::string& context) {
  for (const auto& k : adaptive_selection_keys())
    if (s.given(k.key))
      throw InputError(s.source(k.key) + " is an option of --schedule adaptive" + (context.empty() ? "" : " ") + context);
}

void read_token_shape(const Settings& s, PairwiseModelSpec& spec) {
  spec.N = static_cast<int>(s.get_int("N", 2, 100000));
  spec.d = static_cast<int>(s.get_int("d", 1, 100000));
  // r's upper end is another option: say which, so the message does not read as a fixed limit.
  const long long r = s.get_int("r", 1, 100000);
  if (r > spec.d)
    throw InputError(s.source("r") + " must be at most " + s.label("d") + " = " + std::to_string(spec.d) +
                     " (A is d x d of rank r), got " + std::to_string(r));
  spec.r = static_cast<int>(r);
}

std::string read_token_law_name(const Settings& s) {
  return s.get_parsed("tokens", [](const std::string& t) {
    (void)TokenLaw::parse(t);
    return t;
  });
}

}  // namespace attnrate
