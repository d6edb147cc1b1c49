// The Model: all state of one run (no globals), the clock, and the step pipeline.
// A step is a fixed list of named phases; data-parallel phases read the state as it was
// and write only their own agent's state, cross-agent effects are applied by `commit`
// in id order, so results do not depend on the number of threads.
#pragma once
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agents/firms.hpp"
#include "agents/households.hpp"
#include "agents/institutions.hpp"
#include "agents/municipalities.hpp"
#include "agents/outside_workers.hpp"
#include "agents/persons.hpp"
#include "sim/accounts.hpp"
#include "sim/calendar.hpp"
#include "sim/commuting.hpp"
#include "sim/observer.hpp"
#include "sim/rng.hpp"
#include "sim/scenario.hpp"
#include "sim/supply_chain.hpp"

namespace regio {

namespace labour_market {
struct Workspace;
}

struct RunConfig {
  std::uint64_t seed = 0;
  std::uint32_t replication = 0;
  double scale = 1.0;             ///< share of the population simulated (1 = every person)
  int until_year = 0;             ///< 0: the scenario's end
  bool check_invariants = false;  ///< recount stocks every step (tests, debug builds)
  /// Persons or households per parallel work item; firms go in chunks an eighth this size
  /// (results do not depend on it).
  size_t chunk_size = 8192;
};

/// Raised when an accounting invariant fails (a bug, not bad input).
class InvariantError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Wall time per phase, summed over the run (for `regio bench`).
struct PhaseTimes {
  std::vector<std::string> names;
  std::vector<double> seconds;
};

class Model {
 public:
  Model(const Scenario& scenario, const RunConfig& config);

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  /// Advances one month.
  void step();
  /// Runs to the end (scenario end or config.until_year); `progress(done, total)` is
  /// called after every step. Same results as calling step() to the end, but each month's
  /// supply-chain orders (goods_market::flow_orders) run alongside the next month's
  /// commit, on threads that this mostly serial phase leaves idle.
  void run(const std::function<void(int, int)>& progress = {});

  bool finished() const { return now_ > last_; }
  std::int32_t now() const { return now_; }
  std::int32_t first_month() const { return first_; }
  std::int32_t last_month() const { return last_; }
  int months_total() const { return last_ - first_ + 1; }

  const Scenario& scenario() const { return scenario_; }
  const RunConfig& config() const { return config_; }
  Rng rng(Stream stream, std::uint64_t agent, std::int32_t step) const {
    return Rng(config_.seed, config_.replication, stream, agent, static_cast<std::uint32_t>(step));
  }

