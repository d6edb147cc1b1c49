// Firms, SMEs, start-ups and the knowledge institutions as employers: storage (struct of
// arrays, stable ids) and the monthly firm rules of model.md section 2 (expectations,
// labour demand, production, wages, profit, bankruptcy, productivity, SME rules, entry).
// The labour market (sim/labour_market.*) fills vacancies; the goods market
// (sim/goods_market.*, sim/supply_chain.*) turns output into next month's demand.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/types.hpp"

namespace regio {

class Model;

/// Bits of FirmStore::kind.
enum FirmKind : std::uint8_t {
  k_institution = 1,  ///< a knowledge institution (funded from outside, never exits)
  k_spinoff = 2,      ///< founded from a knowledge institution
  k_inward = 4,       ///< settled from outside the region
  k_cluster_site = 8  ///< one of the cluster companies of the clusters table
};

inline constexpr std::uint8_t k_no_cluster = 0xFF;

struct FirmStore {
  using Levels = std::array<std::int32_t, k_education_levels>;
  std::vector<std::uint32_t> id;
  std::vector<std::uint8_t> sector;
  std::vector<std::uint16_t> zone;
  std::vector<std::uint8_t> cluster;  ///< index into the model's cluster names, or k_no_cluster
  std::vector<std::uint8_t> kind;     ///< FirmKind bits
  std::vector<std::uint16_t> institution;  ///< institution index for k_institution firms
  std::vector<std::int32_t> founded;       ///< Month::index
  std::vector<std::int32_t> owner_birth;   ///< SMEs: the owner's birth month
  std::vector<Levels> employees;           ///< residents and in-commuters, by job level
  std::vector<Levels> vacancies;           ///< open positions by job level
  std::vector<Levels> outside_staff;       ///< of employees: outside workers, by job level
  std::vector<std::int32_t> layoffs;       ///< positions to cut this month (after notice)
  std::vector<std::int32_t> layoff_month;  ///< when the announced layoffs take effect
  std::vector<double> productivity;        ///< value added per worker-month (EUR)
  std::vector<double> expected;            ///< expected demand (output per month, EUR)
  std::vector<double> demand;              ///< demand for this month (EUR)
  std::vector<double> output;              ///< output this month (EUR)
  std::vector<double> sales_households, sales_firms, sales_exports, sales_public;
  std::vector<double> export_demand, household_demand, public_demand, order_demand;
  std::vector<double> export_weight;    ///< the firm's claim on its sector's export demand
  std::vector<double> inputs;           ///< intermediate purchases this month (EUR)
  std::vector<double> regional_inputs;  ///< of which ordered from regional suppliers
  std::vector<double> wage_bill;        ///< wages paid this month (EUR)
  std::vector<double> profit;           ///< this month (EUR)
  std::vector<double> cash;
  std::vector<std::uint8_t> negative_months;
  std::vector<float> digital;  ///< SME digital maturity 0..1
  /// Log of the firm's idiosyncratic demand factor: its share of household, public and
  /// export demand is scaled by exp(this); an AR(1) around 0 (economy.demand_shock_*).
  std::vector<float> demand_shock;
  std::vector<std::uint8_t> alive;
  /// Who works here: person ids, and outside-worker ids with k_outside_bit set. Kept in
  /// step with employees[] by firms::hire / firms::release (swap-remove via job slots).
  std::vector<std::vector<std::uint32_t>> staff;

  static constexpr std::uint32_t k_outside_bit = 0x80000000u;

