// `attnrate predict` and `attnrate score` as a library, against independent truths: predictions
// on the training data are the fitted values recomputed by hand from fit.json (the B-spline
// coefficients evaluated with the basis, A from the A file), RFA and RF-MLP predictions are the
// fitted models' own in-sample predictions bit for bit, MSE and R^2 match a brute-force
// computation, the composed error of the exact truth is zero and that of a wrong fit matches a
// direct Monte Carlo; bad fits and data are refused naming the file and key.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "studies/commands/fit_pairwise.hpp"
#include "studies/commands/fit_rfa.hpp"
#include "studies/commands/predict.hpp"
#include "studies/commands/score.hpp"
#include "studies/commands/simulate_pairwise.hpp"
#include "studies/commands/simulate_rfa.hpp"
#include "studies/io/output.hpp"
#include "studies/io/pairwise_data.hpp"
#include "tests/lib/temp_dir.hpp"

using namespace attnrate;
namespace fs = std::filesystem;

namespace {

using test::TempDir;
using Options = std::initializer_list<std::pair<const char*, std::string>>;

Settings settings(std::vector<KeySpec> keys, Options options) {
  Settings s(std::move(keys));
  for (const auto& [k, v] : options) s.set(k, v, std::string("--") + k);
  return s;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

// Reads a CSV of numbers with a header: the last column of every row.
std::vector<double> last_column(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  std::vector<double> v;
  while (std::getline(in, line)) v.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  return v;
}

// phi_hat(u) = sum_k coef[k] B_k(u) from the nonzero basis functions of the knot interval (de Boor
// through BSplineBasis::evaluate), not through BSplineBasis::value.
double spline_by_hand(const BSplineBasis& basis, const std::vector<double>& coef, double u) {
  std::vector<double> values(basis.degree() + 1);
  const BasisSpan span = basis.evaluate(u, values.data());
  double s = 0.0;
  for (int q = 0; q <= basis.degree(); ++q) s += coef[span.first + q] * values[q];
  return s;
}

// Simulates pairwise data into dir/data.csv (with data.A.csv and data.truth.json).
void simulate(const fs::path& dir, Options extra = {}) {
  Settings s = settings(simulate_pairwise_keys(), {{"M", "300"}, {"N", "5"}, {"d", "3"}, {"r", "2"}, {"seed", "11"}});
  for (const auto& [k, v] : extra) s.set(k, v, std::string("--") + k);
  simulate_pairwise(s, dir / "data.csv");
}

}  // namespace

TEST_CASE("predict: an A-known fit on its training data gives the fitted values recomputed by hand", "[predict]") {
  TempDir t("predict_known");
  simulate(t.dir);
  fit_pairwise(settings(fit_pairwise_keys(), {{"data", (t.dir / "data.csv").string()},
                                              {"A", (t.dir / "data.A.csv").string()},
                                              {"knots", "6"},
                                              {"degree", "2"}}),
               t.dir / "fit.json", 1);
  const nlohmann::json j = read_json(t.dir / "fit.json");
  CHECK(j.at("kind") == "pairwise");
  predict(settings(predict_keys(), {{"fit", (t.dir / "fit.json").string()}, {"data", (t.dir / "data.csv").string()}}),
          t.dir / "pred.csv", 1);
  const std::vector<double> pred = last_column(t.dir / "pred.csv");

  // By hand: the basis from range, pieces and degree, A from the A file, u = x^T A y.
  const PairwiseData data = read_pairwise_csv(t.dir / "data.csv");
  const arma::mat A = read_matrix_csv(t.dir / "data.A.csv", 3);
  const BSplineBasis basis(j.at("range")[0].get<double>(), j.at("range")[1].get<double>(), 6, 2);
  const std::vector<double> coef = j.at("coefficients").get<std::vector<double>>();
  REQUIRE(pred.size() == data.M * data.N);
  double sse = 0.0;
  for (std::size_t m = 0; m < data.M; ++m)
    for (int i = 0; i < data.N; ++i) {
      double want = 0.0;
      for (int k = 0; k < data.N; ++k)
        if (k != i)
          want += spline_by_hand(basis, coef,
                                 arma::as_scalar(data.X.col(m * data.N + i).t() * A * data.X.col(m * data.N + k)));
      want /= data.N - 1;
      const double got = pred[m * data.N + i];
      CHECK(got == Approx(want).epsilon(1e-12).margin(1e-12));
      sse += (data.Y[m * data.N + i] - got) * (data.Y[m * data.N + i] - got);
    }
  // The mean squared residual is the fit's own training error.
  CHECK(sse / static_cast<double>(pred.size()) == Approx(j.at("train_mse").get<double>()).epsilon(1e-10));
}

TEST_CASE("predict: a fit of several terms is the sum of its splines", "[predict]") {
  // fit.json's "terms" (the adaptive mixture over several degrees): two fixed fits on one range,
  // written as the terms of one fit, predict the sum of their predictions.
  TempDir t("predict_terms");
  simulate(t.dir);
  const auto fit_one = [&](const std::string& knots, const std::string& degree, const std::string& name) {
    fit_pairwise(settings(fit_pairwise_keys(), {{"data", (t.dir / "data.csv").string()},
                                                {"A", (t.dir / "data.A.csv").string()},
                                                {"knots", knots},
                                                {"degree", degree},
                                                {"range", "-3,3"}}),
                 t.dir / name, 1);
    predict(settings(predict_keys(), {{"fit", (t.dir / name).string()}, {"data", (t.dir / "data.csv").string()}}),
            t.dir / (name + ".csv"), 1);
    return read_json(t.dir / name);
  };
  const nlohmann::json one = fit_one("4", "1", "one.json"), two = fit_one("6", "3", "two.json");
  nlohmann::json sum = one;
  for (const char* key : {"degree", "pieces", "knots", "coefficients"}) sum.erase(key);
  sum["terms"] = nlohmann::json::array();
  for (const nlohmann::json& f : {one, two})
    sum["terms"].push_back({{"degree", f.at("degree")}, {"pieces", f.at("pieces")}, {"knots", f.at("knots")},
                            {"coefficients", f.at("coefficients")}});
  std::ofstream(t.dir / "sum.json") << sum.dump(2);
  const FittedModel model = read_fit(t.dir / "sum.json");
  CHECK(model.describe() == "pairwise fit, A known, K = 4 pieces of degree 1 + K = 6 pieces of degree 3, d = 3");
  predict(settings(predict_keys(), {{"fit", (t.dir / "sum.json").string()}, {"data", (t.dir / "data.csv").string()}}),
          t.dir / "sum.csv", 1);
  const std::vector<double> p1 = last_column(t.dir / "one.json.csv"), p2 = last_column(t.dir / "two.json.csv"),
                            ps = last_column(t.dir / "sum.csv");
  REQUIRE(ps.size() == p1.size());
  for (std::size_t k = 0; k < ps.size(); ++k) CHECK(ps[k] == Approx(p1[k] + p2[k]).epsilon(1e-12).margin(1e-12));
  // End to end: an adaptive fit on noisy data mixes several degrees ("terms"); predict on its
  // training data gives back the training risk the fit computed in its own pass over the samples.
  fs::create_directories(t.dir / "noisy");
  simulate(t.dir / "noisy", {{"M", "1000"}, {"N", "4"}, {"r", "1"}, {"sigma", "2"}, {"seed", "3"}});
  fit_pairwise(settings(fit_pairwise_keys(), {{"data", (t.dir / "noisy" / "data.csv").string()},
                                              {"A", (t.dir / "noisy" / "data.A.csv").string()},
                                              {"schedule", "adaptive"}}),
               t.dir / "mix.json", 1);
  const nlohmann::json mix = read_json(t.dir / "mix.json");
  REQUIRE(mix.contains("terms"));
  REQUIRE(mix.at("terms").size() >= 2);
  predict(settings(predict_keys(), {{"fit", (t.dir / "mix.json").string()},
                                    {"data", (t.dir / "noisy" / "data.csv").string()}}),
          t.dir / "mix.csv", 1);
  const PairwiseData noisy = read_pairwise_csv(t.dir / "noisy" / "data.csv");
  const std::vector<double> pm = last_column(t.dir / "mix.csv");
  REQUIRE(pm.size() == noisy.Y.n_elem);
  double sse = 0.0;
  for (std::size_t k = 0; k < pm.size(); ++k) sse += (noisy.Y[k] - pm[k]) * (noisy.Y[k] - pm[k]);
  CHECK(sse / static_cast<double>(pm.size()) == Approx(mix.at("train_mse").get<double>()).epsilon(1e-10));

  // Refusals name the file and the term.
  const auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = sum;
    edit(j);
    return refusal([&] { parse_fit(j, "f.json"); });
  };
  CHECK_THAT(edited([](auto& j) { j["coefficients"] = {1.0}; }),
             Catch::Contains("'terms' (a sum of splines) and 'coefficients' (of one spline) exclude each other"));
  CHECK_THAT(edited([](auto& j) { j["terms"] = nlohmann::json::array(); }),
             Catch::Contains("'terms' must be an array of 1..11 splines"));
  CHECK_THAT(edited([](auto& j) { j["terms"][1]["coefficients"].push_back(1.0); }),
             Catch::StartsWith("f.json: 'terms'[1]: 'coefficients' has 10 entries; the fit's sizes need 9"));
  CHECK_THAT(edited([](auto& j) { j["terms"][0] = 3; }), Catch::Contains("'terms'[0] must be an object"));
  CHECK_THAT(edited([](auto& j) { j["terms"] = "two"; }), Catch::Contains("'terms' must be an array of 1..11 splines"));
  CHECK_THAT(edited([](auto& j) {
               for (int k = 0; k < 10; ++k) j["terms"].push_back(j["terms"][1]);
             }),
             Catch::Contains("'terms' must be an array of 1..11 splines") && Catch::Contains("got 12 entries"));
  CHECK_THAT(edited([](auto& j) { j["terms"][1]["knots"][2] = 0.5; }),
             Catch::StartsWith("f.json: 'terms'[1]: 'knots' do not match"));
  CHECK_THAT(edited([](auto& j) { j["terms"][0].erase("degree"); }),
             Catch::StartsWith("f.json: 'terms'[0]: missing key 'degree'"));
  CHECK_THAT(edited([](auto& j) { j["terms"][1]["range"] = {-1, 1}; }),
             Catch::StartsWith("f.json: 'terms'[1]: unknown key 'range'"));
  CHECK_THAT(edited([](auto& j) { std::swap(j["terms"][0], j["terms"][1]); }),
             Catch::StartsWith("f.json: 'terms'[1]: 'degree' 1 after degree 3"));
  // A huge 'pieces' is refused by the coefficients' count before any basis is built.
  CHECK_THAT(edited([](auto& j) { j["terms"][0]["pieces"] = 2000000000; }),
             Catch::Contains("'coefficients' has 5 entries; the fit's sizes need 2000000001"));
}

