// Golden regression test: a small run of the default region (scale 0.05, 2026-2030, the
// scenario's seed 20260101) must reproduce summary figures recorded from an earlier run.
// It catches unintended changes of the model's behaviour; deliberate changes refresh the
// figures (see below).
//
// Tolerances. On the machine and compiler the figures were recorded with, a run
// reproduces them exactly (the model is deterministic). Another compiler, libm or CPU may
// round one floating-point operation differently (e.g. fused multiply-add, another log()),
// which changes one random event and from there the whole random trajectory; the figures
// then move by their seed-to-seed spread. So each figure's tolerance is
//   max(2 %, 4 x its relative standard deviation over 40 other seeds),
// measured when the figures were recorded (the SD column below). Stocks of the whole
// region (population, households) are stable and keep the 2 % floor; yearly flows at this
// small scale (~200 births a year) vary by 6-8 % between seeds, so their tolerance is wide
// and the five-year totals, which vary half as much, are checked as well.
//
// How to refresh the golden figures (only after a change that is meant to alter results):
//   1. Build, then run the hidden test case directly:
//        build/<dir>/tests/regression/test_regression "[.refresh]" -s
//      It prints the figures of this run and, from 40 other seeds, each figure's relative
//      SD and tolerance, as lines of the k_golden table.
//   2. Replace the k_golden table below with those lines and say why in the commit message.
//   3. Run the test again: it must pass.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "output/results.hpp"
#include "sim/model.hpp"
#include "sim/observer.hpp"
#include "sim/scenario.hpp"
#include "sim/scenario_loader.hpp"

namespace {

constexpr double k_scale = 0.05;
constexpr std::uint64_t k_seed = 20260101;  // the seed written in baseline.yaml

struct Figure {
  const char* name;
  double golden;     ///< value of the recorded run
  double sd;         ///< relative SD over 40 other seeds when recorded (documentation)
  double tolerance;  ///< relative: max(0.02, 4 x sd)
};

// clang-format off
const std::vector<Figure> k_golden = {
    // name                       golden    sd      tolerance
    {"population_end_2030",         16505, 0.0041, 0.020},
    {"population_end_2030_leiden",   6555, 0.0066, 0.027},
    {"households_end_2030",          7857, 0.0001, 0.020},
    {"births_2030",                   195, 0.0722, 0.289},
    {"deaths_2030",                   150, 0.0788, 0.316},
    {"births_2026_2030",              860, 0.0283, 0.114},
    {"deaths_2026_2030",              767, 0.0283, 0.114},
    {"in_migrants_2026_2030",        2615, 0.0235, 0.095},
    {"out_migrants_2026_2030",       2795, 0.0232, 0.093},
    {"students_2031_01_01",           691, 0.0467, 0.187},
    {"jobs_end_2030",                8099, 0.0069, 0.028},
    {"unemployed_end_2030",           200, 0.1441, 0.577},
    {"value_added_2030",           661520578, 0.0178, 0.072},
    {"vacancies_2030",                365, 0.0381, 0.153},
    {"firm_exits_2026_2030",          836, 0.0487, 0.195},
    {"establishments_2031_01_01",    2299, 0.0385, 0.155},
};
// clang-format on

const regio::Scenario& scenario() {
  static const regio::Scenario s =
      regio::load_scenario("key-region-leiden", {{"period.end", "2030-12"}});
  return s;
}

/// The summary figures of one run, in the order of k_golden.
std::vector<double> figures(std::uint64_t seed) {
  regio::RunConfig c;
  c.seed = seed;
  c.scale = k_scale;
  regio::Model m(scenario(), c);
  m.run();
  const regio::output::Results r = regio::observer::to_results(m);
  const size_t zones = r.axis("zone")->labels.size();
  const size_t months = r.axis("month")->labels.size();
  const size_t dates = r.axis("date")->labels.size();
  const size_t levels = r.axis("level")->labels.size();
  const auto& zone_names = r.axis("zone")->labels;
  const size_t leiden = static_cast<size_t>(
      std::find(zone_names.begin(), zone_names.end(), "Leiden") - zone_names.begin());
  REQUIRE(leiden < zones);
  auto values = [&](const char* path) -> const std::vector<double>& {
    const regio::output::Dataset* d = r.dataset(path);
    REQUIRE(d != nullptr);
    return d->values;
  };
  // Sum of a [month][zone] dataset over the months [from, months) and all zones.
  auto monthly_sum = [&](const char* path, size_t from) {
    const auto& v = values(path);
    REQUIRE(v.size() == months * zones);
    double s = 0;
    for (size_t k = from * zones; k < v.size(); ++k) s += v[k];
    return s;
  };
  auto at_last_month = [&](const char* path, size_t z) {
    return values(path)[(months - 1) * zones + z];
  };
  auto region_at_last_month = [&](const char* path) {
    double v = 0;
    for (size_t z = 0; z < zones; ++z) v += at_last_month(path, z);
    return v;
  };
  double population = 0, households = 0;
  for (size_t z = 0; z < zones; ++z)
    population += at_last_month("/demography/population", z),
        households += at_last_month("/households/households", z);
  const auto& students = values("/education/students");  // [date][zone][level]
  REQUIRE(students.size() == dates * zones * levels);
  double students_last = 0;
  for (size_t k = (dates - 1) * zones * levels; k < students.size(); ++k)
    students_last += students[k];
  const auto& firms = values("/economy/establishments");  // [date][zone][sector]
  REQUIRE(firms.size() % dates == 0);
  const size_t per_date = firms.size() / dates;
  double firms_last = 0;
  for (size_t k = (dates - 1) * per_date; k < firms.size(); ++k) firms_last += firms[k];
  return {population,
          at_last_month("/demography/population", leiden),
          households,
          monthly_sum("/demography/births", months - 12),
          monthly_sum("/demography/deaths", months - 12),
          monthly_sum("/demography/births", 0),
          monthly_sum("/demography/deaths", 0),
          monthly_sum("/demography/in_migrants", 0),
          monthly_sum("/demography/out_migrants", 0),
          students_last,
          region_at_last_month("/economy/jobs"),
          region_at_last_month("/labour/unemployed"),
          monthly_sum("/economy/value_added", months - 12),
          monthly_sum("/economy/vacancies", months - 12) / 12.0,
          monthly_sum("/economy/firm_exits", 0),
          firms_last};
}

}  // namespace

