// The kernel-limit study's measurements are what they claim to be: per repetition, n-ratio is
// n_eps(MLP) / n_eps(RFA) and ratio-growth is n-ratio(to-N) / n-ratio(from-N); values are the
// geometric means; censored n_eps are flagged on the side where the truth may lie.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "estimators/common/input_error.hpp"
#include "studies/rfa/kernel_limit.hpp"

using namespace attnrate;

namespace {

const nlohmann::json& find(const nlohmann::json& summary, const std::string& quantity,
                           const std::map<std::string, std::string>& select) {
  for (const auto& q : summary.at("quantities"))
    if (q.at("quantity") == quantity && q.at("select").get<std::map<std::string, std::string>>() == select) return q;
  FAIL("no " << quantity);
  throw;
}

}  // namespace

TEST_CASE("kernel-limit: ratios, growth and censoring are consistent with the per-model n_eps", "[rfa_study]") {
  Settings s(kernel_limit_study().keys());
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"N", "2,4"}, {"d", "4"}, {"n", "32:256:x2"}, {"seeds", "2"}, {"test-n", "500"}, {"eps", "0.3"}})
    s.set(k, v, "test");
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-kernel-limit-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const nlohmann::json summary = kernel_limit_study().run(s, StudyContext{dir, 0, false, false});
  std::map<std::string, std::vector<double>> ratio;
  for (const std::string N : {"2", "4"}) {
    const auto& r = find(summary, "n-ratio", {{"N", N}});
    const auto& rfa = find(summary, "n-eps", {{"N", N}, {"model", "rfa"}});
    const auto& mlp = find(summary, "n-eps", {{"N", N}, {"model", "mlp"}});
    double log_sum = 0;
    for (std::size_t k = 0; k < 2; ++k) {
      const double expect = mlp.at("details").at("per_repetition")[k].get<double>() /
                            rfa.at("details").at("per_repetition")[k].get<double>();
      CHECK(r.at("details").at("per_repetition")[k].get<double>() == Approx(expect).epsilon(1e-12));
      ratio[N].push_back(expect);
      log_sum += std::log(expect);
    }
    CHECK(r.at("value").get<double>() == Approx(std::exp(log_sum / 2)).epsilon(1e-12));
    CHECK(r.at("width_scale") == "log(hi/lo)");
    // A right-censored MLP n_eps (the truth is larger) can only make the ratio larger.
    CHECK(r.at("may_be_higher").get<bool>() == (mlp.at("may_be_higher").get<bool>() || rfa.at("may_be_lower").get<bool>()));
    CHECK(r.at("may_be_lower").get<bool>() == (mlp.at("may_be_lower").get<bool>() || rfa.at("may_be_higher").get<bool>()));
  }
  const auto& g = find(summary, "ratio-growth", {{"from-N", "2"}, {"to-N", "4"}});
  for (std::size_t k = 0; k < 2; ++k)
    CHECK(g.at("details").at("per_repetition")[k].get<double>() == Approx(ratio["4"][k] / ratio["2"][k]).epsilon(1e-12));
  CHECK(std::filesystem::file_size(dir / "kernel-limit.png") > 1000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("kernel-limit: options are checked before any work", "[rfa_study]") {
  Settings s(kernel_limit_study().keys());
  s.set("lambda-grid", "1:1e-3:x10", "--lambda-grid");
  CHECK_THROWS_WITH(kernel_limit_study().check(s), Catch::Contains("--lambda-grid must be FIRST:LAST:xFACTOR"));
  Settings t(kernel_limit_study().keys());
  t.set("validation", "0.9", "--validation");
  CHECK_THROWS_AS(kernel_limit_study().check(t), InputError);
  Settings u(kernel_limit_study().keys());
  u.set("target", "key-poly:zz", "--target");
  CHECK_THROWS_AS(kernel_limit_study().check(u), InputError);
  // Each curve grows one training set: sizes out of order are refused (they once indexed past
  // the drawn samples).
  Settings v(kernel_limit_study().keys());
  v.set("n", "300,100", "--n");
  CHECK_THROWS_WITH(kernel_limit_study().check(v), Catch::Contains("--n must list training sizes in increasing order"));
}