  // State. Public for the agent rules and tests; the Model owns it all.
  PersonStore persons;
  HouseholdStore households;
  std::vector<Institution> institutions;
  std::vector<Municipality> municipalities;
  Schedules schedules;
  // The economy.
  FirmStore firms;
  OutsideWorkerStore outside_workers;
  SupplyChain supply_chain;
  Commuting commuting;
  Accounts accounts;
  PurchasePlans purchase_plan;  ///< buyers' record of next month's purchases (goods market)
  std::vector<std::string> cluster_names;    ///< distinct cluster names (institutions, sites)
  std::vector<double> cluster_inward_carry;  ///< per clusters-table row
  /// The tightness premium on all wages (1 at the start; see Model::phase_finance).
  double wage_premium = 1.0;
  std::vector<double> export_base;       ///< per sector: export demand at the start (EUR/month)
  std::vector<double> export_intensity;  ///< per sector: export demand / capacity at the start
  /// Posts to open by level for a small number of them (apportion of the level mix; see
  /// firms::plan_chunk): [mix * firms::k_split_posts + posts], mixes the sectors' then the
  /// institutions'.
  std::vector<FirmStore::Levels> post_split;
  std::vector<double> public_base;            ///< per zone x sector: public demand at the start
  std::vector<std::int64_t> population_base;  ///< per zone: inhabitants at the start
  double tightness = 1.0;                     ///< vacancies / unemployed, last month
  double tightness_reference = 0.0;           ///< median over the first year (0 before)
  /// Last month's hires into regional posts that ask for a field (mbo and up): the share
  /// from that field (0 when there were none).
  double field_match = 0.0;
  std::vector<double>
      external_jobs_base;          ///< [external zone][level]: residents' jobs there at the start
  bool household_feedback = true;  ///< false: consumption fixed (type I multipliers)
  double extra_exports = 0.0;      ///< EUR/month added to one sector's exports
  int extra_exports_sector = -1;
  std::int32_t extra_exports_from = 0;  ///< first month whose demand includes extra_exports
  std::vector<double> household_base;   ///< per zone x sector: household demand at the start
  std::vector<std::int64_t> outside_employed_by;  ///< outside workers by employment_cell
  /// The labour market's work buffers, kept from month to month for their memory only
  /// (sim/labour_market.cpp).
  std::unique_ptr<labour_market::Workspace, void (*)(labour_market::Workspace*)> labour_workspace{
      nullptr, nullptr};
  std::uint32_t next_firm_id = 0;
  std::uint32_t next_outside_id = 0;
  /// Notes that outside worker `id`'s job ends in `month` (phase_firms_plan then ends it,
  /// if the worker is still in it). Called in order of id: each month's list stays in
  /// order of id, which is the order of the store.
  void schedule_outside_leave(std::uint32_t id, std::int32_t month) {
    if (month < first_ || month > last_) return;
    const auto k = static_cast<size_t>(month - first_);
    if (outside_leaving_.size() <= k) outside_leaving_.resize(k + 1);
    outside_leaving_[k].push_back(id);
  }
  Series series;
  PhaseTimes phase_times;
  /// Seconds of the order flows run alongside the next month's phases (run()); not in
  /// phase_times, which count the wall time of each phase (production counts the wait).
  double order_flow_seconds = 0.0;
  std::uint32_t next_person_id = 0;
  std::uint32_t next_household_id = 0;
  std::int64_t person_steps = 0;  ///< persons alive summed over steps (for throughput)

