#include "studies/commands/fit_pairwise.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "studies/commands/pairwise_fit_json.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/pairwise/pairwise_options.hpp"
#include "studies/sweep/study.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

std::vector<KeySpec> fit_pairwise_keys() {
  std::vector<KeySpec> k = {
      {"data", "", "data CSV (sample,token,x1..xd,y)", "PATH"},
      {"A", "", "A file (d rows of d numbers, e.g. data.A.csv from simulate): fit with A known", "PATH"},
      {"rank", "", "rank r (1 <= r <= d): learn A and phi jointly (instead of --A)", "INT"},
      {"restarts", "4", "seeded restarts of the joint fit (--rank) (1..1000)"},
      {"seed", "1", "seed of the joint fit's restarts (--rank)"},
      {"start", "moment", "start of the joint fit's first restart (--rank): moment (moment estimate of A) or random"},
      {"refit-trim", "0",
       "joint fit (--rank): training interactions cut at each end of the knot interval for the final phi-step "
       "(0 = none; 2 trim < M N (N-1))"},
      {"coarse-pieces", "4",
       "joint fit (--rank): continuation in K, restarts with this many pieces, then doubled up to K, "
       "warm-started (0 = off; at most 1000000)"},
      {"restart-samples", "2000",
       "joint fit (--rank): with 2 or more restarts, their coarse stage runs on the first this many samples in "
       "file order, the best restart then on all samples (0, or at least M: all samples; shuffle data whose order "
       "matters) (0..2^53)"},
      {"degree", "auto", "spline degree 0..10 (auto: floor(beta) up to 10 with --beta, else 3)", "INT|auto"},
      {"knots", "auto", "number of pieces K (1..2147483637, within --max-memory)", "INT|auto"},
      {"beta", "auto", "smoothness b > 0: K = round(M^(1/(2b+1))) when --knots is not given", "FLOAT|auto"},
      {"range", "auto", "spline interval a,b (auto: the range of u = X_i^T A X_j in the data)", "A,B|auto"},
      {"ridge", "0", "ridge lambda (>= 0)", "FLOAT"},
      {"schedule", "fixed",
       "fixed (K from --knots or --beta) | adaptive (degree and K selected from the data, b unused; with --rank: "
       "pilot joint fit, selection, joint fit in the selected space, selection again)"},
  };
  for (auto& e : adaptive_selection_keys()) k.push_back(e);
  return with_resource_keys(std::move(k), true);
}

int max_pieces() { return std::numeric_limits<int>::max() - BSplineBasis::max_degree; }

