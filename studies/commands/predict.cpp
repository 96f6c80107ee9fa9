#include "studies/commands/predict.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/parallel_errors.hpp"
#include "studies/io/block_writer.hpp"
#include "studies/io/input_file.hpp"
#include "studies/io/json_file.hpp"
#include "studies/io/memory_budget.hpp"
#include "studies/io/output.hpp"
#include "theory/pairwise/pairwise_model.hpp"

namespace attnrate {

const char* to_string(FitKind kind) noexcept {
  switch (kind) {
    case FitKind::pairwise:
      return "pairwise";
    case FitKind::rfa:
      return "rfa";
    case FitKind::rf_mlp:
      return "rf-mlp";
  }
  return "?";
}

std::string FittedModel::describe() const {
  std::ostringstream m;
  if (kind == FitKind::pairwise) {
    m << "pairwise fit, A " << (pairwise->a_known ? "known" : "learned");
    const char* sep = ", ";
    for (const SplineTerm& t : pairwise->phi.terms()) {  // one spline, or a sum ("... + K = 4 ...")
      m << sep << "K = " << t.basis.pieces() << " pieces of degree " << t.basis.degree();
      sep = " + ";
    }
    m << ", d = " << d;
  } else if (kind == FitKind::rfa) {
    m << "RFA fit, " << features->rfa.heads << " heads, d = " << d << ", W_m redrawn from seed " << features->rfa.seed;
  } else {
    m << "RF-MLP fit, width " << features->mlp.width << ", d = " << d << ", N = " << N << ", weights redrawn from seed "
      << features->mlp.seed;
  }
  return m.str();
}

namespace {

// Typed access to fit.json, every problem an InputError naming the file and the key.
struct FitReader {
  const nlohmann::json& j;
  const std::string& source;