TEST_CASE("predict: a joint fit (A learned) reproduces its training risk", "[predict]") {
  TempDir t("predict_joint");
  simulate(t.dir);
  fit_pairwise(settings(fit_pairwise_keys(),
                        {{"data", (t.dir / "data.csv").string()}, {"rank", "2"}, {"knots", "4"}, {"restarts", "2"}}),
               t.dir / "fit.json", 1);
  const FittedModel fit = read_fit(t.dir / "fit.json");
  REQUIRE(fit.kind == FitKind::pairwise);
  CHECK_FALSE(fit.pairwise->a_known);
  const PairwiseData data = read_pairwise_csv(t.dir / "data.csv");
  const arma::vec y_hat = predict_pairwise(*fit.pairwise, data, 2);
  const PredictionScore sc = score_predictions(data.Y, y_hat);
  CHECK(sc.mse == Approx(read_json(t.dir / "fit.json").at("train_mse").get<double>()).epsilon(1e-8));
  // Any thread count gives the same predictions.
  CHECK(arma::approx_equal(y_hat, predict_pairwise(*fit.pairwise, data, 1), "absdiff", 0.0));
}

TEST_CASE("predict: RFA reproduces the fitted model's in-sample predictions bit for bit", "[predict]") {
  TempDir t("predict_rfa");
  simulate_rfa(settings(simulate_rfa_keys(), {{"n", "150"}, {"N", "4"}, {"d", "3"}, {"seed", "5"}}),
               t.dir / "data.csv");
  for (const char* act : {"relu", "softmax"}) {
    fit_rfa(settings(fit_rfa_keys(), {{"data", (t.dir / "data.csv").string()},
                                      {"heads", "7"},
                                      {"sigma-act", act},
                                      {"weights", "biased"},
                                      {"seed", "9"}}),
            t.dir / "fit.json", 1);
    const nlohmann::json j = read_json(t.dir / "fit.json");
    CHECK(j.at("kind") == "rfa");
    CHECK(j.at("frozen_weights").get<std::string>().find("redraws") != std::string::npos);

    // The fit the command made, redone here with the estimator itself.
    const AttentionData data = read_attention_data(t.dir / "data.csv");
    RfaOptions o;
    o.heads = 7;
    o.activation = parse_rfa_activation(act);
    o.law = WeightLaw::biased;
    o.seed = 9;
    o.threads = 1;
    RandomFeatureAttention model(3, o);
    RidgeFitOptions ridge;
    ridge.rule = LambdaRule::gcv;
    model.fit(data.inputs, data.y, ridge);
    const arma::vec own = model.predict(data.inputs);

    const FittedModel fit = read_fit(t.dir / "fit.json");
    REQUIRE(fit.kind == FitKind::rfa);
    CHECK(arma::approx_equal(fit.features->coef, model.coefficients(), "absdiff", 0.0));
    for (int threads : {1, 2}) {
      const arma::vec y_hat = predict_attention(fit, data.inputs, threads);
      REQUIRE(y_hat.n_elem == own.n_elem);
      CHECK(arma::approx_equal(y_hat, own, "absdiff", 0.0));  // bit for bit
    }
    // Through the command and its CSV: the same numbers (shortest round-trip text).
    predict(settings(predict_keys(), {{"fit", (t.dir / "fit.json").string()}, {"data", (t.dir / "data.csv").string()}}),
            t.dir / "pred.csv", 2);
    const std::vector<double> pred = last_column(t.dir / "pred.csv");
    REQUIRE(pred.size() == own.n_elem);
    for (std::size_t k = 0; k < pred.size(); ++k) CHECK(pred[k] == own[k]);
    // Finite features times coefficients near the largest double overflow: refused, not written.
    FittedModel huge = read_fit(t.dir / "fit.json");
    huge.features->coef.fill(1.7e308);
    CHECK_THROWS_WITH(predict_attention(huge, data.inputs, 2), Catch::Contains("the predictions are not finite"));
  }
  // A fit no fit rfa makes (tau 0 with zero-mean weights, every weight 0) is refused, as fit refuses it.
  nlohmann::json edited = read_json(t.dir / "fit.json");
  edited["weights"] = "zero-mean";
  edited["tau"] = 0.0;
  CHECK_THROWS_WITH(parse_fit(edited, "edited.json"), Catch::Contains("'tau' 0 with zero-mean weights"));
}

