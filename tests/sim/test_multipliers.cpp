// Input-output multipliers of the model's own economy (sim/multipliers.hpp): the Leontief
// solve against a hand-computed 2-sector table, and the table the default region yields.
#include <catch2/catch.hpp>

#include "sim/model.hpp"
#include "sim/multipliers.hpp"
#include "sim/scenario_loader.hpp"

using regio::IoTable;

TEST_CASE("leontief_solve matches the hand-computed inverse of a 2-sector table", "[multipliers]") {
  // A = [[0.2, 0.3], [0.1, 0.4]]; I - A = [[0.8, -0.3], [-0.1, 0.6]], det = 0.45;
  // (I - A)^-1 = [[0.6, 0.3], [0.1, 0.8]] / 0.45.
  const std::vector<double> a{0.2, 0.3, 0.1, 0.4};
  const auto x = regio::leontief_solve(a, 2, {1.0, 0.0});
  CHECK(x[0] == Approx(0.6 / 0.45).epsilon(1e-12));
  CHECK(x[1] == Approx(0.1 / 0.45).epsilon(1e-12));
  const auto y = regio::leontief_solve(a, 2, {0.0, 1.0});
  CHECK(y[0] == Approx(0.3 / 0.45).epsilon(1e-12));
  CHECK(y[1] == Approx(0.8 / 0.45).epsilon(1e-12));
  CHECK_THROWS_AS(regio::leontief_solve({1.0, 0.0, 0.0, 1.0}, 2, {1.0, 1.0}),
                  regio::InvariantError);
}

TEST_CASE("io_multipliers: type I and type II by hand for a 2-sector economy", "[multipliers]") {
  IoTable t;
  t.sectors = 2;
  t.a = {0.2, 0.3, 0.1, 0.4};
  t.va = {0.5, 0.4};
  t.jobs = {1e-5, 2e-5};   // jobs per euro of monthly output
  t.income = {0.3, 0.2};   // disposable wage income per euro of output
  t.spend = {0.25, 0.15};  // regional spending per euro of disposable income
  const auto one = regio::io_multipliers(t, 0, false);
  const double x0 = 0.6 / 0.45, x1 = 0.1 / 0.45;
  CHECK(one.output == Approx(x0 + x1));
  CHECK(one.value_added == Approx(0.5 * x0 + 0.4 * x1));
  CHECK(one.jobs_per_million == Approx((1e-5 * x0 + 2e-5 * x1) * 1e6 / 12.0));
  // Type II: households as a third sector. Closed form: income h = w.x, x = L(e + s h)
  // => h = w.Le / (1 - w.Ls).
  const double ls0 = (0.6 * 0.25 + 0.3 * 0.15) / 0.45, ls1 = (0.1 * 0.25 + 0.8 * 0.15) / 0.45;
  const double h = (0.3 * x0 + 0.2 * x1) / (1.0 - (0.3 * ls0 + 0.2 * ls1));
  const auto two = regio::io_multipliers(t, 0, true);
  CHECK(two.output == Approx(x0 + x1 + h * (ls0 + ls1)));
  CHECK(two.output > one.output);
}

TEST_CASE("The default region's input-output table: type II above type I above 1",
          "[multipliers][economy]") {
  static const regio::Scenario s =
      regio::load_scenario("key-region-leiden", {{"period.end", "2026-12"}});
  regio::RunConfig c;
  c.seed = 5;
  c.scale = 0.05;
  const regio::Model m(s, c);
  const IoTable t = regio::io_table(m);
  const int lsh = s.sector_index("lsh");
  REQUIRE(lsh >= 0);
  // Column sums of A are the regional input shares: below each sector's input share.
  for (size_t j = 0; j < t.sectors; ++j) {
    double col = 0.0;
    for (size_t k = 0; k < t.sectors; ++k) col += t.a[k * t.sectors + j];
    CHECK(col >= 0.0);
    CHECK(col <= s.sectors[j].input_share + 1e-12);
  }
  const auto one = regio::io_multipliers(t, lsh, false);
  const auto two = regio::io_multipliers(t, lsh, true);
  CHECK(one.output > 1.0);
  CHECK(two.output > one.output);
  CHECK(one.value_added > 1.0 - s.sectors[static_cast<size_t>(lsh)].input_share);
  CHECK(one.jobs_per_million > 0.0);
}