TEST_CASE("Golden figures of the default region at scale 0.05 for 2026-2030", "[regression]") {
  REQUIRE(scenario().start == regio::Month::of(2026, 1));
  REQUIRE(scenario().end == regio::Month::of(2030, 12));
  const std::vector<double> now = figures(k_seed);
  REQUIRE(now.size() == k_golden.size());
  std::ostringstream table;  // shown on failure: the figures of this run
  for (size_t k = 0; k < now.size(); ++k)
    table << k_golden[k].name << ": " << now[k] << " (golden " << k_golden[k].golden << ")\n";
  INFO("this run:\n" << table.str());
  for (size_t k = 0; k < now.size(); ++k) {
    const Figure& f = k_golden[k];
    INFO(f.name << ": " << now[k] << ", golden " << f.golden << " +- " << f.tolerance * 100
                << " %");
    CHECK(now[k] == Approx(f.golden).epsilon(f.tolerance));
  }
}

TEST_CASE("The golden run is reproduced exactly by a second run", "[regression]") {
  // Same binary, same seed: identical figures (a guard for the golden figures' meaning).
  CHECK(figures(k_seed) == figures(k_seed));
}

TEST_CASE("Print refreshed golden figures", "[.refresh]") {
  const std::vector<double> golden = figures(k_seed);
  constexpr int seeds = 40;
  std::vector<double> sum(golden.size(), 0.0), sum2(golden.size(), 0.0);
  for (int s = 1; s <= seeds; ++s) {
    const auto f = figures(1000 + static_cast<std::uint64_t>(s));
    for (size_t k = 0; k < f.size(); ++k) sum[k] += f[k], sum2[k] += f[k] * f[k];
  }
  std::ostringstream out;
  out << "const std::vector<Figure> k_golden = {\n"
      << "    // name                       golden    sd      tolerance\n";
  for (size_t k = 0; k < golden.size(); ++k) {
    const double mean = sum[k] / seeds;
    const double sd = std::sqrt(std::max(0.0, sum2[k] / seeds - mean * mean)) / mean;
    const double tolerance = std::max(0.02, std::ceil(4 * sd * 1000) / 1000);
    const std::string name = std::string("{\"") + k_golden[k].name + "\",";
    char line[160];
    std::snprintf(line, sizeof line, "    %-30s %6.0f, %.4f, %.3f},\n", name.c_str(), golden[k], sd,
                  tolerance);
    out << line;
  }
  out << "};\n";
  WARN(out.str());
  SUCCEED();
}