TEST_CASE("predict: RF-MLP reproduces the fitted model's in-sample predictions bit for bit", "[predict]") {
  TempDir t("predict_mlp");
  // n = 600: more than one block of 256 samples, the last one partial.
  simulate_rfa(settings(simulate_rfa_keys(), {{"n", "600"}, {"N", "3"}, {"d", "2"}, {"seed", "4"}}),
               t.dir / "data.csv");
  fit_rfa(settings(fit_rfa_keys(),
                   {{"data", (t.dir / "data.csv").string()}, {"model", "mlp"}, {"heads", "5"}, {"seed", "3"}}),
          t.dir / "fit.json", 1);
  const nlohmann::json j = read_json(t.dir / "fit.json");
  CHECK(j.at("kind") == "rf-mlp");
  CHECK(j.at("width") == 15);
  const AttentionData data = read_attention_data(t.dir / "data.csv");
  RfMlpOptions o;
  o.match_heads = 5;
  o.seed = 3;
  o.threads = 1;
  RandomFeatureMlp model(2, 3, o);
  RidgeFitOptions ridge;
  ridge.rule = LambdaRule::gcv;
  model.fit(data.inputs, data.y, ridge);
  const arma::vec own = model.predict(data.inputs);
  const FittedModel fit = read_fit(t.dir / "fit.json");
  for (int threads : {1, 2})
    CHECK(arma::approx_equal(predict_attention(fit, data.inputs, threads), own, "absdiff", 0.0));
  // The MLP's input is the concatenated tokens: another N is refused.
  AttentionInputs other = data.inputs;
  other.N = 1;
  other.keys = data.inputs.keys.cols(0, data.inputs.n() - 1);
  CHECK_THAT(refusal([&] { predict_attention(fit, other); }), Catch::Contains("N = 1") && Catch::Contains("N = 3"));
}

