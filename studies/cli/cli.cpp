#include "studies/cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <csignal>
#include <new>
#include <algorithm>
#include <functional>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "studies/registry.hpp"
#include "studies/verify/verify.hpp"
#include "theory/rfa/attention_law.hpp"
#include "studies/verify/report.hpp"
#include "theory/rfa/rfa_targets.hpp"
#include "studies/pairwise/minimax_rate.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "studies/io/settings.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {
namespace {

std::vector<KeySpec> simulate_keys() {
  return {
      {"tokens", "uniform", "token law: uniform | gaussian | exchangeable[:rho]"},
      {"N", "8", "tokens per sample (>= 2)"},
      {"d", "5", "token dimension (>= 1)"},
      {"r", "2", "rank of A (1 <= r <= d)"},
      {"sigma", "0.5", "noise standard deviation (>= 0)"},
      {"activation", "weierstrass:1", "phi: bspline:P | weierstrass:b | kink:b | tanh | softplus | gelu | exp"},
      {"M", "2000", "number of samples (>= 2)"},
      {"seed", "7", "seed of the model (A) and the data"},
  };
}

std::vector<KeySpec> fit_keys() {
  return {
      {"data", "", "data CSV (sample,token,x1..xd,y)"},
      {"A", "", "A.csv (d rows of d numbers): fit with A known"},
      {"rank", "", "rank r (1 <= r <= d): learn A and phi jointly (instead of --A)"},
      {"restarts", "4", "seeded restarts of the joint fit (--rank) (>= 1)"},
      {"seed", "1", "seed of the joint fit's restarts (--rank)"},
      {"start", "moment", "start of the joint fit's first restart (--rank): moment (moment estimate of A) or random"},
      {"refit-trim", "0",
       "joint fit (--rank): training interactions cut at each end of the knot interval for the final phi-step "
       "(0 = none; 2 trim < M N (N-1))"},
      {"coarse-pieces", "4",
       "joint fit (--rank): continuation in K, restarts with this many pieces, then doubled up to K, warm-started "
       "(0 = off)"},
      {"degree", "auto", "spline degree 0..10 (auto: floor(beta) with --beta, else 3)"},
      {"knots", "auto", "number of pieces K >= 1"},
      {"beta", "auto", "smoothness b > 0: K = round(M^(1/(2b+1))) when --knots is not given"},
      {"range", "auto", "spline interval a,b (auto: the range of u = X_i^T A X_j in the data)"},
      {"ridge", "0", "ridge lambda (>= 0)"},
  };
}

std::vector<KeySpec> simulate_rfa_keys() {
  return {
      {"n", "2000", "number of samples (>= 2)"},
      {"N", "8", "keys per sample (>= 1)"},
      {"d", "8", "token dimension (>= 1)"},
      {"target", "key-poly:2", "target: inner-poly:p | key-poly:p | mixed:p | cos-inner[:w] | first-key"},
      {"inputs", "sphere", "input law: sphere (uniform on S^(d-1)) | gaussian (N(0, I/d))"},
      {"sigma-eps", "0.1", "noise standard deviation added to the unit-variance target (>= 0)"},
      {"seed", "7", "seed of the inputs, the target's random directions and the noise"},
  };
}

std::vector<KeySpec> fit_rfa_keys() {
  return {
      {"data", "", "attention data CSV (sample,key,x1..xd,y; key 0 is the query)"},
      {"heads", "64", "number of heads M (>= 1)"},
      {"sigma-act", "relu", "score activation: relu | exp | softmax"},
      {"weights", "zero-mean", "law of the frozen W_m: zero-mean | biased"},
      {"mu", "1", "mean scale of the biased law (W_m = mu diag(I_d, 0) + noise)"},
      {"tau", "0.5", "standard deviation of the entries of W_m (>= 0)"},
      {"lambda", "gcv", "ridge lambda: a number > 0, or gcv, or kfold (chosen on the training data)"},
      {"seed", "1", "seed of the frozen W_m (and of the k-fold split)"},
  };
}

void write_matrix_json(nlohmann::json& j, const arma::mat& A) {
  j = nlohmann::json::array();
  for (arma::uword i = 0; i < A.n_rows; ++i) {
    std::vector<double> row(A.n_cols);
    for (arma::uword k = 0; k < A.n_cols; ++k) row[k] = A(i, k);
    j.push_back(row);
  }
}

int cmd_simulate_pairwise(Settings& s, const std::string& out) {
  const PairwiseModelSpec spec = read_pairwise_model_spec(s);
  const auto M = static_cast<std::size_t>(s.get_int("M", 2, std::numeric_limits<long long>::max()));
  const std::uint64_t seed = s.get_seed("seed");
  const PairwiseModel model(spec, derive_seed(seed, {hash_name("model")}));
  PairwiseData data;
  data.N = spec.N;
  data.d = spec.d;
  data.M = M;
  data.X.set_size(spec.d, M * spec.N);
  data.Y.set_size(M * spec.N);
  model.draw_samples(derive_seed(seed, {hash_name("data")}), 0, M, data.X.memptr(), data.Y.memptr());
  const std::filesystem::path out_path(out);
  if (out_path.has_parent_path()) std::filesystem::create_directories(out_path.parent_path());
  write_pairwise_csv(out_path, data);
  const auto a_path = out_path.parent_path() / "A.csv";
  write_matrix_csv(a_path, model.A());
  std::cout << "wrote " << out_path.string() << " (" << M << " samples x " << spec.N << " tokens, d = " << spec.d
            << ") and " << a_path.string() << "\n";
  return 0;
}

// Degree and pieces shared by both fits: --degree, then --knots or --beta (K from the plain
// schedule with c_K = 1).
std::pair<int, int> degree_and_pieces(const Settings& s, std::size_t M, int min_degree) {
  double beta = 0.0;
  const bool has_beta = s.raw("beta") != "auto";
  if (has_beta) beta = s.get_double("beta", 0.0, std::numeric_limits<double>::infinity(), false);
  const int degree = s.raw("degree") != "auto" ? static_cast<int>(s.get_int("degree", min_degree, 10))
                     : has_beta                ? std::clamp(static_cast<int>(std::floor(beta)), min_degree, 10)
                                               : 3;
  int K = 0;
  if (s.raw("knots") != "auto") K = static_cast<int>(s.get_int("knots", 1, std::numeric_limits<long long>::max()));
  else if (has_beta) K = schedule_pieces(Schedule::plain, std::min(beta, degree + 1.0), 1.0, M);
  else throw InputError("give --knots K (pieces) or --beta b (K = round(M^(1/(2b+1))))");
  return {degree, K};
}

void write_phi_csv(const std::filesystem::path& path, double a, double b, const std::function<double(double)>& phi) {
  std::string text = "u,phi_hat\n";
  for (int k = 0; k <= 1000; ++k) {
    const double u = k == 1000 ? b : a + (b - a) * k / 1000.0;
    text += format_double(u) + "," + format_double(phi(u)) + "\n";
  }
  write_file_atomic(path, text);
}

int cmd_fit_pairwise_joint(const Settings& s, const PairwiseData& data, const std::string& out, int threads) {
  ErmOptions opt;
  opt.rank = static_cast<int>(s.get_int("rank", 1, data.d));
  std::tie(opt.degree, opt.pieces) = degree_and_pieces(s, data.M, 1);
  opt.restarts = static_cast<int>(s.get_int("restarts", 1, 1000));
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  const std::string start = s.raw("start");
  if (start == "moment") opt.start = ErmStart::moment;
  else if (start == "random") opt.start = ErmStart::random;
  else throw InputError(s.source("start") + " must be moment or random, got '" + start + "'");
  opt.refit_trim = static_cast<std::size_t>(s.get_int("refit-trim", 0, 1000000000000LL));
  opt.coarse_pieces = static_cast<int>(s.get_int("coarse-pieces", 0, 1000000));
  if (s.raw("range") != "auto")
    throw InputError("--range is not used with --rank: the knot interval follows the range of u = x^T A y");
  if (s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity()) != 0.0)
    throw InputError("--ridge is not available with --rank (the joint fit is plain least squares)");
  const PairwiseErmFit fit = fit_pairwise_erm(data.X, data.Y, data.N, opt);
  nlohmann::json j;
  j["degree"] = opt.degree;
  j["pieces"] = opt.pieces;
  j["knots"] = fit.basis.knots();
  j["coefficients"] = std::vector<double>(fit.coef.begin(), fit.coef.end());
  j["range"] = {fit.basis.a(), fit.basis.b()};
  write_matrix_json(j["A"], fit.A);
  j["rank"] = opt.rank;
  j["train_mse"] = fit.train_risk;
  j["train_risk_note"] = "composed training risk 1/(MN) sum (Y - 1/(N-1) sum_j phi_hat(X_i^T A X_j))^2";
  j["solver"] = "variable projection + L-BFGS; phi-step " + fit.diagnostics.phi_step.solver;
  j["diagnostics"] = {{"iterations", fit.diagnostics.iterations},
                      {"restarts", fit.diagnostics.restarts},
                      {"best_restart", fit.diagnostics.best_restart},
                      {"stop_reason", fit.diagnostics.stop_reason},
                      {"rejected_steps", fit.diagnostics.rejected_steps},
                      {"relative_gradient", fit.diagnostics.relative_gradient},
                      {"start", opt.start == ErmStart::moment ? "moment" : "random"},
                      {"refit_trim", opt.refit_trim},
                      {"train_risk_untrimmed", fit.diagnostics.train_risk_untrimmed},
                      {"phi_step_rcond", fit.diagnostics.phi_step.rcond},
                      {"degenerate_range", fit.diagnostics.degenerate_range}};
  for (const ErmStageReport& st : fit.diagnostics.stages)
    j["diagnostics"]["stages"].push_back(
        {{"pieces", st.pieces}, {"iterations", st.iterations}, {"risk", st.risk}, {"stop_reason", st.stop_reason}});
  j["identifiability"] = "only g(x, y) = phi(x^T A y) is identified: (phi(c u), A / c) gives the same g";
  j["M"] = data.M;
  j["N"] = data.N;
  j["d"] = data.d;
  j["build"] = build_info();
  const std::filesystem::path out_path(out);
  write_file_atomic(out_path, j.dump(2) + "\n");
  const auto phi_path = out_path.parent_path() / "phi.csv";
  write_phi_csv(phi_path, fit.basis.a(), fit.basis.b(), [&fit](double u) { return fit.phi_hat(u); });
  std::cout << "joint fit: rank " << opt.rank << ", K = " << opt.pieces << ", degree = " << opt.degree
            << ", train risk = " << fit.train_risk << ", stop: " << fit.diagnostics.stop_reason << "\nwrote "
            << out_path.string() << " and " << phi_path.string() << "\n";
  return 0;
}