  /// Index of a person or household by id (k_none if gone).
  std::uint32_t person_index(std::uint32_t id) const {
    return id < person_index_.size() ? person_index_[id] : k_none;
  }
  std::uint32_t household_index(std::uint32_t id) const {
    return id < household_index_.size() ? household_index_[id] : k_none;
  }
  /// Asks the processor to fetch the index entry of a person or household id (no effect
  /// on results; see the commit's event loops).
  void prefetch_person_index(std::uint32_t id) const {
    if (id < person_index_.size()) __builtin_prefetch(&person_index_[id]);
  }
  void prefetch_household_index(std::uint32_t id) const {
    if (id < household_index_.size()) __builtin_prefetch(&household_index_[id]);
  }
  std::uint32_t firm_index(std::uint32_t id) const {
    return id < firm_index_.size() ? firm_index_[id] : k_none;
  }
  void index_firm(std::uint32_t id, size_t index);
  std::uint32_t outside_index(std::uint32_t id) const {
    return id < outside_index_.size() ? outside_index_[id] : k_none;
  }
  void index_outside(std::uint32_t id, size_t index);
  /// Cell of the employment counters for a job of `level` at firm index f:
  /// [is institution][sector][level].
  size_t employment_cell(size_t f, int level) const {
    const size_t inst = (firms.kind[f] & k_institution) ? 1 : 0;
    return (inst * scenario_.sectors.size() + firms.sector[f]) * k_education_levels +
           static_cast<size_t>(level);
  }
  /// Average monthly wage of a job of `level` over all sectors, weighted by their jobs.
  double mean_wage(int level) const;
  /// Sets the municipalities' counts of residents by status and of working age
  /// (status_count, working_age) to those of now. The model keeps both current at every
  /// arrival, departure and change of status (see note_status); this publishes them, once
  /// a month before the goods market, so that what reads them sees the same counts all
  /// month.
  void count_statuses();
  /// Residents per zone by status and aged 15-64, counted from the store (parallel,
  /// exact): what the running counts must equal (check_accounting), and their start.
  struct StatusCounts {
    std::vector<std::int64_t> status;   ///< per zone x status
    std::vector<std::int64_t> working;  ///< per zone
  };
  StatusCounts recount_statuses() const;
  /// A resident of `zone` changes status (from, to): the running counts follow.
  void note_status(size_t zone, int from, int to) {
    --resident_status_[zone * k_statuses + static_cast<size_t>(from)];
    ++resident_status_[zone * k_statuses + static_cast<size_t>(to)];
  }
  void note_statuses(const std::vector<StatusMove>& moves) {
    for (const StatusMove& c : moves) note_status(c.zone, c.from, c.to);
  }
  /// Person index p takes status s, and the running counts follow (serial code only).
  void set_status(size_t p, Status s) {
    note_status(persons.zone[p], persons.status[p], idx(s));
    persons.status[p] = static_cast<std::uint8_t>(s);
  }
  /// Person index p arrives (+1) or departs (-1): its status and birth month join or
  /// leave the running counts. Persons appended from index `from` on arrive at once.
  void count_resident(size_t p, int sign);
  void count_arrivals(size_t from);
  /// Index of a cluster by name (k_no_cluster for "" or an unknown name).
  std::uint8_t cluster_index(const std::string& name) const;
  /// The sector of a cluster's company sites (the first site's sector).
  int cluster_sector(size_t cluster) const;
  /// Jobs of all sites of the named cluster (clusters table).
  double cluster_jobs_total(const std::string& name) const;
  /// Monthly wage of a job of `level` in `sector` now (EUR): the sector's average wage
  /// shaped by the level's factor, times the sector's wage index.
  /// Read from a table refreshed whenever the wage index changes (refresh_wages): wages
  /// are read for every firm and level each month.
  double wage(int sector, int level) const {
    return wage_table_[static_cast<size_t>(sector) * k_education_levels +
                       static_cast<size_t>(level)];
  }
  /// Wage index of `sector` (1 at the start): its productivity trend since the start
  /// times the tightness premium.
  double wage_index(int sector) const {
    return wage_trend_[static_cast<size_t>(sector)] * wage_premium;
  }
  /// Number of internal zones (external zones follow them in zone numbering).
  int internal_zones() const { return static_cast<int>(municipalities.size()); }

  /// Registers an appended person/household in the id maps.
  void index_person(std::uint32_t id, size_t index);
  void index_household(std::uint32_t id, size_t index);
  void rebuild_indices();

  int age_years(size_t person, std::int32_t month) const {
    return (month - persons.birth_month[person]) / 12;
  }

  /// Parallel loop over [0, n) in fixed-size chunks of persons or households;
  /// fn(chunk, begin, end).
  void for_chunks(size_t n, const std::function<void(size_t, size_t, size_t)>& fn) const {
    for_chunks(n, config_.chunk_size, fn);
  }
  size_t chunk_count(size_t n) const { return chunk_count(n, config_.chunk_size); }
  /// The same over firms, in chunks an eighth the size: there are some seven times fewer
  /// firms than persons, each with more work a month, and chunks of persons' size left the
  /// firm loops with six or seven chunks, too few to share evenly between two threads.
  void for_firm_chunks(size_t n, const std::function<void(size_t, size_t, size_t)>& fn) const {
    for_chunks(n, firm_chunk_size(), fn);
  }
  size_t firm_chunk_count(size_t n) const { return chunk_count(n, firm_chunk_size()); }
  size_t firm_chunk_size() const { return std::max<size_t>(1, config_.chunk_size / 8); }
  static size_t chunk_count(size_t n, size_t chunk) { return (n + chunk - 1) / chunk; }
  void for_chunks(size_t n, size_t chunk,
                  const std::function<void(size_t, size_t, size_t)>& fn) const;