TEST_CASE("score: MSE and R^2 against a brute-force computation", "[score]") {
  Rng rng(17);
  arma::vec y(1001), y_hat(1001);
  for (arma::uword k = 0; k < y.n_elem; ++k) {
    y[k] = 3.0 + 2.0 * rng.normal();
    y_hat[k] = y[k] + 0.5 * rng.normal();
  }
  long double mean = 0, sse = 0, sst = 0;
  for (double v : y) mean += v;
  mean /= y.n_elem;
  for (arma::uword k = 0; k < y.n_elem; ++k) {
    sse += (static_cast<long double>(y[k]) - y_hat[k]) * (static_cast<long double>(y[k]) - y_hat[k]);
    sst += (y[k] - mean) * (y[k] - mean);
  }
  const PredictionScore sc = score_predictions(y, y_hat);
  CHECK(sc.n == 1001);
  CHECK(sc.mse == Approx(static_cast<double>(sse / y.n_elem)).epsilon(1e-13));
  CHECK(sc.r2 == Approx(static_cast<double>(1 - sse / sst)).epsilon(1e-13));
  CHECK(score_predictions(y, y).r2 == 1.0);
  CHECK(std::isnan(score_predictions(arma::vec(5, arma::fill::ones), arma::vec(5, arma::fill::zeros)).r2));
  CHECK_THAT(refusal([&] { score_predictions(y, y.head(3)); }), Catch::Contains("as many predictions as outputs"));
}