  [[noreturn]] void fail(const std::string& what) const { throw InputError(source + ": " + what); }
  const nlohmann::json& at(const char* key) const {
    if (!j.contains(key)) fail(std::string("missing key '") + key + "' (a fit.json written by attnrate fit has it)");
    return j.at(key);
  }
  long long integer(const char* key, long long lo, long long hi) const {
    const nlohmann::json& v = at(key);
    if (!v.is_number_integer()) fail(std::string("'") + key + "' must be an integer, got " + v.dump());
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
      fail(std::string("'") + key + "' must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
           v.dump());
    const long long x = v.get<long long>();
    if (x < lo || x > hi)
      fail(std::string("'") + key + "' must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
           v.dump());
    return x;
  }
  std::uint64_t seed(const char* key) const {
    const nlohmann::json& v = at(key);
    if (!v.is_number_unsigned()) fail(std::string("'") + key + "' must be an integer in 0..2^64-1, got " + v.dump());
    return v.get<std::uint64_t>();
  }
  double number(const char* key) const {
    const nlohmann::json& v = at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      fail(std::string("'") + key + "' must be a finite number, got " + v.dump());
    return v.get<double>();
  }
  std::string text(const char* key) const {
    const nlohmann::json& v = at(key);
    if (!v.is_string()) fail(std::string("'") + key + "' must be a string, got " + v.dump());
    return v.get<std::string>();
  }
  arma::vec numbers(const nlohmann::json& v, const std::string& what) const {
    if (!v.is_array()) fail(what + " must be an array of numbers");
    arma::vec out(v.size());
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (!v[k].is_number() || !std::isfinite(v[k].get<double>()))
        fail(what + "[" + std::to_string(k) + "] must be a finite number, got " + v[k].dump());
      out[k] = v[k].get<double>();
    }
    return out;
  }
  arma::vec numbers(const char* key, std::size_t size) const {
    arma::vec out = numbers(at(key), std::string("'") + key + "'");
    if (out.n_elem != size)
      fail(std::string("'") + key + "' has " + std::to_string(out.n_elem) + " entries; the fit's sizes need " +
           std::to_string(size));
    return out;
  }
};

FitKind fit_kind(const FitReader& r) {
  // Another command's output (score's summary carries the fit's kind): name it.
  if (r.j.contains("command") && r.j.at("command").is_string())
    r.fail("this is the output of attnrate " + r.j.at("command").get<std::string>() +
           ", not a fit; --fit takes the fit.json that attnrate fit writes");
  if (r.j.contains("kind")) {
    const std::string k = r.text("kind");
    if (k == "pairwise") return FitKind::pairwise;
    if (k == "rfa") return FitKind::rfa;
    if (k == "rf-mlp") return FitKind::rf_mlp;
    if (k == "pairwise-truth")
      r.fail("this is the truth of simulate pairwise (score takes it as --truth); --fit takes the fit.json that "
             "attnrate fit writes");
    r.fail("unknown kind '" + k + "'; attnrate fit writes pairwise, rfa or rf-mlp");
  }
  // Fits written before `kind` existed.
  if (r.j.contains("model") && r.j.at("model") == "random-feature attention") return FitKind::rfa;
  if (r.j.contains("knots") && r.j.contains("A")) return FitKind::pairwise;
  r.fail("not a fit written by attnrate fit (no 'kind'; expected pairwise, rfa or rf-mlp)");
}

// One spline on [a, b] from r's 'degree', 'pieces', 'coefficients' and (if present) 'knots'.
SplineTerm parse_spline(const FitReader& r, double a, double b) {
  const int degree = static_cast<int>(r.integer("degree", 0, BSplineBasis::max_degree));
  const int pieces =
      static_cast<int>(r.integer("pieces", 1, std::numeric_limits<int>::max() - BSplineBasis::max_degree));
  // The coefficients' count first: it bounds pieces by the file's size before a basis (its knot
  // vector) is built from them.
  const nlohmann::json& coefficients = r.at("coefficients");
  if (!coefficients.is_array()) r.fail("'coefficients' must be an array of numbers");
  if (coefficients.size() != static_cast<std::size_t>(pieces) + static_cast<std::size_t>(degree))
    r.fail("'coefficients' has " + std::to_string(coefficients.size()) + " entries; the fit's sizes need " +
           std::to_string(static_cast<long long>(pieces) + degree) + " (pieces + degree)");
  std::optional<BSplineBasis> basis;
  try {
    basis.emplace(a, b, pieces, degree);
  } catch (const InputError& e) {
    r.fail(std::string("the spline of 'range', 'pieces' and 'degree' cannot be built: ") + e.what());
  }
  arma::vec coef = r.numbers("coefficients", static_cast<std::size_t>(basis->size()));
  if (r.j.contains("knots")) {  // written from the basis: must be the same vector, bit for bit
    const arma::vec knots = r.numbers(r.at("knots"), "'knots'");
    const std::vector<double>& want = basis->knots();
    if (knots.n_elem != want.size() || !std::equal(want.begin(), want.end(), knots.begin()))
      r.fail("'knots' do not match 'range', 'pieces' and 'degree' (the file was edited?)");
  }
  return {*basis, std::move(coef)};
}

PairwiseFitModel parse_pairwise(const FitReader& r, int d) {
  PairwiseFitModel f;
  const arma::vec range = r.numbers(r.at("range"), "'range'");
  if (range.n_elem != 2 || !(range[0] < range[1]))
    r.fail("'range' must be [a, b] with a < b, got " + r.at("range").dump());
  if (r.j.contains("terms")) {  // a sum of splines (the adaptive mixture over several degrees)
    for (const char* key : {"degree", "pieces", "knots", "coefficients"})
      if (r.j.contains(key))
        r.fail(std::string("'terms' (a sum of splines) and '") + key + "' (of one spline) exclude each other");
    const nlohmann::json& terms = r.at("terms");
    if (!terms.is_array() || terms.empty() || terms.size() > kMaxSplineTerms)
      r.fail("'terms' must be an array of 1.." + std::to_string(kMaxSplineTerms) +
             " splines ({degree, pieces, knots, coefficients}), got " + (terms.is_array() ? std::to_string(terms.size()) + " entries" : terms.type_name()));
    for (std::size_t k = 0; k < terms.size(); ++k) {
      const std::string where = r.source + ": 'terms'[" + std::to_string(k) + "]";
      const FitReader term{terms[k], where};
      if (!terms[k].is_object()) r.fail("'terms'[" + std::to_string(k) + "] must be an object {degree, pieces, knots, coefficients}");
      for (const auto& [key, value] : terms[k].items())  // a term's own "range" would be ignored: refuse it
        if (key != "degree" && key != "pieces" && key != "knots" && key != "coefficients")
          term.fail("unknown key '" + key + "' (a term has degree, pieces, knots and coefficients; the range is the fit's)");
      SplineTerm t = parse_spline(term, range[0], range[1]);
      if (!f.phi.empty() && t.basis.degree() <= f.phi.terms().back().basis.degree())
        term.fail("'degree' " + std::to_string(t.basis.degree()) +
                  " after degree " + std::to_string(f.phi.terms().back().basis.degree()) +
                  ": the terms are one per degree, in ascending degree");
      f.phi.add(t.basis, std::move(t.coef));
    }
  } else {
    SplineTerm t = parse_spline(r, range[0], range[1]);
    f.phi.add(t.basis, std::move(t.coef));
  }
  const nlohmann::json& A = r.at("A");
  if (!A.is_array() || A.size() != static_cast<std::size_t>(d))
    r.fail("'A' must be an array of d = " + std::to_string(d) + " rows");
  f.A.set_size(d, d);
  for (int i = 0; i < d; ++i) {
    const arma::vec row = r.numbers(A[i], "'A'[" + std::to_string(i) + "]");
    if (row.n_elem != static_cast<arma::uword>(d))
      r.fail("'A'[" + std::to_string(i) + "] has " + std::to_string(row.n_elem) + " entries; d = " + std::to_string(d));
    f.A.row(i) = row.t();
  }
  f.a_known = !r.j.contains("rank");
  return f;
}

}  // namespace