  size_t size() const { return id.size(); }
  size_t append(std::uint32_t new_id);
  void compact();
  size_t bytes() const;
  std::int32_t headcount(size_t f) const {
    const auto& e = employees[f];
    return e[0] + e[1] + e[2] + e[3];
  }
  /// Open positions (a level's vacancies below zero are staff in excess of its positions:
  /// they do not count).
  std::int32_t open_positions(size_t f) const {
    std::int32_t n = 0;
    for (const std::int32_t v : vacancies[f]) n += std::max(0, v);
    return n;
  }
  /// Filled and open positions.
  std::int32_t positions(size_t f) const { return headcount(f) + open_positions(f); }
  bool is_sme(size_t f) const { return is_sme(kind[f], headcount(f)); }
  /// An SME: not an institution, fewer than 250 staff.
  static bool is_sme(std::uint8_t kind, std::int32_t headcount) {
    return !(kind & k_institution) && headcount < 250;
  }
};

namespace firms {

/// Employs resident person index p (outside = false) or outside worker index p
/// (outside = true) at firm index f in a job of `level`: sets the worker's employer,
/// job level and slot, and the firm's staff list and employee count. The caller sets
/// job zone, mode and status.
void hire(Model& m, size_t f, size_t p, bool outside, int level);
/// A resident (person index p) takes a job of `level` outside the region, in external
/// zone `external` (0-based among the external zones).
void take_outside_job(Model& m, size_t p, int external, int level);
/// hire() and take_outside_job() of a resident without the municipality's job counters
/// (employed_by, jobs_by_zone, out_commuters): for hires made in parallel at different
/// firms, whose counters the caller adds up (count_hire).
void hire_uncounted(Model& m, size_t f, size_t p, int level);
/// hire() of outside worker index o without the shared counter outside_employed_by, which
/// the caller adds up.
void hire_outside_uncounted(Model& m, size_t f, size_t o, int level);
void take_outside_job_uncounted(Model& m, size_t p, int external, int level);
/// The counters hire() (firm index f) or take_outside_job() (f = k_none, job zone
/// `job_zone`) change for a resident living in zone `home`.
void count_hire(Model& m, size_t home, size_t f, int level, size_t job_zone);
/// Ends the job of a resident (outside = false) or outside worker: the firm's count and
/// staff list shrink; the worker's employer becomes k_none. Jobs outside the region
/// (employer k_none) only clear the worker's fields.
void release(Model& m, size_t p, bool outside);
/// The job counters that releases change (the municipalities' employed_by, out_commuters
/// and jobs_by_zone, and outside_employed_by), kept apart for releases made in parallel
/// groups: each group counts its own changes, and apply() adds them to the model's (exact
/// integer sums, so the totals do not depend on the grouping).
struct ReleaseCounts {
  /// The counters to decrement, applied once every group is done (integer counts: the
  /// order does not matter). A list rather than a copy of every counter per group: a
  /// group makes a few releases a month, and copies of all counters (some 10 KB each,
  /// made and added up three times a month) cost more than the releases' own changes.
  std::vector<std::int64_t*> decrements;
  /// The residents' changes of status (those dismissed: Model::dismiss), for the model's
  /// counts by status.
  std::vector<StatusMove> status_moves;
  Model* model;
  explicit ReleaseCounts(Model& m) : model(&m) {}
  void end_job(size_t zone, size_t cell, int level, bool regional, size_t job_zone);
  void end_outside_job(size_t cell);
  void apply() const;
};
/// release() with the counter changes kept in `counts`: releases at different firms may
/// then run in parallel (a release touches its firm's staff list and workers only).
void release(Model& m, size_t p, bool outside, ReleaseCounts& counts);
/// Releases in parallel: the firms split into k_release_groups ranges of consecutive
/// indices, release_group_size(m) firms each. fn(group, counts) runs for every group in
/// parallel and must release only at its own firms (and workers without a regional
/// employer it alone is given); then every group's counts go to the model. For every firm
/// the same sequence as releasing one after another, for any number of threads.
constexpr size_t k_release_groups = 16;
size_t release_group_size(const Model& m);
/// The group that releases (or hires) at firm index f; for a worker without a regional
/// employer (f = k_none), the group of worker index w.
inline size_t release_group(size_t f, size_t w, size_t per_group) {
  return f != k_none ? f / per_group : w % k_release_groups;
}
void release_in_groups(Model& m, const std::function<void(size_t, ReleaseCounts&)>& fn);
/// release() of the residents at person indices `people`, in that order (a person may be
/// listed twice; the second release finds no job). Same result as one by one; parallel.
void release_residents(Model& m, const std::vector<std::uint32_t>& people);

/// Creates the institutions as employers, the cluster companies, then the other firms
/// of every zone and sector, sized from a Pareto law with the sector's mean size, so
/// that jobs per zone and sector match the zone economy table. Positions start vacant;
/// the labour market's initial matching fills them.
void build_firms(Model& m);

/// Output capacity of firm f this month (EUR): productivity x employees / (1 - input share).
double capacity(const Model& m, size_t f);

/// Output of firm f with every position filled, its open ones too (EUR): what the firm
/// plans for, and what an institution is funded for.
double positions_capacity(const Model& m, size_t f);

/// Numbers of posts to open whose split by level plan_chunk takes from Model::post_split
/// (set by build_firms) instead of apportioning each time: a firm opens a few at a time.
inline constexpr int k_split_posts = 16;

/// Adaptive expectations, desired employment, vacancies and layoff notices (own state only).
void plan_chunk(Model& m, size_t begin, size_t end, std::int32_t now);

/// Output = min(demand, capacity); sales split over the demand sources pro rata; inputs.
void produce_chunk(Model& m, size_t begin, size_t end);

/// The month's books of a range of firms, as the monetary accounts need them (summed by
/// the model per fixed block of firms, then the blocks in order).
struct Books {
  double wages[2][2] = {};  ///< [institution?][outside worker?]
  // Sales by buyer, and the demand that could not be served (turned away).
  double sold_households = 0.0, sold_exports = 0.0, sold_public[2] = {}, sold_orders = 0.0;
  double away_households = 0.0, away_exports = 0.0, away_public[2] = {}, away_orders = 0.0;
  double inputs[2] = {};  ///< [institution?]
  /// Adds another range's books (the range after this one).
  void add(const Books& b);
};

/// Wages, profit, cash, productivity growth, SME digital maturity (own state only);
/// records exits (bankruptcy, SME succession failure) into `exits` and the range's books
/// (before the exits' staff leave) into `books`.
void finance_chunk(Model& m, size_t begin, size_t end, std::int32_t now,
                   std::vector<std::uint32_t>& exits, Books& books);

/// Start-ups, spin-offs and inward investment this month (sequential, in a fixed order).
void create_entrants(Model& m, std::int32_t now, std::vector<std::uint32_t>& entrants);

}  // namespace firms
}  // namespace regio
