// LazyValue: computed once, on first use, whatever the number of threads asking; a failed
// computation is retried.
#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "studies/sweep/lazy_value.hpp"

TEST_CASE("LazyValue: nothing is computed until asked", "[lazy-value]") {
  int calls = 0;
  const attnrate::LazyValue<int> v([&calls] { return ++calls; });
  REQUIRE(calls == 0);
  REQUIRE_FALSE(v.computed());
  REQUIRE(v.get() == 1);
  REQUIRE(v.get() == 1);
  REQUIRE(calls == 1);
  REQUIRE(v.computed());
}

TEST_CASE("LazyValue: concurrent first uses compute once and see one value", "[lazy-value]") {
  std::atomic<int> calls{0};
  const attnrate::LazyValue<std::vector<int>> v([&calls] {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // widen the race window
    return std::vector<int>(1000, 7);
  });
  std::vector<const std::vector<int>*> seen(8, nullptr);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t) threads.emplace_back([&, t] { seen[t] = &v.get(); });
  for (auto& t : threads) t.join();
  REQUIRE(calls == 1);
  for (const auto* p : seen) {
    REQUIRE(p == seen.front());
    REQUIRE(p->size() == 1000);
    REQUIRE((*p)[999] == 7);
  }
}

TEST_CASE("LazyValue: a computation that throws is tried again", "[lazy-value]") {
  int calls = 0;
  const attnrate::LazyValue<int> v([&calls] {
    if (++calls == 1) throw std::runtime_error("first try fails");
    return 42;
  });
  REQUIRE_THROWS_WITH(v.get(), "first try fails");
  REQUIRE_FALSE(v.computed());
  REQUIRE(v.get() == 42);
  REQUIRE(calls == 2);
}