int cmd_fit_pairwise(Settings& s, const std::string& out, int threads) {
  if (s.raw("data").empty()) throw InputError("--data is required (the data CSV to fit)");
  const bool joint = !s.raw("rank").empty();
  if (joint && !s.raw("A").empty()) throw InputError("give either --A A.csv (A known) or --rank r (A unknown), not both");
  if (!joint && s.raw("A").empty()) throw InputError("give --A A.csv (A known) or --rank r (learn A and phi jointly)");
  const PairwiseData data = read_pairwise_csv(s.raw("data"));
  if (joint) return cmd_fit_pairwise_joint(s, data, out, threads);
  for (const char* key : {"restarts", "seed", "start", "refit-trim", "coarse-pieces"})
    if (s.given(key)) throw InputError(s.source(key) + " is an option of the joint fit; it needs --rank r, not --A");
  const arma::mat A = read_matrix_csv(s.raw("A"), data.d);
  const auto [degree, K] = degree_and_pieces(s, data.M, 0);
  const double ridge = s.get_double("ridge", 0.0, std::numeric_limits<double>::infinity());
  double a = 0, b = 0;
  if (!s.get_range("range", a, b)) {
    a = std::numeric_limits<double>::infinity();
    b = -a;
    const arma::mat AX = A * data.X;
    for (std::size_t m = 0; m < data.M; ++m)
      for (int i = 0; i < data.N; ++i)
        for (int j = 0; j < data.N; ++j) {
          if (i == j) continue;
          const double u = arma::dot(data.X.col(m * data.N + i), AX.col(m * data.N + j));
          a = std::min(a, u);
          b = std::max(b, u);
        }
    if (!(a < b)) throw InputError("all interactions u = X_i^T A X_j in the data are equal; give --range a,b");
  }
  const BSplineBasis basis(a, b, K, degree);
  LseOptions opt;
  opt.ridge = ridge;
  opt.threads = threads;
  const PairwiseLseFit fit =
      fit_pairwise_lse(basis, A, data.N, data.d, data.M, in_memory_source(data.X, data.Y, data.N), opt);
  nlohmann::json j;
  j["degree"] = degree;
  j["pieces"] = K;
  j["knots"] = basis.knots();
  j["coefficients"] = std::vector<double>(fit.solution.coef.begin(), fit.solution.coef.end());
  j["range"] = {a, b};
  write_matrix_json(j["A"], A);
  j["train_mse"] = fit.solution.train_mse;
  j["solver"] = fit.solution.solver;
  j["rcond"] = fit.solution.rcond;
  j["ridge"] = ridge;
  j["rank_of_normal_matrix"] = fit.solution.rank;
  j["clamped_interactions"] = fit.normal_equations.clamped;
  j["M"] = data.M;
  j["N"] = data.N;
  j["d"] = data.d;
  j["build"] = build_info();
  const std::filesystem::path out_path(out);
  write_file_atomic(out_path, j.dump(2) + "\n");
  const auto phi_path = out_path.parent_path() / "phi.csv";
  write_phi_csv(phi_path, a, b, [&fit](double u) { return fit.phi_hat(u); });
  std::cout << "fit: K = " << K << ", degree = " << degree << ", solver = " << fit.solution.solver
            << ", train_mse = " << fit.solution.train_mse << "\nwrote " << out_path.string() << " and "
            << phi_path.string() << "\n";
  if (fit.solution.fallback)
    std::cerr << "attnrate: warning: the normal matrix is singular or ill-conditioned (rcond "
              << fit.solution.rcond << "); the minimum-norm solution was used\n";
  return 0;
}

