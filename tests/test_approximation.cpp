// The approximation study recovers the known smoothness of an exactly b-Hoelder function
// (weierstrass:b) from noiseless data, without being told b.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "estimators/common/input_error.hpp"
#include "studies/pairwise/approximation.hpp"

using namespace attnrate;

TEST_CASE("approximation: weierstrass:1.5 gives b_approx = 1.5 within 0.1", "[pairwise_study]") {
  Settings s(approximation_study().keys());
  s.set("activations", "weierstrass:1.5", "test");
  s.set("seeds", "2", "test");
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-approx-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const nlohmann::json summary = approximation_study().run(s, StudyContext{dir, 0, false, false});
  REQUIRE(summary.at("quantities").size() == 1);
  const auto& q = summary.at("quantities")[0];
  INFO(q.dump());
  CHECK(q.at("quantity") == "smoothness");
  CHECK(q.at("select").at("activation") == "weierstrass:1.5");
  CHECK(std::abs(q.at("value").get<double>() - 1.5) < 0.1);
  CHECK(q.at("details").at("slope_vs_log_K").get<double>() == Approx(-2 * q.at("value").get<double>()));
  CHECK(std::filesystem::file_size(dir / "approximation.png") > 1000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("approximation: options are checked before any work", "[pairwise_study]") {
  Settings s(approximation_study().keys());
  s.set("knots", "64", "--knots");
  CHECK_THROWS_WITH(approximation_study().check(s), Catch::Contains("--knots needs at least two"));
  Settings t(approximation_study().keys());
  t.set("activations", "weierstrass:1,,kink:1.5", "--activations");
  CHECK_THROWS_AS(approximation_study().check(t), InputError);
  Settings u(approximation_study().keys());
  u.set("knots", "8,100000", "--knots");
  CHECK_THROWS_WITH(approximation_study().check(u), Catch::Contains("exceed M"));
}