FittedModel parse_fit(const nlohmann::json& j, const std::string& source) {
  const FitReader r{j, source};
  if (!j.is_object()) r.fail("not a fit.json (a JSON object written by attnrate fit)");
  FittedModel fit;
  fit.kind = fit_kind(r);
  fit.source = source;
  fit.d = static_cast<int>(r.integer("d", 1, 100000));
  if (fit.kind == FitKind::pairwise) {
    fit.N = static_cast<int>(r.integer("N", 2, 100000));
    fit.pairwise = parse_pairwise(r, fit.d);
    return fit;
  }
  fit.N = static_cast<int>(r.integer("N", 1, 100000));
  FeatureFitModel f;
  try {
    if (fit.kind == FitKind::rfa) {
      f.rfa.heads = static_cast<int>(r.integer("heads", 1, 1000000));
      f.rfa.activation = parse_rfa_activation(r.text("sigma_act"));
      f.rfa.law = parse_weight_law(r.text("weights"));
      if (f.rfa.law == WeightLaw::biased) f.rfa.mu = r.number("mu");  // ignored (and not written) otherwise
      f.rfa.tau = r.number("tau");
      if (f.rfa.tau < 0) r.fail("'tau' must be >= 0, got " + r.at("tau").dump());
      if (f.rfa.tau == 0 && f.rfa.law == WeightLaw::zero_mean)  // as fit rfa refuses it
        r.fail("'tau' 0 with zero-mean weights is no fit rfa makes (every query-key weight would be 0)");
      f.rfa.seed = r.seed("seed");
      f.coef = r.numbers("coefficients", static_cast<std::size_t>(f.rfa.heads) * (fit.d + 1));
    } else {
      f.mlp.width = static_cast<std::size_t>(r.integer("width", 1, 1000000000));
      f.mlp.activation = parse_mlp_activation(r.text("mlp_act"));
      f.mlp.seed = r.seed("seed");
      f.coef = r.numbers("coefficients", f.mlp.width);
    }
  } catch (const InputError& e) {
    const std::string what = e.what();
    if (what.rfind(source + ": ", 0) == 0) throw;
    r.fail(what);
  }
  fit.features = std::move(f);
  return fit;
}

FittedModel read_fit(const std::filesystem::path& path, const ReadLimits& limits) {
  const nlohmann::json j = read_json_file(path, limits, "give a fit.json written by attnrate fit");
  return parse_fit(j, path.string());
}

double fitted_g(const PairwiseFitModel& fit, const double* x, const double* y) noexcept {
  return fit.phi.value(bilinear_form(fit.A, x, y, static_cast<int>(fit.A.n_rows)));
}

