// Municipalities (internal zones): dwellings, the construction plan, housing pressure.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace regio {

class Model;

struct Municipality {
  std::string code;
  std::string name;
  double dwellings = 0.0;             ///< stock, fractional while construction accrues
  std::int64_t households = 0;        ///< kept current by the commit phase
  std::int64_t persons = 0;           ///< kept current by the commit phase
  double in_migration_carry = 0.0;    ///< expected in-migrant households not yet realised
  double regular_construction = 0.0;  ///< homes per year
  double in_migration_per_1000 = 0.0;
  double frictional_vacancy = 0.0;
  // Flow counters of the current month (reset by the observer).
  std::int64_t births = 0, deaths = 0, in_migrants = 0, out_migrants = 0;
  std::int64_t in_migration_capped =
      0;                             ///< households that wanted to move in but found no dwelling
  std::int64_t blocked_leavers = 0;  ///< young adults who found no dwelling to leave home
  std::int64_t persons_at_month_start = 0;
  // Yearly counters (reset by the observer at the end of each year).
  std::array<std::int64_t, 4> graduates{};  ///< residents completing a programme, by level
  std::int64_t graduates_leaving = 0;
  // Residents' jobs, kept current by firms::hire / firms::release.
  std::vector<std::int64_t> employed_by;        ///< [sector * levels + level] jobs in the region
  std::array<std::int64_t, 4> out_commuters{};  ///< jobs outside the region, by level
  std::vector<std::int64_t> jobs_by_zone;  ///< residents' jobs by job zone (internal, external)
  // Counted every month from the persons (sim/model.cpp).
  std::array<std::int64_t, 6> status_count{};
  std::int64_t working_age = 0;  ///< residents aged 15-64
  // Firm entry.
  double startup_carry = 0.0;
  std::int64_t startups_month = 0;
  std::int64_t firm_entries = 0, firm_exits = 0;  ///< this month

  /// Dwellings that can take a new household now.
  std::int64_t free_dwellings() const;
  double housing_pressure() const { return dwellings > 0 ? households / dwellings : 0.0; }
};

namespace municipalities {

/// Adds this month's completions (regular construction plus named plans) to the stock.
void build_dwellings(Model& m, std::int32_t now);
/// Expected in-migrants this month for zone z (persons, before the dwelling cap): the
/// zone's rate times job_pull(m).
double in_migration_demand(const Model& m, int z);
/// Factor on in-migration from labour-market tightness relative to its first-year level:
/// 1 + demography.in_migration_tightness x (relative - 1), within [0.5, 1.5].
double job_pull(const Model& m);

}  // namespace municipalities
}  // namespace regio