  /// Recounts persons and households per zone from the stores and compares them with
  /// the running stocks; throws InvariantError on a mismatch.
  void check_accounting() const;
  /// Jobs identity: filled positions = employed residents in the region + in-commuters.
  void check_jobs() const;

 private:
  void run_phase(size_t index, const std::function<void()>& fn);
  /// One month; with `overlap`, this month's order flow is left to the next month.
  void step_month(bool overlap);
  /// Starts a deferred order flow as a task of its own.
  void launch_orders();
  /// Completes the order flow: runs a deferred one, or waits for a running one (and
  /// rethrows what it threw).
  void wait_orders();
  void phase_housing();
  void phase_persons();
  void phase_households();
  /// Wage tables, commuting zones and the firms of the start (no persons needed).
  void build_economy();
  /// The start's labour market and demand (after both are built). The supply chain was
  /// built for `positions` (per firm): built again if the matching left any open.
  void init_economy(const std::vector<std::int32_t>& positions);
  /// Ends a job by the employer's decision (layoff or closure): a resident becomes
  /// unemployed, an outside worker's record ends. `worker` is a staff-list entry.
  /// The counters' changes go to `counts` (dismissals are made in parallel groups).
  void dismiss(std::uint32_t worker, firms::ReleaseCounts& counts);
  /// The month's money flows from the firms' books (books_) and the plans.
  void record_accounts();
  void phase_commit();
  void phase_firms_plan();
  void phase_labour_market();
  void phase_production();
  void phase_goods_market();
  void phase_finance();
  void phase_supply_chain();
  void phase_observe();

  Scenario scenario_;
  RunConfig config_;
  std::int32_t first_ = 0, last_ = 0, now_ = 0;
  std::vector<PersonEvents> chunk_events_;
  std::vector<std::vector<std::uint32_t>> chunk_moves_;
  std::vector<std::uint32_t> person_index_, household_index_, firm_index_, outside_index_;
  std::vector<double> wage_level_factor_;  ///< per sector x level, normalised
  std::vector<double> wage_table_;         ///< per sector x level: wage() now
  std::vector<double> wage_trend_;         ///< per sector: productivity trend since the start
  /// Recomputes wage_table_ from the sectors' wages, the level factors and wage_index().
  void refresh_wages();
  std::vector<std::vector<std::uint32_t>> block_exits_;  ///< per block of k_books_block firms
  /// The finance pass's books per block of firms (what record_accounts sums): a fixed
  /// size, so that the sums do not depend on the chunk size; small enough for some fifty
  /// blocks, which two threads share evenly.
  static constexpr size_t k_books_block = 1024;
  std::vector<firms::Books> books_;
  std::vector<double> first_year_tightness_;
  std::vector<std::uint32_t> pending_exits_, pending_entrants_;  ///< not yet in the graph
  /// Per month of the run: the outside workers whose job ends then (ids, ascending).
  std::vector<std::vector<std::uint32_t>> outside_leaving_;
  /// The running counts of residents (see count_statuses): per zone x status, and per
  /// zone x birth month (from born_first_, born_months_ months a zone), from which the
  /// residents of working age follow for any month.
  std::vector<std::int64_t> resident_status_;
  std::vector<std::int32_t> born_;
  std::int32_t born_first_ = 0;
  size_t born_months_ = 0;
  /// The running counts from the store (at the start).
  void start_resident_counts();
  /// A resident of `zone` born in month `birth` arrives (+1) or departs (-1).
  void count_birth(size_t zone, std::int32_t birth, int sign);
  /// Residents per zone aged 15-64 now, from the birth months.
  std::vector<std::int64_t> working_age_now() const;
  /// The order flow that runs alongside the next month's commit and the phases up to its
  /// production (see run()).
  enum class Orders { none, deferred, running } orders_ = Orders::none;
  std::unique_ptr<tbb::task_group> orders_task_;
};

}  // namespace regio
