#include "studies/rfa/rfa_common.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/io/output.hpp"
#include "studies/sweep/study_summary.hpp"

namespace attnrate {

void add_noise(arma::vec& y, double sigma, std::uint64_t seed) {
  Rng noise(seed);
  for (auto& v : y) v += sigma * noise.normal();
}

std::string format_short(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

TestError normalised_test_error(const arma::vec& prediction, const arma::vec& truth) {
  if (prediction.n_elem != truth.n_elem || truth.n_elem < 2)
    throw InputError("normalised_test_error: prediction and truth must have the same length >= 2");
  const double T = static_cast<double>(truth.n_elem);
  double m = 0.0;
  for (double v : truth) m += v;
  m /= T;
  double var = 0.0, sum = 0.0;
  for (arma::uword i = 0; i < truth.n_elem; ++i) {
    var += (truth[i] - m) * (truth[i] - m);
    const double e = prediction[i] - truth[i];
    sum += e * e;
  }
  var /= T - 1.0;
  const double mse = sum / T;
  double ss = 0.0;
  for (arma::uword i = 0; i < truth.n_elem; ++i) {
    const double e = prediction[i] - truth[i];
    ss += (e * e - mse) * (e * e - mse);
  }
  return {mse / var, std::sqrt(ss / (T - 1.0) / T) / var};
}

namespace {
std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}
}  // namespace

std::vector<std::string> get_string_list(const Settings& s, const std::string& key) {
  std::vector<std::string> out = s.get_list(key);
  if (out.empty()) throw InputError(s.source(key) + " must not be empty");
  return out;
}

std::vector<double> get_double_list(const Settings& s, const std::string& key, double min, double max) {
  std::vector<double> out;
  for (const auto& item : get_string_list(s, key)) {
    double v = std::numeric_limits<double>::quiet_NaN();
    if (!parse_double(item, v) || !std::isfinite(v) || v < min || v > max) {
      std::ostringstream m;
      m << s.source(key) << " must be a comma-separated list of numbers in [" << min << ", " << max << "], got '"
        << item << "'";
      throw InputError(m.str());
    }
    out.push_back(v);
  }
  return out;
}

void refuse_folds_above_samples(const Settings& s, const std::string& key, const RidgeFitOptions& ridge,
                                std::size_t fewest, const std::string& where) {
  if (ridge.rule == LambdaRule::kfold && fewest < static_cast<std::size_t>(ridge.folds))
    throw InputError(s.source(key) + " " + s.raw(key) + " needs at least " + std::to_string(ridge.folds) +
                     " training samples (one per fold), but " + where + "; use fewer folds (kfold:K) or gcv");
}

RidgeFitOptions parse_lambda(const Settings& s, const std::string& key, bool positive) {
  RidgeFitOptions o;
  const std::string v = trim(s.raw(key));
  if (v == "gcv") {
    o.rule = LambdaRule::gcv;
  } else if (v == "kfold" || v.rfind("kfold:", 0) == 0) {
    o.rule = LambdaRule::kfold;
    if (v != "kfold") {
      const std::string k = v.substr(6);
      std::size_t used = 0;
      long folds = 0;
      try {
        folds = std::stol(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != k.size() || folds < 2 || folds > 100)
        throw InputError(s.source(key) + ": kfold:K needs an integer K in [2, 100], got '" + v + "'");
      o.folds = static_cast<int>(folds);
    }
  } else {
    std::size_t used = 0;
    double x = -1;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || !std::isfinite(x) || x < 0 || (positive && x == 0))
      throw InputError(positive ? s.source(key) + " must be a number > 0 (or gcv, kfold, kfold:K), got '" + v + "'"
                                : s.source(key) + " must be gcv, kfold, kfold:K or a number >= 0, got '" + v + "'");
    o.rule = LambdaRule::fixed;
    o.lambda = x;
  }
  return o;
}

std::string StudyTarget::identity() const {
  return first_key_only_ ? "first-key-poly:" + target_.front().identity().substr(std::string("key-poly:").size())
                         : target_.front().identity();
}

StudyTarget::StudyTarget(const std::string& spec, int d, const AttentionLaw& law, std::uint64_t seed) {
  // A target name has no comma: a list here is a list where one target belongs.
  if (spec.find(',') != std::string::npos)
    throw InputError("takes one target, got the list \"" + spec + "\"; give one (rfa-vs-mlp takes a list)");
  const std::string name = spec.substr(0, spec.find(':'));
  if (name == "first-key-poly" && spec.find(':') == std::string::npos)
    throw InputError("target first-key-poly needs a degree, e.g. \"first-key-poly:2\"");
  if (name != "first-key-poly" && !RfaTarget::known_name(name))
    throw InputError("unknown target \"" + spec + "\"; valid: " + RfaTarget::valid_names() +
                     ", first-key-poly:p (key-poly:p of the first key alone)");
  const std::string prefix = "first-key-poly:";
  if (spec.rfind(prefix, 0) == 0) {
    first_key_only_ = true;
    invariant_ = false;
    target_.push_back(RfaTarget::parse("key-poly:" + spec.substr(prefix.size()), d, law, seed));
    name_ = "first-key-poly:" + spec.substr(prefix.size());
  } else {
    target_.push_back(RfaTarget::parse(spec, d, law, seed));
    invariant_ = target_[0].is_permutation_invariant();
    name_ = target_[0].name();
  }
}

arma::vec StudyTarget::evaluate(const AttentionInputs& inputs) const {
  if (!first_key_only_) return target_[0].evaluate(inputs);
  AttentionInputs first;
  first.d = inputs.d;
  first.N = 1;
  first.query = inputs.query;
  first.keys.set_size(inputs.d, inputs.n());
  for (std::size_t s = 0; s < inputs.n(); ++s) first.keys.col(s) = inputs.keys.col(s * inputs.N);
  return target_[0].evaluate(first);  // normalised for one key: exactly unit variance
}

double StudyTarget::invariant_floor(int N) const {
  if (invariant_) return -1.0;
  if (first_key_only_) return 1.0 - 1.0 / N;
  const auto& m = target_[0].raw_moments();
  return 1.0 - (m.covariance + (m.variance - m.covariance) / N) / m.variance;
}

std::string file_stem(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '-';
  return s;
}

double geometric_mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

RfaOptions cell_layer(int heads, RfaActivation activation, WeightLaw law, double mu, double tau, std::uint64_t seed) {
  RfaOptions o;
  o.heads = heads;
  o.activation = activation;
  o.law = law;
  o.mu = mu;
  o.tau = tau;
  o.seed = seed;
  o.threads = 1;
  return o;
}

void check_study_targets(const Settings& s, const std::string& key, const std::vector<std::string>& targets, int d,
                         const AttentionLaw& law) {
  // One target however it is written: cos-inner, cos-inner:3 and cos-inner:3.0 at d = 4.
  std::vector<std::pair<std::string, std::string>> seen;  // identity, as written
  for (const auto& t : targets) {
    const std::string name =
        s.get_parsed(key, [&](const std::string&) { return StudyTarget(t, d, law, 0); }).identity();
    for (const auto& [other, written] : seen)
      if (other == name)
        throw InputError(s.source(key) + " has repeated entries: '" + written + "' and '" + t + "' are the same target");
    seen.emplace_back(name, t);
  }
}

nlohmann::json fit_targets_over_n(RandomFeatureAttention& rfa, const AttentionLaw& law, int d, int N,
                                  const std::vector<std::size_t>& sizes, const std::vector<StudyTarget>& targets,
                                  const arma::mat& test_features, const std::vector<arma::vec>& test_truth,
                                  double sigma, const RidgeFitOptions& ridge, const TargetFitSeeds& seeds,
                                  const nlohmann::json& labels) {
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t n : sizes) {
    const AttentionInputs train = law.sample(d, N, n, seeds.train(n));
    auto t0 = std::chrono::steady_clock::now();
    const arma::mat F = rfa.features(train);
    const double feat = seconds_since(t0);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      t0 = std::chrono::steady_clock::now();
      arma::vec y = targets[k].evaluate(train);
      add_noise(y, sigma, seeds.noise(n, targets[k].name()));
      RidgeFitOptions options = ridge;
      options.fold_seed = seeds.folds(n);
      const RidgeFit fit = rfa.fit_features(F, y, options);
      const TestError e = normalised_test_error(test_features * fit.solution.w, test_truth[k]);
      nlohmann::json row = labels;
      row.update({{"n", n},
                  {"target", targets[k].name()},
                  {"error", e.error},
                  {"error_se", e.se},
                  {"lambda", fit.solution.lambda},
                  {"lambda_at_edge", fit.selection.at_edge},
                  {"solver", fit.solution.solver},
                  {"seconds", seconds_since(t0) + feat / static_cast<double>(targets.size())}});
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

void check_target_row(const nlohmann::json& row, std::size_t k, const nlohmann::json& labels, std::size_t n,
                      const std::string& target) {
  std::size_t row_n = 0;
  std::string row_target;
  read_checkpoint_field(row, "n", row_n);
  read_checkpoint_field(row, "target", row_target);
  bool same = row_n == n && row_target == target;
  for (const auto& [key, value] : labels.items()) same = same && row.contains(key) && row.at(key) == value;
  if (!same) throw InputError("row " + std::to_string(k) + " of a cell is not the expected (" + labels.dump() + ", n " +
                              std::to_string(n) + ", target " + target + ")");
  check_fit_fields(row);
}

nlohmann::json n_eps_record(const std::vector<Crossing>& crossings) {
  std::vector<double> v;
  int left = 0, right = 0;
  for (const auto& x : crossings) {
    v.push_back(x.n);
    left += x.censoring == Censoring::left;
    right += x.censoring == Censoring::right;
  }
  return {{"n_eps_per_rep", v}, {"n_eps_geometric_mean", geometric_mean(v)}, {"left_censored", left},
          {"right_censored", right}};
}

void mark_n_eps(SampleComplexityCurve& curve, const std::vector<Crossing>& crossings) {
  std::vector<double> v;
  curve.n_eps_censored = false;
  for (const auto& x : crossings) {
    v.push_back(x.n);
    curve.n_eps_censored = curve.n_eps_censored || x.censoring != Censoring::none;
  }
  if (!v.empty()) curve.n_eps = geometric_mean(v);
}

void check_rows(const nlohmann::json& value, std::size_t count) {
  if (!value.is_array() || value.size() != count)
    throw InputError("a cell must be an array of " + std::to_string(count) + " rows");
  for (const auto& row : value)
    if (!row.is_object()) throw InputError("every row of a cell must be an object");
}

void check_nonnegative(double v, const char* field) {
  if (!(std::isfinite(v) && v >= 0)) throw InputError(std::string("checkpoint field '") + field + "' must be finite and >= 0");
}

void check_fit_fields(const nlohmann::json& row) {
  double error = 0, error_se = 0, lambda = 0;
  read_checkpoint_field(row, "error", error);
  read_checkpoint_field(row, "error_se", error_se);
  read_checkpoint_field(row, "lambda", lambda);
  check_nonnegative(error, "error");
  check_nonnegative(error_se, "error_se");
  check_nonnegative(lambda, "lambda");
  bool at_edge = false;
  read_checkpoint_field(row, "lambda_at_edge", at_edge);
  (void)row.at("solver").get<std::string>();
  (void)row.at("seconds").get<double>();
}

LambdaEdgeCount::LambdaEdgeCount(const arma::vec& grid, std::string column)
    : middle_(grid.is_empty() ? 1.0 : std::sqrt(grid.front() * grid.back())), column_(std::move(column)) {}

void LambdaEdgeCount::add(bool chosen_from_data, bool edge, double lambda) {
  if (!chosen_from_data) return;
  ++choices_;
  if (edge) ++(lambda < middle_ ? lower_ : upper_);
}

nlohmann::json LambdaEdgeCount::to_json() const {
  return {{"choices", choices_},
          {"at_edge", lower_ + upper_},
          {"at_lower_end", lower_},
          {"at_upper_end", upper_},
          {"column", column_}};
}

TargetRowTable::TargetRowTable(std::vector<std::string> own_columns, std::uint64_t seed, std::size_t test_n,
                               const RidgeFitOptions& ridge)
    : seed_(seed), test_n_(test_n), chosen_from_data_(ridge.rule != LambdaRule::fixed),
      edges_(searched_lambda_grid(ridge)) {
  table_.columns = std::move(own_columns);
  for (const char* c : {"n", "rep", "seed", "test_n", "error", "error_se", "lambda", "lambda_at_edge", "solver", "seconds"})
    table_.columns.emplace_back(c);
}

void TargetRowTable::add(std::vector<std::string> own_fields, const nlohmann::json& row) {
  const bool at_edge = row.at("lambda_at_edge").get<bool>();
  edges_.add(chosen_from_data_, at_edge, row.at("lambda").get<double>());
  for (std::string f : {std::to_string(row.at("n").get<std::size_t>()), std::to_string(row.at("rep").get<int>()),
                        std::to_string(seed_), std::to_string(test_n_), format_double(row.at("error")),
                        format_double(row.at("error_se")), format_double(row.at("lambda")),
                        std::string(at_edge ? "1" : "0"), row.at("solver").get<std::string>(),
                        format_double(row.at("seconds"))})
    own_fields.push_back(std::move(f));
  table_.rows.push_back(std::move(own_fields));
}

void TargetRowTable::write(const StudyContext& ctx) const { write_cells_csv(table_, ctx); }

void TargetRowTable::summarise(nlohmann::json& summary) const {
  summary["cells_total"] = table_.rows.size();
  summary["lambda_at_grid_edge"] = edges_.to_json();
}

nlohmann::json ridge_study_parameters(const Settings& settings) {
  nlohmann::json params = parameters_json(settings);
  params["noise"] = "y = f* + sigma * N(0, 1), f* of unit variance";
  params["error"] = "mean (f_hat - f*)^2 / Var f* over test-n fresh noiseless inputs";
  return params;
}

}  // namespace attnrate