TEST_CASE("score: the command's MSE and R^2 are those of predict's file", "[score]") {
  TempDir t("score_cmd");
  simulate(t.dir);
  // Test data from another seed (another A, so a poor fit): only the arithmetic is checked here.
  fs::create_directories(t.dir / "test");
  simulate(t.dir / "test", {{"seed", "12"}, {"M", "200"}});
  fit_pairwise(
      settings(fit_pairwise_keys(),
               {{"data", (t.dir / "data.csv").string()}, {"A", (t.dir / "data.A.csv").string()}, {"beta", "1"}}),
      t.dir / "fit.json", 1);
  const std::string test_data = (t.dir / "test" / "data.csv").string();
  predict(settings(predict_keys(), {{"fit", (t.dir / "fit.json").string()}, {"data", test_data}}), t.dir / "pred.csv",
          1);
  const std::vector<double> pred = last_column(t.dir / "pred.csv");
  const PairwiseData data = read_pairwise_csv(test_data);
  long double mean = 0, sse = 0, sst = 0;
  for (double v : data.Y) mean += v;
  mean /= data.Y.n_elem;
  for (std::size_t k = 0; k < pred.size(); ++k) {
    sse += (data.Y[k] - static_cast<long double>(pred[k])) * (data.Y[k] - static_cast<long double>(pred[k]));
    sst += (data.Y[k] - mean) * (data.Y[k] - mean);
  }
  const CommandReport r = score(settings(score_keys(), {{"fit", (t.dir / "fit.json").string()}, {"data", test_data}}),
                                t.dir / "score.json", 1);
  CHECK_THAT(r.message, Catch::Contains("MSE = ") && Catch::Contains("R^2 = "));
  const nlohmann::json j = read_json(t.dir / "score.json");
  CHECK(j.at("data").at("outputs") == pred.size());
  CHECK(j.at("data").at("mse").get<double>() == Approx(static_cast<double>(sse / pred.size())).epsilon(1e-12));
  CHECK(j.at("data").at("r2").get<double>() == Approx(static_cast<double>(1 - sse / sst)).epsilon(1e-12));
  CHECK(j.at("truth").is_null());
  // Without --out nothing is written.
  fs::remove(t.dir / "score.json");
  score(settings(score_keys(), {{"fit", (t.dir / "fit.json").string()}, {"data", test_data}}), "", 1);
  CHECK_FALSE(fs::exists(t.dir / "score.json"));
}

