#include "theory/claims/old_claims.hpp"
#include "theory/claims/old_pairwise_claims.hpp"

#include <sstream>

#include "theory/pairwise/activation.hpp"
#include "theory/claims/old_rfa_claims.hpp"

namespace attnrate {
namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

ClaimSpec minimax_claim(const std::string& b) {
  const double beta = std::stod(b);
  const int degree = Activation::parse("weierstrass:" + b).default_degree();
  ClaimSpec c;
  c.id = "minimax.weierstrass.b" + b + ".slope";
  c.statement = "With A known, least squares over degree-" + std::to_string(degree) +
                " B-splines learns g = phi(x^T A y) for a " + b + "-Hoelder phi at the rate M^(-2b/(2b+1)) = M^" +
                fmt(-minimax_exponent(beta, degree));
  c.source = "Zucker, Wang, Lu, Seroussi: minimax rate of learning pairwise interactions, main theorem (A known)";
  c.study = "minimax-rate";
  c.quantity = "slope";
  c.theory_value = -minimax_exponent(beta, degree);
  c.tolerance = 0.05;
  c.max_ci_width = 0.3;
  c.full = {{"activation", "weierstrass:" + b}, {"tolerance", "0.05"}, {"max-ci-width", "0.3"}};
  // Quick: a quarter of the sweep, so the intervals are wider; the claim keeps its tolerance.
  c.quick = {{"activation", "weierstrass:" + b}, {"M", "1000:16000:x2"}, {"seeds", "6"}, {"test-pairs", "50000"},
             {"tolerance", "0.05"}, {"max-ci-width", "0.4"}};
  return c;
}

}  // namespace

const std::vector<ClaimSpec>& claim_registry() {
  static const std::vector<ClaimSpec> claims = [] {
    std::vector<ClaimSpec> c = {
        minimax_claim("0.5"),
        minimax_claim("1"),
        minimax_claim("1.5"),
    };
    append_rfa_claims(c);
    append_pairwise_claims(c);
    return c;
  }();
  return claims;
}

bool glob_match(const std::string& p, const std::string& t) {
  std::size_t i = 0, j = 0, star = std::string::npos, mark = 0;
  while (j < t.size()) {
    if (i < p.size() && (p[i] == '?' || p[i] == t[j])) {
      ++i;
      ++j;
    } else if (i < p.size() && p[i] == '*') {
      star = i++;
      mark = j;
    } else if (star != std::string::npos) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.size() && p[i] == '*') ++i;
  return i == p.size();
}

std::vector<ClaimSpec> select_claims(const std::string& pattern) {
  std::vector<ClaimSpec> out;
  for (const auto& c : claim_registry())
    if (pattern.empty() || glob_match(pattern, c.id)) out.push_back(c);
  return out;
}

}  // namespace attnrate
