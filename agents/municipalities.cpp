#include "agents/municipalities.hpp"

#include <algorithm>
#include <cmath>

#include "sim/model.hpp"

namespace regio {

std::int64_t Municipality::free_dwellings() const {
  const auto usable = static_cast<std::int64_t>(std::floor(dwellings * (1.0 - frictional_vacancy)));
  return usable > households ? usable - households : 0;
}

namespace municipalities {

void build_dwellings(Model& m, std::int32_t now) {
  const int year = now / 12;
  const double scale = m.config().scale;
  for (auto& mu : m.municipalities) mu.dwellings += mu.regular_construction / 12.0;
  for (const auto& plan : m.scenario().construction) {
    if (year < plan.first_year || year > plan.last_year) continue;
    const int z = m.scenario().zone_index(plan.zone);
    const double months = 12.0 * (plan.last_year - plan.first_year + 1);
    m.municipalities[static_cast<size_t>(z)].dwellings +=
        static_cast<double>(plan.homes) * scale / months;
  }
}

double in_migration_demand(const Model& m, int z) {
  const Municipality& mu = m.municipalities[static_cast<size_t>(z)];
  // Rates are persons per 1,000 inhabitants per year; in-migrant households average
  // k_in_migrant_household_size persons (see the in-migration rule in sim/model.cpp).
  const double base = mu.in_migration_per_1000 / 1000.0 * static_cast<double>(mu.persons) / 12.0;
  return base * job_pull(m);
}

double job_pull(const Model& m) {
  // Migration follows jobs: the region draws more people when vacancies are hard to fill
  // and fewer when jobs are scarce. Tightness is measured against its level in the first
  // year (as for wages; before that the pull is 1), and the response is bounded, since the
  // zone rates are observed averages over good and bad years.
  if (!(m.tightness_reference > 0.0)) return 1.0;
  const double relative = m.tightness / m.tightness_reference;
  const double pull = 1.0 + m.scenario().demography.in_migration_tightness * (relative - 1.0);
  return std::clamp(pull, 0.5, 1.5);
}

}  // namespace municipalities
}  // namespace regio