TEST_CASE("score --truth: the exact truth has composed error 0, a wrong fit the direct Monte Carlo value", "[score]") {
  TempDir t("score_truth");
  simulate(t.dir, {{"activation", "bspline:3"}, {"sigma", "0"}});
  const PairwiseTruth truth = read_truth(t.dir / "data.truth.json");
  const PairwiseModel model = truth_model(truth);
  CHECK(model.phi().name() == "bspline:3");
  CHECK(arma::approx_equal(truth.A, read_matrix_csv(t.dir / "data.A.csv", 3), "absdiff", 0.0));

  // bspline:3 is a cubic spline on 12 pieces of [-3, 3] whose coefficients come from the truth's
  // activation seed (theory/pairwise/activation.cpp): a fit with that basis, those coefficients
  // and the true A is the truth itself.
  const BSplineBasis truth_basis(-3.0, 3.0, 12, 3);
  arma::vec truth_coef(truth_basis.size(), arma::fill::zeros);
  Rng rng(derive_seed(truth.activation_seed, {hash_name("activation"), hash_name("bspline:3")}));
  for (int k = 3; k < truth_basis.size() - 3; ++k) truth_coef[k] = rng.normal();
  PairwiseFitModel exact;
  exact.phi = SplineSum(truth_basis, truth_coef);
  exact.A = truth.A;
  const ComposedError e0 = composed_error(exact, model, 20000, 5, 2);
  CHECK(e0.error < 1e-28);
  CHECK(e0.pairs == 20000);

  // A noiseless fit with A known in the truth's spline space: the error is rounding only.
  fit_pairwise(settings(fit_pairwise_keys(), {{"data", (t.dir / "data.csv").string()},
                                              {"A", (t.dir / "data.A.csv").string()},
                                              {"knots", "12"},
                                              {"degree", "3"},
                                              {"range", "-3,3"}}),
               t.dir / "fit.json", 1);
  score(settings(score_keys(), {{"fit", (t.dir / "fit.json").string()},
                                {"truth", (t.dir / "data.truth.json").string()},
                                {"test-pairs", "20000"}}),
        t.dir / "score.json", 1);
  const nlohmann::json sj = read_json(t.dir / "score.json");
  const double phi2 = [&] {  // E phi(u)^2, the scale of the error of a zero fit
    const arma::mat P = model.draw_token_pairs(77, 20000);
    double s = 0;
    for (arma::uword k = 0; k < 20000; ++k) s += std::pow(model.g(P.colptr(2 * k), P.colptr(2 * k + 1)), 2);
    return s / 20000;
  }();
  CHECK(sj.at("truth").at("composed_error").get<double>() < 1e-20 * phi2);
  CHECK(sj.at("truth").at("test_pairs") == 20000);
  CHECK(sj.at("truth").at("seed") == 1);

  // A deliberately wrong fit: the true phi halved, on a perturbed A.
  PairwiseFitModel wrong = exact;
  wrong.phi = SplineSum(truth_basis, 0.5 * truth_coef);
  wrong.A(0, 1) += 0.3;
  const std::uint64_t seed = 1234;
  const ComposedError ew = composed_error(wrong, model, 50000, seed, 2);
  // Same pairs (model.draw_token_pairs(seed, T), as documented), computed here term by term.
  const arma::mat P = model.draw_token_pairs(seed, 50000);
  double s = 0;
  for (arma::uword k = 0; k < 50000; ++k) {
    const double x = arma::as_scalar(P.col(2 * k).t() * wrong.A * P.col(2 * k + 1));
    s += std::pow(spline_by_hand(truth_basis, arma::conv_to<std::vector<double>>::from(0.5 * truth_coef), x) -
                      model.g(P.colptr(2 * k), P.colptr(2 * k + 1)),
                  2);
  }
  CHECK(ew.error == Approx(s / 50000).epsilon(1e-9));
  CHECK(ew.error > 0.01 * phi2);
  // Fresh pairs (another seed, 4x as many): the same expectation within the Monte Carlo error.
  const ComposedError big = composed_error(wrong, model, 200000, 99, 2);
  CHECK(std::abs(big.error - ew.error) < 5 * std::hypot(big.se, ew.se));
}