arma::vec predict_pairwise(const PairwiseFitModel& fit, const PairwiseData& data, int threads) {
  const int d = static_cast<int>(fit.A.n_rows);
  if (data.d != d)
    throw InputError("the data have d = " + std::to_string(data.d) +
                     " but the fit was made on d = " + std::to_string(d));
  if (data.N < 2) throw InputError("pairwise data need N >= 2 tokens per sample, got " + std::to_string(data.N));
  const std::size_t N = data.N;
  const arma::mat AX = fit.A * data.X;  // column t = A X_t
  arma::vec out(data.M * N);
  const double inv = 1.0 / static_cast<double>(N - 1);
  const int T = threads > 0 ? threads : omp_get_max_threads();
  std::size_t overflow = data.M;  // the first sample with a non-finite interaction
#pragma omp parallel for schedule(static) num_threads(T) reduction(min : overflow)
  for (std::size_t m = 0; m < data.M; ++m)
    for (std::size_t i = 0; i < N; ++i) {
      double acc = 0.0;
      for (std::size_t j = 0; j < N; ++j) {
        if (i == j) continue;
        const double u = arma::dot(data.X.col(m * N + i), AX.col(m * N + j));
        if (!std::isfinite(u)) overflow = std::min(overflow, m);  // basis.value would clamp it to an end
        acc += fit.phi.value(u);
      }
      out[m * N + i] = acc * inv;
    }
  if (overflow < data.M)
    throw InputError("sample " + std::to_string(overflow) + " (0-based): an interaction X_i^T A X_j is not finite: "
                     "the products of the tokens and the fit's A overflow; scale the tokens down (or check A)");
  return out;
}

namespace {

// Finite features can still give an infinite (or NaN) prediction: features near 1e300 times the
// fit's coefficients. Say so rather than write it.
arma::vec finite_predictions(arma::vec out) {
  if (!out.is_finite())
    throw InputError("the predictions are not finite: the features times the fit's coefficients overflow for "
                     "inputs this large; scale the inputs down");
  return out;
}

}  // namespace

arma::vec predict_attention(const FittedModel& fit, const AttentionInputs& in, int threads) {
  if (!fit.features) throw InputError(fit.source + ": a pairwise fit predicts pairwise data, not attention data");
  if (in.d != fit.d)
    throw InputError("the data have d = " + std::to_string(in.d) + " but the fit " + fit.source +
                     " was made on d = " + std::to_string(fit.d));
  // Checked here, once, before the blocks below (which carry their own errors out: ParallelErrors).
  if (in.N < 1 || static_cast<int>(in.query.n_rows) != in.d || static_cast<int>(in.keys.n_rows) != in.d ||
      in.keys.n_cols != in.n() * static_cast<std::size_t>(in.N))
    throw InputError("attention inputs: query and keys must have d rows and n and n*N columns, with N >= 1");
  if (!in.query.is_finite() || !in.keys.is_finite())
    throw InputError("attention inputs contain NaN or infinite values; all must be finite");
  if (fit.kind == FitKind::rf_mlp && in.N != fit.N)
    throw InputError("the data have N = " + std::to_string(in.N) + " keys per sample but the RF-MLP " + fit.source +
                     " was fitted on N = " + std::to_string(fit.N) + " (its input is the concatenated tokens)");
  const FeatureFitModel& f = *fit.features;
  const std::size_t n = in.n();
  arma::vec out(n);
  const int T = threads > 0 ? threads : omp_get_max_threads();
  pin_blas_to_one_thread();
  if (fit.kind == FitKind::rfa) {
    RfaOptions o = f.rfa;
    o.threads = 1;
    const RandomFeatureAttention model(fit.d, o);  // W_m redrawn from the seed, as in the fit
    const std::size_t P = model.feature_count(), B = o.block_samples;
    // The fit's blocks (RandomFeatureAttention::predict): same features, same product, same bits.
    struct Scratch {
      arma::mat F;
      RandomFeatureAttention::BlockScratch block;  // reused by the thread's blocks
    };
    parallel_for_blocks(
        T, (n + B - 1) / B, [&] { return Scratch{arma::mat(P, B, arma::fill::none), {}}; },
        [&](std::size_t b, Scratch& w) {
          const std::size_t first = b * B, count = std::min(B, n - first);
          model.feature_block(in, first, count, w.F.memptr(), w.block);
          const arma::mat Fb(w.F.memptr(), P, count, false, true);
          out.subvec(first, first + count - 1) = Fb.t() * f.coef;
        });
    return finite_predictions(std::move(out));
  }
  RfMlpOptions o = f.mlp;
  o.threads = 1;
  const RandomFeatureMlp model(fit.d, fit.N, o);
  const std::size_t B = o.block_samples;
  // Each block of the fit's size is its own AttentionInputs, so features() forms the same single
  // GEMM the fit formed for those samples.
  parallel_for_blocks(
      T, (n + B - 1) / B, [] { return 0; },
      [&](std::size_t b, int) {
        const std::size_t first = b * B, count = std::min(B, n - first);
        const AttentionInputs block = in.samples(first, first + count);
        const arma::mat Phi = model.features(block, first);  // overflow messages name the sample in all data
        out.subvec(first, first + count - 1) = Phi * f.coef;
      });
  return finite_predictions(std::move(out));
}