// Attention data: the long format with index "key", key 0 the query; y is the same on every row
// of a sample (one scalar output per sample).
int cmd_simulate_rfa(Settings& s, const std::string& out) {
  const auto n = static_cast<std::size_t>(s.get_int("n", 2, std::numeric_limits<long long>::max()));
  const int N = static_cast<int>(s.get_int("N", 1, 100000));
  const int d = static_cast<int>(s.get_int("d", 1, 100000));
  const double sigma_eps = s.get_double("sigma-eps", 0.0, std::numeric_limits<double>::infinity());
  const std::uint64_t seed = s.get_seed("seed");
  const AttentionLaw law = AttentionLaw::parse(s.get_string("inputs"));
  const RfaTarget target = RfaTarget::parse(s.get_string("target"), d, law, derive_seed(seed, {hash_name("target")}));
  const AttentionInputs in = law.sample(d, N, n, derive_seed(seed, {hash_name("inputs")}));
  arma::vec y = target.evaluate(in);
  Rng noise(derive_seed(seed, {hash_name("noise")}));
  for (auto& v : y) v += sigma_eps * noise.normal();
  LongTable t;
  t.T = N + 1;
  t.d = d;
  t.M = n;
  t.X.set_size(d, n * (N + 1));
  t.Y.set_size(n * (N + 1));
  for (std::size_t m = 0; m < n; ++m) {
    t.X.col(m * (N + 1)) = in.query.col(m);
    t.Y[m * (N + 1)] = y[m];
    for (int i = 0; i < N; ++i) {
      t.X.col(m * (N + 1) + 1 + i) = in.keys.col(m * N + i);
      t.Y[m * (N + 1) + 1 + i] = y[m];
    }
  }
  const std::filesystem::path out_path(out);
  if (out_path.has_parent_path()) std::filesystem::create_directories(out_path.parent_path());
  write_long_csv(out_path, "key", t);
  std::cout << "wrote " << out_path.string() << " (" << n << " samples, query + " << N << " keys, d = " << d
            << ", target " << target.name() << ", sigma_eps " << sigma_eps << ")\n";
  return 0;
}