TEST_CASE("predict and score refuse bad fits, data and truths naming the file and the key", "[predict][score]") {
  TempDir t("predict_refusals");
  simulate(t.dir);
  fit_pairwise(
      settings(fit_pairwise_keys(),
               {{"data", (t.dir / "data.csv").string()}, {"A", (t.dir / "data.A.csv").string()}, {"knots", "3"}}),
      t.dir / "fit.json", 1);
  const nlohmann::json good = read_json(t.dir / "fit.json");
  const auto edited = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    return refusal([&] { parse_fit(j, "f.json"); });
  };
  CHECK_THAT(edited([](auto& j) { j.erase("coefficients"); }), Catch::StartsWith("f.json: missing key 'coefficients'"));
  CHECK_THAT(edited([](auto& j) { j["coefficients"].push_back(1.0); }),
             Catch::Contains("'coefficients' has 7 entries; the fit's sizes need 6"));
  CHECK_THAT(edited([](auto& j) { j["knots"][3] = 0.123; }), Catch::Contains("'knots' do not match"));
  CHECK_THAT(edited([](auto& j) { j["kind"] = "ols"; }), Catch::Contains("unknown kind 'ols'"));
  CHECK_THAT(edited([](auto& j) { j["A"][1][2] = "x"; }), Catch::Contains("'A'[1][2] must be a finite number"));
  CHECK_THAT(edited([](auto& j) { j["degree"] = 11; }), Catch::Contains("'degree' must be in 0..10, got 11"));
  CHECK_THAT(edited([](auto& j) { j["range"] = {1, 1}; }), Catch::Contains("'range' must be [a, b] with a < b"));
  // Fits written before `kind` existed are still read.
  CHECK(edited([](auto& j) { j.erase("kind"); }) == "(accepted)");
  // Invalid JSON: file, line and column.
  const fs::path broken = t.write("broken.json", "{\n  \"kind\": \"pairwise\",\n  \"d\": 3,,\n}\n");
  CHECK_THAT(refusal([&] { read_fit(broken); }), Catch::Contains("broken.json:3:10: not valid JSON"));
  // A number beyond the doubles is an input error naming the file and where the number stands.
  const fs::path huge = t.write("huge.json", "{\n  \"kind\": \"pairwise\",\n  \"d\": 1e400\n}\n");
  CHECK_THAT(refusal([&] { read_fit(huge); }),
             Catch::Contains("huge.json:3:8: the number 1e400 is beyond the range of a double"));
  // Mismatched d between fit and data.
  fs::create_directories(t.dir / "d4");
  simulate(t.dir / "d4", {{"d", "4"}});
  CHECK_THAT(refusal([&] {
               predict(settings(predict_keys(), {{"fit", (t.dir / "fit.json").string()},
                                                 {"data", (t.dir / "d4" / "data.csv").string()}}),
                       t.dir / "p.csv", 1);
             }),
             Catch::Contains("has d = 4 but --fit") && Catch::Contains("fitted on d = 3"));
  CHECK_FALSE(fs::exists(t.dir / "p.csv"));
  // A truth whose A file is gone.
  fs::remove(t.dir / "d4" / "data.A.csv");
  CHECK_THAT(refusal([&] { read_truth(t.dir / "d4" / "data.truth.json"); }),
             Catch::Contains("names the A file") && Catch::Contains("does not exist"));
  // --test-pairs without --truth; --truth with an RFA fit is checked in tests/predict_contract.sh.
  CHECK_THAT(refusal([&] {
               score(settings(score_keys(), {{"fit", (t.dir / "fit.json").string()},
                                             {"data", (t.dir / "data.csv").string()},
                                             {"test-pairs", "5000"}}),
                     "", 1);
             }),
             Catch::Contains("--test-pairs is used with --truth only"));
}