AttentionData read_attention_data(const std::filesystem::path& path, const ReadLimits& limits) {
  const LongTable t = read_long_csv(path, "key", limits);
  AttentionData a;
  const int N = t.T - 1, d = t.d;
  a.inputs.d = d;
  a.inputs.N = N;
  a.inputs.query.set_size(d, t.M);
  a.inputs.keys.set_size(d, t.M * N);
  a.y.set_size(t.M);
  for (std::size_t m = 0; m < t.M; ++m) {
    a.inputs.query.col(m) = t.X.col(m * t.T);
    a.y[m] = t.Y[m * t.T];
    for (int i = 0; i < N; ++i) {
      a.inputs.keys.col(m * N + i) = t.X.col(m * t.T + 1 + i);
      if (t.Y[m * t.T + 1 + i] != a.y[m])
        throw InputError(path.string() + ":" + std::to_string(2 + m * t.T + 1 + i) + ":" + std::to_string(d + 3) +
                         ": y must be the same on every row of a sample (one output per sample), got " +
                         format_double(t.Y[m * t.T + 1 + i]) + " after " + format_double(a.y[m]));
    }
  }
  return a;
}

std::vector<KeySpec> predict_keys() {
  return with_resource_keys(
      {
          {"fit", "", "fit.json written by attnrate fit pairwise|rfa", "PATH"},
          {"data", "",
           "data CSV in the fit's format (pairwise: sample,token,x1..xd,y; rfa: sample,key,x1..xd,y); "
           "y is not used",
           "PATH"},
      },
      true);
}

void add_feature_model_memory(MemoryEstimate& need, int heads, double P, int N, int d, int threads, double block) {
  const double T = threads > 0 ? threads : omp_get_max_threads(), D = (N + 1.0) * d + 1;  // D: MLP input
  if (heads == 0) need.add("frozen first layer of width " + std::to_string(static_cast<long long>(P)), 8.0 * P * D);
  else need.add("frozen weights of " + std::to_string(heads) + " heads", 16.0 * heads * (d + 1.0) * (d + 1.0));
  // Per thread: RFA's two P x B buffers (the block's features and its stacked W_m^T x_0) and the
  // block's (d+1) x B(N+1) augmented query and keys; the RF-MLP's B x P features twice (the
  // estimator's and the copy features() returns) and B x D inputs twice (the block of samples and
  // the concatenated tokens).
  need.add("feature blocks of " + std::to_string(static_cast<int>(T)) + " threads",
           heads == 0 ? 16.0 * T * block * (P + D) : 8.0 * T * block * (2.0 * P + (d + 1.0) * (N + 1.0)));
}

MemoryEstimate model_memory(const FittedModel& fit, int threads) {
  MemoryEstimate need;
  if (fit.kind == FitKind::rfa)
    add_feature_model_memory(need, fit.features->rfa.heads, fit.features->rfa.heads * (fit.d + 1.0), fit.N, fit.d,
                             threads, static_cast<double>(fit.features->rfa.block_samples));
  else if (fit.kind == FitKind::rf_mlp)
    add_feature_model_memory(need, 0, static_cast<double>(fit.features->mlp.width), fit.N, fit.d, threads,
                             static_cast<double>(fit.features->mlp.block_samples));
  return need;
}