int cmd_fit_rfa(Settings& s, const std::string& out, int threads) {
  if (s.raw("data").empty()) throw InputError("--data is required (the attention data CSV to fit)");
  const std::string data_path = s.raw("data");
  const LongTable t = read_long_csv(data_path, "key");
  const int N = t.T - 1, d = t.d;
  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query.set_size(d, t.M);
  in.keys.set_size(d, t.M * N);
  arma::vec y(t.M);
  for (std::size_t m = 0; m < t.M; ++m) {
    in.query.col(m) = t.X.col(m * t.T);
    y[m] = t.Y[m * t.T];
    for (int i = 0; i < N; ++i) {
      in.keys.col(m * N + i) = t.X.col(m * t.T + 1 + i);
      if (t.Y[m * t.T + 1 + i] != y[m])
        throw InputError(data_path + ":" + std::to_string(2 + m * t.T + 1 + i) + ":" + std::to_string(d + 3) +
                         ": y must be the same on every row of a sample (one output per sample), got " +
                         format_double(t.Y[m * t.T + 1 + i]) + " after " + format_double(y[m]));
    }
  }
  RfaOptions opt;
  opt.heads = static_cast<int>(s.get_int("heads", 1, 1000000));
  opt.activation = parse_rfa_activation(s.get_string("sigma-act"));
  opt.law = parse_weight_law(s.get_string("weights"));
  opt.mu = s.get_double("mu", -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity());
  opt.tau = s.get_double("tau", 0.0, std::numeric_limits<double>::infinity());
  opt.seed = s.get_seed("seed");
  opt.threads = threads;
  RidgeFitOptions ridge;
  const std::string lambda = s.get_string("lambda");
  if (lambda == "gcv") ridge.rule = LambdaRule::gcv;
  else if (lambda == "kfold") {
    ridge.rule = LambdaRule::kfold;
    ridge.fold_seed = derive_seed(opt.seed, {hash_name("folds")});
  } else {
    ridge.rule = LambdaRule::fixed;
    ridge.lambda = s.get_double("lambda", 0.0, std::numeric_limits<double>::infinity(), false);
  }
  RandomFeatureAttention model(d, opt);
  const RidgeFit fit = model.fit(in, y, ridge);
  nlohmann::json j;
  j["model"] = "random-feature attention";
  j["heads"] = opt.heads;
  j["sigma_act"] = s.get_string("sigma-act");
  j["weights"] = s.get_string("weights");
  j["mu"] = opt.mu;
  j["tau"] = opt.tau;
  j["seed"] = opt.seed;
  j["n"] = t.M;
  j["N"] = N;
  j["d"] = d;
  j["lambda_rule"] = to_string(ridge.rule);
  j["lambda"] = fit.solution.lambda;
  j["lambda_grid"] = std::vector<double>(fit.selection.grid.begin(), fit.selection.grid.end());
  j["lambda_scores"] = std::vector<double>(fit.selection.scores.begin(), fit.selection.scores.end());
  j["form"] = to_string(fit.solution.form);
  j["solver"] = fit.solution.solver;
  j["rcond"] = fit.solution.rcond;
  j["train_mse"] = fit.solution.train_mse;
  j["coefficients"] = std::vector<double>(fit.solution.w.begin(), fit.solution.w.end());
  j["coefficients_layout"] = "v_m = coefficients[m (d+1) .. m (d+1) + d]; the W_m are redrawn from seed";
  j["build"] = build_info();
  write_file_atomic(out, j.dump(2) + "\n");
  std::cout << "RFA fit: M = " << opt.heads << " heads, " << model.feature_count() << " features, lambda = "
            << fit.solution.lambda << " (" << to_string(ridge.rule) << "), " << to_string(fit.solution.form)
            << " form, train_mse = " << fit.solution.train_mse << "\nwrote " << out << "\n";
  return 0;
}