namespace {

void write_phi_csv(const std::filesystem::path& path, double a, double b, const std::function<double(double)>& phi) {
  std::string text = "u,phi_hat\n";
  for (int k = 0; k <= 1000; ++k) {
    const double u = k == 1000 ? b : a + (b - a) * k / 1000.0;
    text += format_double(u) + "," + format_double(phi(u)) + "\n";
  }
  write_file_atomic(path, text);
}

// Where a fit writes and what it may use, validated before the data are read.
struct FitPlan {
  std::string data_path;  // --data, for the messages of errors the data cause
  std::filesystem::path out, phi_path;
  int threads = 0;
  MemoryBudget budget;
  ReadLimits limits;
};

// fit.json, with the data's sizes and the build information, and its phi table on [a, b]: one
// set, which an interruption never leaves half written.
void write_fit_outputs(nlohmann::json& j, const PairwiseData& data, const FitPlan& plan, double a, double b,
                       const std::function<double(double)>& phi) {
  j["M"] = data.M;
  j["N"] = data.N;
  j["d"] = data.d;
  j["build"] = build_info();
  const InterruptsDeferred one_set;
  write_file_atomic(plan.out, j.dump(2) + "\n");
  write_phi_csv(plan.phi_path, a, b, phi);
}

constexpr const char* kReduceFit = "lower --knots (or raise --beta), or fit less data";
constexpr const char* kReduceAdaptiveFit = "lower --max-knots or --max-degree, or fit less data";

std::string selected_space_message(const AdaptiveSplineFit& fit, const nlohmann::json& b_hat) {
  const SplineCandidate& sel = fit.candidates[fit.selected];
  std::ostringstream m;
  m << "(" << to_string(fit.rule) << ", " << fit.candidates.size() << " candidates): K = " << sel.pieces
    << ", degree = " << sel.degree;
  if (fit.rule == SelectionRule::mixture) {
    int mixed = 0;
    for (const SplineCandidate& c : fit.candidates) mixed += c.weight > 0.0;
    m << " selected; phi_hat mixes " << mixed << " space" << (mixed == 1 ? "" : "s") << " (";
    const char* sep = "";
    for (const SplineTerm& t : fit.estimate.phi.terms()) {
      m << sep << "degree " << t.basis.degree() << " on K = " << t.basis.pieces();
      sep = "; ";
    }
    m << ")";
  }
  m << ", train_mse = " << fit.estimate.train_risk;
  if (!b_hat["value"].is_number()) {
    m << ", b_hat: none (" << b_hat.value("why_no_value", std::string("undefined")) << ")";
    return m.str();
  }
  m << ", b_hat = " << b_hat["value"].get<double>();
  if (b_hat["ci_t"][0].is_number())
    m << " [" << b_hat["ci_t"][0].get<double>() << ", " << b_hat["ci_t"][1].get<double>() << "]";
  else
    m << " (no interval: " << b_hat.value("why_no_interval", std::string("undefined")) << ")";
  if (b_hat.contains("at_bound")) m << " (" << b_hat["at_bound"].get<std::string>() << ")";
  m << " (rough: selected K over subsamples)";
  return m.str();
}

// fit.json's warnings, printed by the command on standard error.
std::vector<std::string> warnings_of(const nlohmann::json& j) { return j.at("warnings").get<std::vector<std::string>>(); }

// A known, the space selected from the data, with b_hat by subsampling (known_A_b_hat).
CommandReport fit_adaptive(const PairwiseData& data, const arma::mat& A, const KnownARange& range,
                           const AdaptiveSplineOptions& opt, const FitPlan& plan) {
  const double a = range.a, b = range.b;
  const SampleBlockSource source = in_memory_source(data.X, data.Y, data.N);
  const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, A, data.N, data.d, data.M, source, opt);
  nlohmann::json j = adaptive_fit_json(fit, A, opt);
  j["b_hat"] = known_A_b_hat(fit, a, b, A, data.N, data.d, data.M, source, opt);
  j["warnings"] = with_range_warnings(range, adaptive_fit_warnings(fit, j["b_hat"], data.M, data.N, true));
  write_fit_outputs(j, data, plan, a, b, [&fit](double u) { return fit.phi_hat(u); });
  return {"adaptive fit " + selected_space_message(fit, j["b_hat"]) + "\nwrote " + plan.out.string() + " and " +
              plan.phi_path.string() + "\n",
          warnings_of(j)};
}

// A unknown, the space selected from the data (estimators/pairwise_erm/adaptive_erm), with b_hat
// by subsampling (joint_b_hat).
CommandReport fit_joint_adaptive(const PairwiseData& data, const AdaptiveErmOptions& opt, const FitPlan& plan) {
  const AdaptiveErmFit fit = on_data_file(plan.data_path, [&] { return fit_adaptive_erm(data.X, data.Y, data.N, opt); });
  nlohmann::json j = adaptive_joint_fit_json(fit, opt);
  j["b_hat"] = joint_b_hat(fit, data.X, data.Y, data.N, opt);
  j["warnings"] = adaptive_fit_warnings(fit.selection, j["b_hat"], data.M, data.N, false);
  write_fit_outputs(j, data, plan, fit.selection.a, fit.selection.b, [&fit](double u) { return fit.phi_hat(u); });
  return {"adaptive joint fit: rank " + std::to_string(opt.erm.rank) + " " +
              selected_space_message(fit.selection, j["b_hat"]) + "\nwrote " + plan.out.string() + " and " +
              plan.phi_path.string() + "\n",
          warnings_of(j)};
}

