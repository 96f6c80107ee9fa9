// Cell distribution over MPI ranks (studies/distributed.hpp), checked without MPI: the share
// partitions the cells, the exchange format carries every double bit for bit (including the
// NaN and infinities that JSON text would turn into null), malformed exchanges are rejected,
// and the single-process gather is the identity. The MPI path itself is checked end to end by
// tests/mpi/bit_identical.sh (single process vs mpirun -np 2).
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/sweep/distributed.hpp"
#include "studies/sweep/study.hpp"

namespace {
using attnrate::CellShare;
using nlohmann::json;

// Doubles of every kind: random bit patterns (all exponents, subnormals, NaN payloads) and the
// special values.
std::vector<double> awkward_doubles() {
  std::vector<double> v = {0.0, -0.0, 1.0 / 3.0, 0.1, 2.0, -1e308, std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::lowest(), std::numeric_limits<double>::min(),
                           std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::epsilon(),
                           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(), 9007199254740993.0, 1e-320};
  attnrate::Rng rng(20240611);
  for (int k = 0; k < 400; ++k) v.push_back(std::bit_cast<double>(rng()));
  return v;
}

bool same_double(double a, double b) {
  if (std::isnan(a)) return std::isnan(b);  // CBOR keeps NaN, not its payload
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

// Cells shaped like the studies' checkpoints: numbers, integers, strings, nested rows.
std::vector<std::optional<json>> make_cells(std::size_t n) {
  const std::vector<double> d = awkward_doubles();
  std::vector<std::optional<json>> cells(n);
  for (std::size_t i = 0; i < n; ++i) {
    json rows = json::array();
    for (std::size_t k = 0; k < 3; ++k) rows.push_back({{"x", d[(7 * i + k) % d.size()]}, {"k", -static_cast<int>(k)}});
    cells[i] = json{{"M", 500 * (i + 1)},         {"rep", static_cast<int>(i % 3)},
                    {"error", d[i % d.size()]},    {"seconds", d[(i + 1) % d.size()]},
                    {"status", i % 2 ? "ok" : "non-finite"}, {"rows", rows}};
  }
  return cells;
}

// Same value and kind; a non-negative integer may come back unsigned (CBOR has no signed zero or
// positive integers), which prints the same.
void require_same(const json& a, const json& b) {
  if (a.is_number_integer()) {
    REQUIRE(b.is_number_integer());
    REQUIRE(a.dump() == b.dump());
    return;
  }
  REQUIRE(a.type() == b.type());
  if (a.is_number_float()) {
    REQUIRE(same_double(a.get<double>(), b.get<double>()));
  } else if (a.is_object()) {
    REQUIRE(a.size() == b.size());
    for (auto it = a.begin(); it != a.end(); ++it) require_same(it.value(), b.at(it.key()));
  } else if (a.is_array()) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) require_same(a[i], b[i]);
  } else {
    REQUIRE(a == b);
  }
}

// The packs of ranks 0..P-1, each holding only its own cells, laid end to end.
std::pair<std::vector<std::uint8_t>, std::vector<std::size_t>> packs_of(const std::vector<std::optional<json>>& all,
                                                                        int P) {
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> sizes;
  for (int r = 0; r < P; ++r) {
    const CellShare share{r, P};
    std::vector<std::optional<json>> mine(all.size());
    for (std::size_t i = 0; i < all.size(); ++i)
      if (share.owns(i)) mine[i] = all[i];
    const auto pack = attnrate::pack_cells(share, mine);
    bytes.insert(bytes.end(), pack.begin(), pack.end());
    sizes.push_back(pack.size());
  }
  return {bytes, sizes};
}
}  // namespace

TEST_CASE("a share assigns every cell to exactly one rank", "[distributed]") {
  for (int P = 1; P <= 5; ++P)
    for (std::size_t n = 0; n <= 23; ++n) {
      std::vector<int> owners(n, 0);
      std::size_t counted = 0;
      for (int r = 0; r < P; ++r) {
        const CellShare s{r, P};
        std::size_t mine = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (s.owns(i)) {
            ++owners[i];
            ++mine;
          }
        REQUIRE(s.owned_count(n) == mine);
        REQUIRE(s.root() == (r == 0));
        counted += mine;
      }
      REQUIRE(counted == n);
      for (int o : owners) REQUIRE(o == 1);
    }
}