std::string number_text(const nlohmann::json& c, const char* key) {
  std::ostringstream s;
  s << std::setprecision(4);
  if (c.contains(key) && c.at(key).is_number()) s << c.at(key).get<double>();
  else s << "-";
  return s.str();
}

std::string interval_text(const nlohmann::json& c, const char* key) {
  std::ostringstream s;
  s << std::setprecision(4);
  if (c.contains(key) && c.at(key).is_array() && c.at(key).size() == 2 && c.at(key)[0].is_number() &&
      c.at(key)[1].is_number())
    s << "[" << c.at(key)[0].get<double>() << ", " << c.at(key)[1].get<double>() << "]";
  else s << "-";
  return s.str();
}

void print_claims(const nlohmann::json& summary) {
  for (const auto& c : summary.at("claims"))
    std::cout << std::left << std::setw(44) << c.at("id").get<std::string>() << " " << claim_theory_text(c)
              << "  measured " << number_text(c, "measured") << "  CI_t " << interval_text(c, "ci_t") << "  CI_boot "
              << interval_text(c, "ci_boot") << "  tolerance " << number_text(c, "tolerance") << "  -> "
              << c.at("verdict").get<std::string>() << "\n";
}

// What a study measured, one line per measurement.
void print_quantities(const nlohmann::json& summary) {
  for (const auto& q : summary.value("quantities", nlohmann::json::array())) {
    std::string select;
    for (const auto& [k, v] : q.at("select").items()) select += (select.empty() ? "" : ", ") + k + "=" + v.get<std::string>();
    std::cout << std::left << std::setw(20) << q.at("quantity").get<std::string>() << std::setw(40)
              << (select.empty() ? "-" : select) << " " << number_text(q, "value") << "  CI_t " << interval_text(q, "ci_t")
              << "  CI_boot " << interval_text(q, "ci_boot") << "\n";
  }
}