CommandReport fit_joint(const Settings& s, const PairwiseData& data, const FitPlan& plan) {
  const int threads = plan.threads;
  const JointFitOptions jo = read_joint_fit_options(s, data.M, data.d, threads);
  const ErmOptions& opt = jo.erm;
  pairwise_fit_memory(data.M, data.N, data.d, opt.degree, opt.pieces, threads, 2.0, 2.0 * opt.rank,
                      static_cast<double>(opt.refit_trim))
      .check(plan.budget, "fit pairwise", jo.adaptive ? kReduceAdaptiveFit : kReduceFit);
  if (jo.adaptive) return fit_joint_adaptive(data, jo.adapt, plan);
  const PairwiseErmFit fit = on_data_file(plan.data_path, [&] { return fit_pairwise_erm(data.X, data.Y, data.N, opt); });
  nlohmann::json j = joint_fit_json(fit, opt);
  j["warnings"] = joint_fit_warnings(fit);
  write_fit_outputs(j, data, plan, fit.basis.a(), fit.basis.b(), [&fit](double u) { return fit.phi_hat(u); });
  std::ostringstream m;
  m << "joint fit: rank " << opt.rank << ", K = " << opt.pieces << ", degree = " << opt.degree
    << ", train risk = " << fit.train_risk << ", stop: " << fit.diagnostics.stop_reason;
  if (fit.diagnostics.restart_samples < data.M)
    m << "\nrestarts ran on the first " << fit.diagnostics.restart_samples << " of " << data.M
      << " samples (--restart-samples; shuffle data whose order matters)";
  m << "\nwrote " << plan.out.string()
    << " and " << plan.phi_path.string() << "\n";
  return {m.str(), warnings_of(j)};
}

CommandReport fit_known_A(const Settings& s, const PairwiseData& data, const FitPlan& plan) {
  const int threads = plan.threads;
  const KnownAFitOptions o = read_known_A_fit_options(s, data.M, threads);
  const arma::mat A = read_matrix_csv(s.raw("A"), data.d, plan.limits);
  // Adaptive: the memory of the largest candidate (degree max-degree, the top of the K grid), per fold.
  pairwise_fit_memory(data.M, data.N, data.d, o.degree, o.pieces, threads, o.range ? 1.0 : 2.0, 0.0, 0.0)
      .check(plan.budget, "fit pairwise", o.adaptive ? kReduceAdaptiveFit : kReduceFit);
  const KnownARange range =
      on_data_file(plan.data_path, [&] { return known_A_range(data.X, A, data.M, data.N, o.range, "--range a,b", threads); });
  const double a = range.a, b = range.b;
  if (o.adaptive) return fit_adaptive(data, A, range, o.adapt, plan);
  const BSplineBasis basis(a, b, o.pieces, o.degree);
  const PairwiseLseFit fit =
      fit_pairwise_lse(basis, A, data.N, data.d, data.M, in_memory_source(data.X, data.Y, data.N), o.adapt.lse);
  nlohmann::json j = known_A_fit_json(fit, A, o.ridge);
  j["warnings"] = with_range_warnings(range, known_A_fit_warnings(fit, data.M, data.N));
  write_fit_outputs(j, data, plan, a, b, [&fit](double u) { return fit.phi_hat(u); });
  std::ostringstream m;
  m << "fit: K = " << o.pieces << ", degree = " << o.degree << ", solver = " << fit.solution.solver
    << ", train_mse = " << fit.solution.train_mse << "\nwrote " << plan.out.string() << " and " << plan.phi_path.string()
    << "\n";
  return {m.str(), warnings_of(j)};
}

}  // namespace

CommandReport fit_pairwise(const Settings& s, const std::filesystem::path& out, int threads) {
  if (s.raw("data").empty()) throw InputError("--data is required (the data CSV to fit)");
  const bool joint = !s.raw("rank").empty();
  if (joint && !s.raw("A").empty()) throw InputError("give either --A FILE (A known) or --rank r (A unknown), not both");
  if (!joint && s.raw("A").empty()) throw InputError("give --A FILE (A known; simulate pairwise writes NAME.A.csv) or --rank r (learn A and phi jointly)");
  const FitPlan plan{s.raw("data"), out, sidecar_path(out, ".phi.csv"), threads, memory_budget(s), read_limits(s)};
  std::vector<NamedPath> inputs{{"--data", s.raw("data")}};
  if (!joint) inputs.push_back({"--A", s.raw("A")});
  check_outputs({{"--out", plan.out}, {"--out (phi beside it)", plan.phi_path}}, inputs);
  const PairwiseData data = read_pairwise_csv(s.raw("data"), plan.limits);
  return joint ? fit_joint(s, data, plan) : fit_known_A(s, data, plan);
}

}  // namespace attnrate