void add_data_memory(MemoryEstimate& need, const PairwiseData& data) {
  const double tokens = static_cast<double>(data.M) * data.N;
  need.add("data, A X and predictions of M x N = " + std::to_string(data.M) + " x " + std::to_string(data.N) +
               " tokens in d = " + std::to_string(data.d),
           16.0 * tokens * (data.d + 1.0));
}

void add_data_memory(MemoryEstimate& need, const AttentionData& data) {
  const double n = static_cast<double>(data.inputs.n());
  need.add("data and predictions of " + std::to_string(data.inputs.n()) + " samples of " +
               std::to_string(data.inputs.N + 1) + " tokens in d = " + std::to_string(data.inputs.d),
           8.0 * n * ((data.inputs.N + 1.0) * data.inputs.d + 2.0));
}

CommandReport predict(const Settings& s, const std::filesystem::path& out, int threads) {
  if (s.raw("fit").empty()) throw InputError("--fit is required (a fit.json written by attnrate fit)");
  if (s.raw("data").empty()) throw InputError("--data is required (the data CSV to predict on)");
  const MemoryBudget budget = memory_budget(s);
  const ReadLimits limits = read_limits(s);
  check_outputs({{"--out", out}}, {{"--fit", s.raw("fit")}, {"--data", s.raw("data")}});
  const FittedModel fit = read_fit(s.raw("fit"), limits);
  model_memory(fit, threads).check(budget, "predict", "predict with a smaller fit");
  const std::string data_path = s.raw("data");
  std::ostringstream m;
  if (fit.kind == FitKind::pairwise) {
    const PairwiseData data = read_pairwise_csv(data_path, limits);
    if (data.d != fit.d)
      throw InputError("--data " + data_path + " has d = " + std::to_string(data.d) + " but --fit " + s.raw("fit") +
                       " was fitted on d = " + std::to_string(fit.d));
    check_prediction_memory(fit, data, threads, budget, "predict");
    const arma::vec y_hat = on_data_file(data_path, [&] { return predict_pairwise(*fit.pairwise, data, threads); });
    BlockWriter w(out);
    w.put(std::string_view("sample,token,y_hat"));
    w.end_line();
    for (std::size_t k = 0; k < y_hat.n_elem; ++k) {
      w.put(std::uint64_t{k / data.N});
      w.put(',');
      w.put(std::uint64_t{k % data.N});
      w.put(',');
      w.put(y_hat[k]);
      w.end_line();
    }
    w.commit();
    m << "predicted " << data.M << " samples x " << data.N << " tokens with the " << fit.describe() << "\n";
  } else {
    const AttentionData data = read_attention_data(data_path, limits);
    if (data.inputs.d != fit.d)
      throw InputError("--data " + data_path + " has d = " + std::to_string(data.inputs.d) + " but --fit " +
                       s.raw("fit") + " was fitted on d = " + std::to_string(fit.d));
    if (fit.kind == FitKind::rf_mlp && data.inputs.N != fit.N)
      throw InputError("--data " + data_path + " has N = " + std::to_string(data.inputs.N) +
                       " keys per sample but the RF-MLP --fit " + s.raw("fit") +
                       " was fitted on N = " + std::to_string(fit.N));
    check_prediction_memory(fit, data, threads, budget, "predict");
    const arma::vec y_hat = on_data_file(data_path, [&] { return predict_attention(fit, data.inputs, threads); });
    BlockWriter w(out);
    w.put(std::string_view("sample,y_hat"));
    w.end_line();
    for (std::size_t k = 0; k < y_hat.n_elem; ++k) {
      w.put(std::uint64_t{k});
      w.put(',');
      w.put(y_hat[k]);
      w.end_line();
    }
    w.commit();
    m << "predicted " << data.inputs.n() << " samples with the " << fit.describe() << " (not stored in the fit)\n";
  }
  m << "wrote " << out.string() << "\n";
  return {m.str(), {}};
}

}  // namespace attnrate