std::string joined_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) line += (i ? " " : "") + std::string(argv[i]);
  return line;
}

int cmd_list(const std::vector<std::filesystem::path>& claims_paths, const std::string& quantities_of) {
  if (!quantities_of.empty()) {
    const StudyDefinition& def = find_study(quantities_of);
    std::cout << "quantities of study " << def.name << " (a claim's `quantity`; its [claim.select] keys):\n";
    for (const auto& q : def.quantities) {
      std::string keys;
      for (const auto& k : q.select) keys += (keys.empty() ? "" : ", ") + k;
      std::cout << "  " << std::left << std::setw(20) << q.name << std::setw(36) << (keys.empty() ? "(one measurement)" : keys)
                << q.description << "\n";
    }
    std::cout << "\noptions (a claim's [claim.params] and [claim.quick] keys):\n";
    for (const auto& k : def.keys())
      std::cout << "  " << std::left << std::setw(20) << k.key << std::setw(20) << k.default_value << k.help << "\n";
    return 0;
  }
  std::cout << "studies (attnrate list --quantities STUDY for what each reports):\n";
  for (const auto& s : all_studies()) std::cout << "  " << std::left << std::setw(20) << s.name << s.description << "\n";
  std::cout << "\nclaims (" << (claims_paths.empty() ? std::string("built in") : std::string("--claims")) << "):\n";
  std::cout << "  " << std::left << std::setw(46) << "id" << std::setw(16) << "study" << std::setw(18) << "quantity"
            << std::setw(24) << "bound theory" << std::setw(11) << "tolerance" << "defined at\n";
  for (const auto& c : load_claims(claims_paths)) {
    std::ostringstream theory;
    theory << std::setprecision(4) << to_string(c.rule.bound) << " ";
    if (c.rule.bound == Bound::within) theory << "[" << c.rule.theory_lo << ", " << c.rule.theory_hi << "]";
    else theory << c.rule.theory_lo;
    std::cout << "  " << std::left << std::setw(46) << c.id << std::setw(16) << c.study << std::setw(18) << c.quantity
              << std::setw(24) << theory.str() << std::setw(11) << c.rule.tolerance << c.place.str() << "\n";
  }
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  pin_blas_to_one_thread();
  CLI::App app{"attnrate: statistical learning theory of attention layers, checked against experiment"};
  app.require_subcommand(1);
  int threads = 0;
  std::string out, config, profile = "full", only, quantities_of;
  std::vector<std::string> claims_paths;
  bool resume = false;

  auto* simulate = app.add_subcommand("simulate", "simulate data from a model");
  simulate->require_subcommand(1);
  auto* sim_pairwise = simulate->add_subcommand("pairwise", "pairwise-interaction model (writes data CSV and A.csv)");
  Settings sim_settings(simulate_keys());
  sim_settings.add_to_cli(*sim_pairwise);
  sim_pairwise->add_option("--out", out, "data CSV to write (A.csv is written beside it)")->required();

  auto* sim_rfa = simulate->add_subcommand("rfa", "attention inputs and a target (writes sample,key,x1..xd,y)");
  Settings sim_rfa_settings(simulate_rfa_keys());
  sim_rfa_settings.add_to_cli(*sim_rfa);
  sim_rfa->add_option("--out", out, "data CSV to write")->required();

  auto* fit = app.add_subcommand("fit", "fit an estimator to data");
  fit->require_subcommand(1);
  auto* fit_pairwise = fit->add_subcommand("pairwise", "least squares over B-splines: A known (--A) or learned (--rank)");
  Settings fit_settings(fit_keys());
  fit_settings.add_to_cli(*fit_pairwise);
  fit_pairwise->add_option("--out", out, "fit.json to write (phi.csv is written beside it)")->required();
  fit_pairwise->add_option("--threads", threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber);

  auto* fit_rfa = fit->add_subcommand("rfa", "random-feature attention: frozen random W_m, ridge on the value vectors");
  Settings fit_rfa_settings(fit_rfa_keys());
  fit_rfa_settings.add_to_cli(*fit_rfa);
  fit_rfa->add_option("--out", out, "fit.json to write")->required();
  fit_rfa->add_option("--threads", threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber);

  auto* study = app.add_subcommand("study", "run a named study (sweep, rate fit, verdicts, figures)");
  study->require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::unique_ptr<Settings>>> study_commands;
  for (const auto& def : all_studies()) {
    auto* sc = study->add_subcommand(def.name, def.description);
    auto settings = std::make_unique<Settings>(def.keys());
    settings->add_to_cli(*sc);
    sc->add_option("--config", config, "TOML file with the same keys (command line wins)");
    sc->add_option("--out", out, "output directory")->required();
    sc->add_option("--threads", threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber);
    sc->add_flag("--resume", resume, "reuse finished cells whose parameters and code revision match");
    study_commands.emplace_back(sc, std::move(settings));
  }

  auto* verify = app.add_subcommand("verify", "check claims (built in, or --claims); write report.md, report.html, summary.json");
  verify->add_option("--claims", claims_paths, "claims file or folder of *.toml files (repeatable); default: the built-in claims");
  verify->add_option("--profile", profile, "quick (seconds) or full (README sizes) [default: full]");
  verify->add_option("--only", only, "glob over claim ids, e.g. 'minimax.*'");
  verify->add_option("--out", out, "output directory")->required();
  verify->add_option("--threads", threads, "threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  verify->add_flag("--resume", resume, "reuse finished cells whose parameters and code revision match");

  auto* list = app.add_subcommand("list", "list studies and claims; --quantities STUDY: what a study reports");
  list->add_option("--claims", claims_paths, "claims file or folder of *.toml files (repeatable); default: the built-in claims");
  list->add_option("--quantities", quantities_of, "a study: its quantities, their select keys and its options");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  install_interrupt_handler();
  try {
    if (*sim_pairwise) {
      sim_settings.apply_cli();
      return cmd_simulate_pairwise(sim_settings, out);
    }
    if (*fit_pairwise) {
      fit_settings.apply_cli();
      return cmd_fit_pairwise(fit_settings, out, threads);
    }
    if (*sim_rfa) {
      sim_rfa_settings.apply_cli();
      return cmd_simulate_rfa(sim_rfa_settings, out);
    }
    if (*fit_rfa) {
      fit_rfa_settings.apply_cli();
      return cmd_fit_rfa(fit_rfa_settings, out, threads);
    }
    for (auto& [sc, settings] : study_commands) {
      if (!*sc) continue;
      if (!config.empty()) settings->load_toml(config);
      settings->apply_cli();
      StudyContext ctx{out, threads, resume, true};
      const nlohmann::json summary = find_study(sc->get_name()).run(*settings, ctx);
      print_quantities(summary);
      std::cout << "results in " << out << "/ (summary.json, cells.csv, figures)\n";
      if (summary.value("quantities", nlohmann::json::array()).empty()) {
        std::cerr << "attnrate: no quantity could be measured"
                  << (summary.contains("error") ? ": " + summary.at("error").get<std::string>() : std::string()) << "\n";
        return 1;
      }
      return 0;
    }
    if (*verify) {
      VerifyOptions vo;
      vo.profile = profile;
      vo.only = only;
      for (const auto& p : claims_paths) vo.claims_paths.emplace_back(p);
      vo.out = out;
      vo.threads = threads;
      vo.resume = resume;
      vo.command_line = joined_command_line(argc, argv);
      const nlohmann::json summary = run_verify(vo);
      print_claims(summary);
      std::map<std::string, int> counts;
      for (const auto& c : summary.at("claims")) ++counts[c.at("verdict").get<std::string>()];
      std::cout << counts["consistent"] << " of " << summary.at("claims").size() << " claims consistent";
      for (const auto& [verdict, n] : counts)
        if (verdict != "consistent") std::cout << ", " << n << " " << verdict;
      std::cout << " (exit code 0 only when every claim is consistent)\n";
      std::cout << "report: " << (std::filesystem::path(out) / "report.html").string() << " (and report.md, summary.json)\n";
      return verify_exit_code(summary);
    }
    if (*list) return cmd_list(std::vector<std::filesystem::path>(claims_paths.begin(), claims_paths.end()), quantities_of);
  } catch (const Interrupted&) {
    const int signal = interrupt_signal();
    std::cerr << "\nattnrate: interrupted (" << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
              << "); finished cells are saved. Rerun the same command with --resume to continue.\n";
    return 128 + signal;
  } catch (const InputError& e) {
    std::cerr << "attnrate: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "attnrate: failed: out of memory; reduce the sizes of the run (see README, validated inputs)\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "attnrate: failed: " << e.what() << "\n";
    return 3;
  }
  return 2;
}

}  // namespace attnrate