TEST_CASE("without mpirun the world share is one process", "[distributed]") {
  const CellShare s = attnrate::world_share();
  REQUIRE(s.rank == 0);
  REQUIRE(s.size == 1);
  const attnrate::StudyContext ctx{"unused", 1, false, false};
  REQUIRE(ctx.share.size == 1);
}

TEST_CASE("the exchange format carries every double bit for bit", "[distributed]") {
  const auto all = make_cells(37);
  for (int P : {1, 2, 3, 8}) {
    const auto [bytes, sizes] = packs_of(all, P);
    const std::vector<json> back = attnrate::unpack_cells(all.size(), bytes, sizes);
    REQUIRE(back.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) require_same(*all[i], back[i]);
  }
  // Why not JSON text: it writes NaN and infinities as null.
  REQUIRE(json::parse(json{{"e", std::numeric_limits<double>::quiet_NaN()}}.dump()).at("e").is_null());
  // ... while every finite double survives it (the checkpoints rely on this).
  for (double v : awkward_doubles())
    if (std::isfinite(v)) REQUIRE(same_double(json::parse(json(v).dump()).get<double>(), v));
}

TEST_CASE("malformed exchanges are rejected", "[distributed]") {
  const auto all = make_cells(6);
  auto [bytes, sizes] = packs_of(all, 2);
  SECTION("a cell sent by a rank that does not own it") {
    // Rank 1's pack presented as rank 0's (and an empty pack for rank 1).
    const std::vector<std::uint8_t> rank1(bytes.begin() + static_cast<std::ptrdiff_t>(sizes[0]), bytes.end());
    REQUIRE_THROWS_AS(attnrate::unpack_cells(all.size(), rank1, {rank1.size(), 0}), std::runtime_error);
  }
  SECTION("a missing cell") {
    REQUIRE_THROWS_AS(attnrate::unpack_cells(all.size() + 2, bytes, sizes), std::runtime_error);
  }
  SECTION("a duplicate cell") {
    std::vector<std::uint8_t> twice(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(sizes[0]));
    twice.insert(twice.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(sizes[0]));
    twice.insert(twice.end(), bytes.begin() + static_cast<std::ptrdiff_t>(sizes[0]), bytes.end());
    REQUIRE_THROWS_AS(attnrate::unpack_cells(all.size(), twice, {2 * sizes[0], sizes[1]}), std::runtime_error);
  }
  SECTION("a truncated pack") {
    bytes.pop_back();
    REQUIRE_THROWS(attnrate::unpack_cells(all.size(), bytes, {sizes[0], sizes[1] - 1}));
  }
  SECTION("sizes that do not add up") {
    REQUIRE_THROWS_AS(attnrate::unpack_cells(all.size(), bytes, {sizes[0], sizes[1] + 1}), std::runtime_error);
  }
  SECTION("an owned cell without a value cannot be packed") {
    auto holes = all;
    holes[2].reset();
    REQUIRE_THROWS_AS(attnrate::pack_cells(CellShare{0, 2}, holes), std::logic_error);
  }
}

TEST_CASE("the single-process gather returns the cells or rethrows the failure", "[distributed]") {
  const auto all = make_cells(5);
  const std::vector<json> back = attnrate::gather_cells(CellShare{}, all);
  REQUIRE(back.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) require_same(*all[i], back[i]);

  auto holes = all;
  holes[3].reset();
  REQUIRE_THROWS_AS(attnrate::gather_cells(CellShare{}, holes), std::logic_error);
  REQUIRE_THROWS_AS(attnrate::gather_cells(CellShare{}, holes, std::make_exception_ptr(attnrate::Interrupted())),
                    attnrate::Interrupted);
  REQUIRE_THROWS_AS(
      attnrate::gather_cells(CellShare{}, all, std::make_exception_ptr(attnrate::InputError("bad --M"))),
      attnrate::InputError);
}
