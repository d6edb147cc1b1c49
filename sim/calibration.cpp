#include "sim/calibration.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/model.hpp"

namespace regio {

std::vector<CalibrationRow> calibrate(const Model& m) {
  const Scenario& sc = m.scenario();
  const double scale = m.config().scale;
  const std::int32_t now = m.first_month();
  const auto& p = m.persons;
  std::vector<CalibrationRow> rows;

  // Counts per zone from the agents themselves (not from the accounting counters).
  const size_t nz = sc.zones.size();
  std::vector<double> people(nz), men(nz), women(nz), old(nz), labour(nz), unemployed(nz),
      age15_74(nz), active15_74(nz);
  for (size_t i = 0; i < p.size(); ++i) {
    if (!p.alive[i]) continue;
    const size_t z = p.zone[i];
    const int age = (now - p.birth_month[i]) / 12;
    const auto s = static_cast<Status>(p.status[i]);
    people[z] += 1;
    (p.sex[i] == idx(Sex::female) ? women : men)[z] += 1;
    if (age >= 65) old[z] += 1;
    // CBS counts students with a paid side job as employed.
    const bool in_labour_force =
        s == Status::employed || s == Status::unemployed || (s == Status::student && p.side_job[i]);
    if (s == Status::employed || s == Status::unemployed) labour[z] += 1;
    if (s == Status::unemployed) unemployed[z] += 1;
    if (age >= 15 && age < 75) {
      age15_74[z] += 1;
      if (in_labour_force) active15_74[z] += 1;
    }
  }
  std::vector<double> homes(nz);
  for (size_t h = 0; h < m.households.id.size(); ++h)
    if (m.households.alive[h]) homes[m.households.zone[h]] += 1;

  double total = 0, total_target = 0;
  for (size_t z = 0; z < nz; ++z) {
    const ZoneSpec& zs = sc.zones[z];
    rows.push_back({fmt::format("inhabitants {}", zs.name), zs.source,
                    std::round(static_cast<double>(zs.inhabitants) * scale), people[z], 0.0,
                    "persons"});
    rows.push_back({fmt::format("women {}", zs.name), zs.source,
                    std::round(static_cast<double>(zs.women) * scale), women[z], 0.0, "persons"});
    rows.push_back({fmt::format("households {}", zs.name),
                    "dwellings (" + zs.source + ") x occupancy (estimate)",
                    std::round(static_cast<double>(zs.dwellings) * scale * sc.demography.occupancy),
                    homes[z], 0.0, "households"});
    // Integer rounding of the age bands can move the share by less than 1/inhabitants.
    double share65 = 0.0;
    for (int b = 13; b < k_age_bands; ++b) share65 += zs.age_shares[b];
    rows.push_back({fmt::format("share 65+ {}", zs.name), zs.age_source, 100.0 * share65,
                    100.0 * old[z] / people[z], 0.5, "%"});
    total += people[z];
    total_target += std::round(static_cast<double>(zs.inhabitants) * scale);
  }
  rows.push_back({"inhabitants region", "CBS 2024 sum of the municipalities", total_target, total,
                  0.0, "persons"});

  double lf = 0, un = 0, a1574 = 0, act = 0;
  for (size_t z = 0; z < nz; ++z)
    lf += labour[z], un += unemployed[z], a1574 += age15_74[z], act += active15_74[z];
  rows.push_back({"unemployment rate", sc.labour.unemployment_rate.source,
                  100.0 * sc.labour.unemployment_rate, 100.0 * un / lf, 0.5, "%"});
  rows.push_back({"participation 15-74 (labour force incl. working students / population)",
                  "model.md target ~73 % (CBS net participation 2024: 72.8 %)", 73.0,
                  100.0 * act / a1574, 5.0, "%"});
  rows.push_back({"life expectancy at birth", sc.demography.life_expectancy_at_birth.source,
                  sc.demography.life_expectancy_at_birth, life_expectancy(m.schedules.mortality),
                  1.0, "years"});
  rows.push_back({"total fertility", sc.demography.total_fertility.source, 1.45,
                  [&] {
                    double tfr = 0;
                    for (int a = 15 * 12; a < 50 * 12; ++a) tfr += m.schedules.fertility.hazard(a);
                    return tfr;
                  }(),
                  0.05, "children per woman"});
  return rows;
}

}  // namespace regio
