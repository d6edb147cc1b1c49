#include "sim/model.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_invoke.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "sim/goods_market.hpp"
#include "sim/labour_market.hpp"
#include "sim/observer.hpp"
#include "sim/parallel.hpp"
#include "sim/prefetch.hpp"
#include "sim/sampling.hpp"
#include "sim/synthetic_population.hpp"

namespace regio {

namespace {
using Clock = std::chrono::steady_clock;

/// Records that `id` is at `index` in an id -> index map (grown geometrically).
void set_index(std::vector<std::uint32_t>& map, std::uint32_t id, size_t index) {
  if (id >= map.size()) map.resize(std::max<size_t>(id + 1, map.size() * 2), k_none);
  map[id] = static_cast<std::uint32_t>(index);
}

/// Rebuilds an id -> index map from a store's id column (after compaction).
void fill_index(std::vector<std::uint32_t>& map, const std::vector<std::uint32_t>& ids) {
  // In parallel (the persons' map is some 400,000 entries, at every year end): the ids
  // are distinct, so every entry is written by one index only.
  parallel_each(0, map.size(), size_t{1} << 16, [&](size_t k) { map[k] = k_none; });
  parallel_each(ids.size(), size_t{1} << 14,
                [&](size_t i) { map[ids[i]] = static_cast<std::uint32_t>(i); });
}

// Phases of one step, in order. The names appear in `regio bench`.
enum PhaseId {
  k_housing,
  k_persons,
  k_households,
  k_commit,
  k_firms_plan,
  k_labour_market,
  k_production,
  k_finance,
  k_supply_chain,
  k_goods_market,
  k_check,
  k_observe,
  k_phases
};
constexpr const char* k_phase_names[k_phases] = {
    "housing",    "persons", "households",   "commit",       "firms_plan", "labour_market",
    "production", "finance", "supply_chain", "goods_market", "check",      "observe"};
}  // namespace

Model::Model(const Scenario& scenario, const RunConfig& config)
    : scenario_(scenario), config_(config) {
  first_ = scenario_.start.index;
  last_ = scenario_.end.index;
  if (config_.until_year > 0) last_ = std::min(last_, Month::of(config_.until_year, 12).index);
  now_ = first_;
  const auto& d = scenario_.demography;
  schedules.mortality = gompertz_mortality(d.life_expectancy_at_birth, d.gompertz_slope);
  schedules.fertility =
      fertility_schedule(d.total_fertility, d.mean_age_at_birth, d.sd_age_at_birth);
  schedules.leave_home = leave_home_schedule(d.leave_home_median_age, d.leave_home_spread);
  schedules.union_formation =
      union_schedule(d.union_peak_rate, d.union_peak_age, d.union_age_spread);
  schedules.out_migration =
      out_migration_schedule(d.out_migration_young, d.out_migration_mid, d.out_migration_old);

  for (const auto& z : scenario_.zones) {
    Municipality mu;
    mu.code = z.code;
    mu.name = z.name;
    mu.dwellings = static_cast<double>(z.dwellings) * config_.scale;
    mu.regular_construction = z.construction_per_year * config_.scale;
    mu.in_migration_per_1000 = z.in_migration_per_1000;
    mu.frictional_vacancy = d.frictional_vacancy;
    municipalities.push_back(mu);
  }
  for (const auto& spec : scenario_.institutions)
    institutions.push_back(
        institutions::make(spec, scenario_.zone_index(spec.zone), config_.scale));

  phase_times.names.assign(k_phase_names, k_phase_names + k_phases);
  phase_times.seconds.assign(k_phases, 0.0);
  // The population and the firms are built side by side: neither reads the other (the
  // firms' jobs come from the scenario), and each writes its own stores, ids and fields.
  //
  // The supply chain is built beside the population too: the initial matching fills
  // every position (those it does not fill with residents, outside workers fill), and the
  // chain needs only the firms' sizes, which are then their positions. (If the matching
  // left any open, as a region without external zones may, it is built again from the
  // staff.) Built after the matching, it had the processors to itself for as long, while
  // the population's serial steps leave one of them idle.
  std::vector<std::int32_t> positions;
  tbb::parallel_invoke([&] { build_population(*this); },
                       [&] {
                         build_economy();
                         positions.resize(firms.size());
                         for (size_t f = 0; f < firms.size(); ++f)
                           positions[f] = firms.positions(f);
                         supply_chain.build(*this, &positions);
                       });
  init_economy(positions);
  observer::start(*this);
}

void Model::build_economy() {
  const Scenario& sc = scenario_;
  const size_t ns = sc.sectors.size(), nz = municipalities.size();
  for (const auto& in : sc.institutions)
    if (!in.cluster.empty() && cluster_index(in.cluster) == k_no_cluster)
      cluster_names.push_back(in.cluster);
  for (const auto& c : sc.clusters)
    if (cluster_index(c.cluster) == k_no_cluster) cluster_names.push_back(c.cluster);
  cluster_inward_carry.assign(sc.clusters.size(), 0.0);
  wage_trend_.assign(ns, 1.0);
  wage_premium = 1.0;
  // Wage of a level relative to the sector average: the level factors, normalised so
  // that the sector's job mix earns the sector's average wage.
  const auto& lm = sc.labour_market;
  const double factor[k_education_levels] = {lm.wage_factor_basic, lm.wage_factor_mbo,
                                             lm.wage_factor_hbo, lm.wage_factor_wo};
  wage_level_factor_.assign(ns * k_education_levels, 1.0);
  for (size_t k = 0; k < ns; ++k) {
    double norm = 0.0;
    for (int l = 0; l < k_education_levels; ++l) norm += sc.sectors[k].education[l] * factor[l];
    for (int l = 0; l < k_education_levels; ++l)
      wage_level_factor_[k * k_education_levels + l] = factor[l] / norm;
  }
  refresh_wages();
  const size_t zones_all = nz + sc.external_zones.size();
  outside_employed_by.assign(2 * ns * k_education_levels, 0);
  for (auto& mu : municipalities) {
    mu.employed_by.assign(2 * ns * k_education_levels, 0);
    mu.jobs_by_zone.assign(zones_all, 0);
  }
  commuting.build(sc);
  firms::build_firms(*this);
}

void Model::init_economy(const std::vector<std::int32_t>& positions) {
  start_resident_counts();
  count_statuses();
  labour_market::initial_matching(*this);
  commuting.update(*this);
  for (size_t f = 0; f < firms.size(); ++f)
    if (firms.headcount(f) != positions[f]) {
      supply_chain.build(*this);
      break;
    }
  labour_market::open_initial_positions(*this);
  goods_market::calibrate(*this);
}

void Model::refresh_wages() {
  const size_t ns = scenario_.sectors.size();
  wage_table_.resize(ns * k_education_levels);
  for (size_t k = 0; k < ns; ++k)
    for (size_t l = 0; l < k_education_levels; ++l)
      wage_table_[k * k_education_levels + l] = scenario_.sectors[k].wage *
                                                wage_level_factor_[k * k_education_levels + l] *
                                                wage_index(static_cast<int>(k));
}

double Model::mean_wage(int level) const {
  // Average over sectors weighted by their jobs at the start (sector jobs from the zones).
  double num = 0.0, den = 0.0;
  for (size_t k = 0; k < scenario_.sectors.size(); ++k) {
    double jobs = 0.0;
    for (const auto& ze : scenario_.zone_economy) jobs += ze.jobs * ze.sector_shares[k];
    num += jobs * wage(static_cast<int>(k), level);
    den += jobs;
  }
  return den > 0.0 ? num / den : 0.0;
}

std::uint8_t Model::cluster_index(const std::string& name) const {
  if (name.empty()) return k_no_cluster;
  for (size_t c = 0; c < cluster_names.size(); ++c)
    if (cluster_names[c] == name) return static_cast<std::uint8_t>(c);
  return k_no_cluster;
}

int Model::cluster_sector(size_t cluster) const {
  for (const auto& c : scenario_.clusters)
    if (c.cluster == cluster_names[cluster]) return c.sector;
  for (const auto& in : scenario_.institutions)
    if (in.cluster == cluster_names[cluster]) return in.sector;
  return 0;
}

double Model::cluster_jobs_total(const std::string& name) const {
  double jobs = 0.0;
  for (const auto& c : scenario_.clusters)
    if (c.cluster == name) jobs += c.jobs;
  return jobs;
}

void Model::index_firm(std::uint32_t id, size_t index) {
  set_index(firm_index_, id, index);
}

void Model::index_outside(std::uint32_t id, size_t index) {
  set_index(outside_index_, id, index);
}

Model::StatusCounts Model::recount_statuses() const {
  const size_t nz = municipalities.size();
  // One increment per person into a cell keyed by zone, status and working age (16 cells
  // per zone, dead persons in a cell of their own). Four copies of the table, taken in
  // turn, so that consecutive increments rarely wait for each other on the same counter.
  // Integer counts per chunk: exact, so the sum does not depend on the chunking.
  constexpr size_t k_cells = 16, k_copies = 4;
  static_assert(k_statuses <= 8, "status and working age share 4 bits of the cell");
  const size_t table = nz * k_cells + 1;
  std::vector<std::uint32_t> parts(chunk_count(persons.size()) * table);
  const std::int32_t now = now_;
  for_chunks(persons.size(), [&](size_t c, size_t b, size_t e) {
    std::vector<std::uint32_t> local(k_copies * table, 0);
    const std::uint8_t* alive = persons.alive.data();
    const std::uint16_t* zone = persons.zone.data();
    const std::uint8_t* status = persons.status.data();
    const std::int32_t* birth = persons.birth_month.data();
    // A batch's cells first (a loop the compiler vectorises), then the increments.
    constexpr size_t k_batch = 256;
    std::array<std::uint16_t, k_batch> cells;
    const auto dead = static_cast<std::uint16_t>(nz * k_cells);
    for (size_t i0 = b; i0 < e; i0 += k_batch) {
      const size_t n = std::min(k_batch, e - i0);
      for (size_t j = 0; j < n; ++j) {
        const size_t i = i0 + j;
        // Aged 15-64 in whole years: (now - birth) / 12 in [15, 65).
        const std::int32_t age = now - birth[i];
        const auto working = static_cast<std::uint16_t>((age >= 15 * 12) & (age < 65 * 12));
        const auto cell = static_cast<std::uint16_t>(zone[i] * k_cells + status[i] * 2 + working);
        cells[j] = alive[i] ? cell : dead;
      }
      for (size_t j = 0; j < n; ++j) ++local[(j % k_copies) * table + cells[j]];
    }
    std::uint32_t* mine = &parts[c * table];
    for (size_t k = 0; k < k_copies; ++k)
      for (size_t j = 0; j < table; ++j) mine[j] += local[k * table + j];
  });
  StatusCounts counts;
  counts.status.assign(nz * k_statuses, 0);
  counts.working.assign(nz, 0);
  for (size_t z = 0; z < nz; ++z)
    for (size_t c = 0; c < parts.size() / table; ++c) {
      const std::uint32_t* cell = &parts[c * table + z * k_cells];
      for (size_t s = 0; s < k_statuses; ++s) {
        counts.status[z * k_statuses + s] += cell[2 * s] + cell[2 * s + 1];
        counts.working[z] += cell[2 * s + 1];
      }
    }
  return counts;
}

void Model::start_resident_counts() {
  resident_status_ = recount_statuses().status;
  // Birth months from a century before the start to the end of the run; count_birth
  // widens the range for anyone born earlier (the oldest residents of the start).
  born_first_ = first_ - 12 * 100;
  born_months_ = static_cast<size_t>(last_ - born_first_ + 1);
  born_.assign(municipalities.size() * born_months_, 0);
  for (size_t p = 0; p < persons.size(); ++p)
    if (persons.alive[p]) count_birth(persons.zone[p], persons.birth_month[p], +1);
}

void Model::count_birth(size_t zone, std::int32_t birth, int sign) {
  if (birth < born_first_ || birth - born_first_ >= static_cast<std::int32_t>(born_months_)) {
    // Outside the range of birth months: widen it (rare; every zone's row moves).
    const std::int32_t first = std::min(born_first_, birth);
    const auto months = static_cast<size_t>(
        std::max(born_first_ + static_cast<std::int32_t>(born_months_), birth + 1) - first);
    std::vector<std::int32_t> wider(municipalities.size() * months, 0);
    for (size_t z = 0; z < municipalities.size(); ++z)
      std::copy_n(&born_[z * born_months_], born_months_,
                  &wider[z * months + static_cast<size_t>(born_first_ - first)]);
    born_ = std::move(wider);
    born_first_ = first;
    born_months_ = months;
  }
  born_[zone * born_months_ + static_cast<size_t>(birth - born_first_)] += sign;
}

void Model::count_resident(size_t p, int sign) {
  const size_t z = persons.zone[p];
  resident_status_[z * k_statuses + persons.status[p]] += sign;
  count_birth(z, persons.birth_month[p], sign);
}

void Model::count_arrivals(size_t from) {
  for (size_t p = from; p < persons.size(); ++p)
    if (persons.alive[p]) count_resident(p, +1);
}

std::vector<std::int64_t> Model::working_age_now() const {
  // Aged 15-64 in whole years: born in (now - 65 years, now - 15 years].
  const std::int32_t lo = std::max(born_first_, now_ - 65 * 12 + 1);
  const std::int32_t hi =
      std::min(born_first_ + static_cast<std::int32_t>(born_months_) - 1, now_ - 15 * 12);
  std::vector<std::int64_t> working(municipalities.size(), 0);
  for (size_t z = 0; z < municipalities.size(); ++z)
    for (std::int32_t b = lo; b <= hi; ++b)
      working[z] += born_[z * born_months_ + static_cast<size_t>(b - born_first_)];
  return working;
}

void Model::count_statuses() {
  // Kept current rather than counted here: a count reads 8 bytes of every person a month
  // (some 3 % of a run), while the changes are a few thousand a month.
  const std::vector<std::int64_t> working = working_age_now();
  for (size_t z = 0; z < municipalities.size(); ++z) {
    Municipality& mu = municipalities[z];
    for (size_t s = 0; s < k_statuses; ++s)
      mu.status_count[s] = resident_status_[z * k_statuses + s];
    mu.working_age = working[z];
  }
}

void Model::index_person(std::uint32_t id, size_t index) {
  set_index(person_index_, id, index);
}
void Model::index_household(std::uint32_t id, size_t index) {
  set_index(household_index_, id, index);
}
void Model::rebuild_indices() {
  tbb::parallel_invoke([&] { fill_index(firm_index_, firms.id); },
                       [&] { fill_index(outside_index_, outside_workers.id); },
                       [&] { fill_index(person_index_, persons.id); },
                       [&] { fill_index(household_index_, households.id); });
}

void Model::for_chunks(size_t n, size_t chunk,
                       const std::function<void(size_t, size_t, size_t)>& fn) const {
  tbb::parallel_for(size_t{0}, chunk_count(n, chunk), [&](size_t c) {
    const size_t b = c * chunk;
    fn(c, b, std::min(n, b + chunk));
  });
}

void Model::run_phase(size_t index, const std::function<void()>& fn) {
  const auto t0 = Clock::now();
  fn();
  phase_times.seconds[index] += std::chrono::duration<double>(Clock::now() - t0).count();
}

Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model::~Model() {
  if (orders_ != Orders::running) return;
  try {
    orders_task_->wait();
  } catch (...) {  // the run has failed already; its error is being reported
  }
}

void Model::launch_orders() {
  if (orders_ != Orders::deferred) return;
  if (!orders_task_) orders_task_ = std::make_unique<tbb::task_group>();
  orders_ = Orders::running;
  orders_task_->run([this] {
    const auto t0 = Clock::now();
    goods_market::flow_orders(*this);
    order_flow_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  });
}

void Model::wait_orders() {
  if (orders_ == Orders::deferred) {
    orders_ = Orders::none;
    goods_market::flow_orders(*this);
  } else if (orders_ == Orders::running) {
    orders_ = Orders::none;
    orders_task_->wait();
  }
}

void Model::step() {
  step_month(false);
}

void Model::step_month(bool overlap) {
  if (finished()) return;
  run_phase(k_housing, [&] { phase_housing(); });
  run_phase(k_persons, [&] { phase_persons(); });
  run_phase(k_households, [&] { phase_households(); });
  // The commit is mostly serial: last month's order flow, if deferred, fills the idle
  // threads meanwhile.
  launch_orders();
  run_phase(k_commit, [&] { phase_commit(); });
  run_phase(k_firms_plan, [&] { phase_firms_plan(); });
  run_phase(k_labour_market, [&] { phase_labour_market(); });
  // Production reads last month's orders: the flow must have finished (the wait is
  // counted in this phase).
  run_phase(k_production, [&] {
    wait_orders();
    phase_production();
  });
  run_phase(k_finance, [&] { phase_finance(); });
  // The quarterly rewiring and the goods market share nothing: the rewiring reads the
  // firms' places, sizes and exits and writes only the chain; the goods market reads
  // neither the chain nor anything the rewiring writes (its order flow, which reads the
  // chain, runs after both). Side by side, the rewiring's serial steps are filled with
  // the goods market's work. (In turn when stepped: a test compares the two.)
  auto supply = [&] { run_phase(k_supply_chain, [&] { phase_supply_chain(); }); };
  auto goods = [&] { run_phase(k_goods_market, [&] { phase_goods_market(); }); };
  if (overlap) {
    tbb::parallel_invoke(supply, goods);
  } else {
    supply();
    goods();
  }
  // The orders for next month: deferred to run alongside next month's commit and the
  // phases after it up to production. None of the phases in between reads or writes what
  // the flow reads or writes (the firms' regional inputs, alive flags and orders, the
  // chain, the store's size), except the year-end compaction of the store and the chain.
  // A flow after those gives the same results: the compaction keeps the firms' fields and
  // every row's order, and the chain is reindexed to the compacted store. So the flow of
  // December runs alongside January's commit too, where the other core was idle; but not
  // in the years the chain also numbers its nodes afresh (every few years), as the
  // purchases without a regional supplier are summed in fixed blocks of nodes. When the
  // month is stepped on its own, the flow runs now.
  if (overlap && (now_ % 12 != 11 || !supply_chain.renumbers_at_compaction(*this)))
    orders_ = Orders::deferred;
  else
    run_phase(k_goods_market, [&] { goods_market::flow_orders(*this); });
  if (config_.check_invariants) run_phase(k_check, [&] { check_accounting(); });
  run_phase(k_observe, [&] { phase_observe(); });
  ++now_;
}

void Model::run(const std::function<void(int, int)>& progress) {
  const int total = months_total();
  while (!finished()) {
    step_month(true);
    if (progress) progress(now_ - first_, total);
  }
  wait_orders();
}

void Model::phase_housing() {
  municipalities::build_dwellings(*this, now_);
}

void Model::phase_persons() {
  chunk_events_.resize(chunk_count(persons.size()));
  for (auto& e : chunk_events_) e.clear();
  for_chunks(persons.size(), [&](size_t c, size_t b, size_t e) {
    persons::step_chunk(*this, b, e, now_, chunk_events_[c]);
  });
  // Counted here rather than in the hot loop: persons alive during this step.
  for (const auto& mu : municipalities) person_steps += mu.persons;
}

void Model::phase_households() {
  chunk_moves_.resize(chunk_count(households.id.size()));
  for (auto& v : chunk_moves_) v.clear();
  for_chunks(households.id.size(), [&](size_t c, size_t b, size_t e) {
    households::due_moves(*this, b, e, now_, chunk_moves_[c]);
  });
}

namespace {

/// The fields a person's event reads first, each in an array of its own.
void prefetch_person(const Model& m, size_t p) {
  const auto& ps = m.persons;
  prefetch(&ps.id[p], &ps.alive[p], &ps.household[p], &ps.next_member[p], &ps.partnered[p],
           &ps.sex[p], &ps.role[p], &ps.zone[p], &ps.status[p], &ps.institution[p],
           &ps.birth_month[p], &ps.next_due[p], &ps.job_zone[p]);
}
/// The record of household index h.
void prefetch_household(const Model& m, size_t h) {
  const auto& hh = m.households;
  prefetch(&hh.alive[h], &hh.first_member[h], &hh.size[h], &hh.zone[h], &hh.ref_birth[h]);
}

/// How far ahead (in events) the commit's event loops fetch what each stage of an event's
/// chain of cache misses reads: the first stage furthest ahead, so that each fetch can
/// use what the stage before it fetched. Shared by the persons' events and the moves.
constexpr std::array<size_t, 4> k_ahead = {12, 8, 4, 2};

/// Calls fn(id) for each person id of `ids`, in order. The events' persons are scattered
/// over the store, and each event is a chain of cache misses (the id's index entry, the
/// person's fields, the household's record): what the events a few places ahead read
/// first is fetched meanwhile, so that their misses overlap with the current event's
/// work instead of following it. The events themselves are made as before, one by one.
/// (Written out, here and for the moves: a generic look-ahead loop taking a callback per
/// stage made the commit some 10 % slower.)
template <class Fn>
void for_each_person_event(const Model& m, const std::vector<std::uint32_t>& ids, Fn&& fn) {
  constexpr size_t k_index = k_ahead[0], k_fields = k_ahead[1], k_home = k_ahead[2];
  const size_t n = ids.size();
  for (size_t k = 0; k < n; ++k) {
    if (k + k_index < n) m.prefetch_person_index(ids[k + k_index]);
    if (k + k_fields < n) {
      const std::uint32_t p = m.person_index(ids[k + k_fields]);
      if (p != k_none) prefetch_person(m, p);
    }
    if (k + k_home < n) {
      const std::uint32_t p = m.person_index(ids[k + k_home]);
      if (p != k_none && m.persons.household[p] != k_none) {
        const std::uint32_t h = m.household_index(m.persons.household[p]);
        if (h != k_none) prefetch_household(m, h);
      }
    }
    fn(ids[k]);
  }
}

/// Unlinks person index p from its household; returns the household index. Keeps the
/// household's size and reference age current and dissolves it when it empties.
size_t leave_household(Model& m, size_t p) {
  auto& ps = m.persons;
  auto& hh = m.households;
  const size_t h = m.household_index(ps.household[p]);
  std::uint32_t* link = &hh.first_member[h];
  while (*link != ps.id[p]) link = &ps.next_member[m.person_index(*link)];
  *link = ps.next_member[p];
  ps.next_member[p] = k_none;
  ps.household[p] = k_none;
  --hh.size[h];
  Municipality& mu = m.municipalities[hh.zone[h]];
  if (hh.size[h] == 0) {
    hh.alive[h] = 0;
    hh.next_move[h] = k_never;
    --mu.households;
  } else if (hh.ref_birth[h] == ps.birth_month[p]) {
    // The reference person left: the oldest remaining member takes over, and the
    // household's moving hazard follows the new reference age.
    std::int32_t oldest = std::numeric_limits<std::int32_t>::max();
    for (std::uint32_t q = hh.first_member[h]; q != k_none; q = ps.next_member[m.person_index(q)])
      oldest = std::min(oldest, ps.birth_month[m.person_index(q)]);
    hh.ref_birth[h] = oldest;
  }
  return h;
}

using households::add_member;

/// Person indices whose jobs end in this commit, in the order they end. The releases are
/// applied together at the end of the commit (firms::release_residents): nothing in the
/// commit reads a job or a staff list, so the order of the releases is all that matters.
/// (Persons removed without a job are not listed: their release would change nothing,
/// and each costs the release's look-ups of scattered records.)
using Releases = std::vector<std::uint32_t>;

void rehome_minors(Model& m, size_t h, Releases& released);

/// Removes a person from the model (death or moving out of the region).
void remove_person(Model& m, size_t p, Releases& released) {
  auto& ps = m.persons;
  if (ps.job_zone[p] != PersonStore::k_no_job_zone)
    released.push_back(static_cast<std::uint32_t>(p));
  if (ps.partnered[p]) {
    // The partner stays single in the household and may look for a new partner.
    const size_t h = m.household_index(ps.household[p]);
    for (std::uint32_t q = m.households.first_member[h]; q != k_none;) {
      const size_t qi = m.person_index(q);
      q = ps.next_member[qi];
      if (qi != p && ps.partnered[qi]) {
        ps.partnered[qi] = 0;
        persons::schedule_union(m, qi, m.now() + 1);
        ps.refresh_due(qi);
      }
    }
    ps.partnered[p] = 0;
  }
  if (ps.institution[p] != PersonStore::k_outside && ps.status[p] == idx(Status::student))
    --m.institutions[ps.institution[p]].resident_students;
  const size_t h = leave_household(m, p);
  --m.municipalities[ps.zone[p]].persons;
  m.count_resident(p, -1);
  ps.alive[p] = 0;
  ps.next_due[p] = k_never;
  rehome_minors(m, h, released);
}

/// Removes a whole household from the model (it moves out of the region): the same as
/// removing its members one by one with remove_person, in the order of its member list,
/// without what only members who stay would need (a partner's new search, the reference
/// age, a new home for minors left alone).
void remove_household(Model& m, size_t h, Releases& released) {
  auto& ps = m.persons;
  auto& hh = m.households;
  Municipality& mu = m.municipalities[hh.zone[h]];
  for (std::uint32_t q = hh.first_member[h]; q != k_none;) {
    const size_t p = m.person_index(q);
    q = ps.next_member[p];
    if (ps.job_zone[p] != PersonStore::k_no_job_zone)
      released.push_back(static_cast<std::uint32_t>(p));
    ++mu.out_migrants;
    if (ps.institution[p] != PersonStore::k_outside && ps.status[p] == idx(Status::student))
      --m.institutions[ps.institution[p]].resident_students;
    --m.municipalities[ps.zone[p]].persons;
    m.count_resident(p, -1);
    ps.partnered[p] = 0;
    ps.household[p] = k_none;
    ps.next_member[p] = k_none;
    ps.alive[p] = 0;
    ps.next_due[p] = k_never;
  }
  hh.first_member[h] = k_none;
  hh.size[h] = 0;
  hh.alive[h] = 0;
  hh.next_move[h] = k_never;
  --mu.households;
}

/// Minors left in a household without an adult (after a death, a move or a new
/// couple) go to relatives outside the region: they are counted as out-migrants.
void rehome_minors(Model& m, size_t h, Releases& released) {
  auto& hh = m.households;
  auto& ps = m.persons;
  if (!hh.alive[h]) return;
  for (std::uint32_t q = hh.first_member[h]; q != k_none; q = ps.next_member[m.person_index(q)])
    if (m.now() - ps.birth_month[m.person_index(q)] >= 18 * 12) return;
  Municipality& mu = m.municipalities[hh.zone[h]];
  while (hh.alive[h]) {
    const size_t q = m.person_index(hh.first_member[h]);
    ++mu.out_migrants;
    remove_person(m, q, released);
  }
}

/// Where a birth happens: the mother's household and zone, and the parents' level of
/// education (the highest among the household's adults and the mother).
struct BirthHome {
  size_t household = 0;
  std::uint16_t zone = 0;
  std::uint8_t parent_education = 0;
};

/// The homes of the births to `mothers` (person ids), read without changing anything.
/// The member lists are walked several households at a time: each walk is a chain of
/// cache misses, and the processor overlaps the misses of independent chains.
std::vector<BirthHome> birth_homes(const Model& m, const std::vector<std::uint32_t>& mothers) {
  const auto& ps = m.persons;
  std::vector<BirthHome> homes(mothers.size());
  constexpr size_t k_lanes = 16;
  tbb::parallel_for(tbb::blocked_range<size_t>(0, mothers.size(), 4 * k_lanes), [&](const auto& r) {
    for (size_t b = r.begin(); b < r.end(); b += k_lanes) {
      const size_t e = std::min(r.end(), b + k_lanes);
      std::array<std::uint32_t, k_lanes> next{};
      std::array<size_t, k_lanes> mother{};
      for (size_t k = b; k < e; ++k) {
        mother[k - b] = m.person_index(mothers[k]);
        homes[k].zone = ps.zone[mother[k - b]];
        homes[k].household = m.household_index(ps.household[mother[k - b]]);
        next[k - b] = m.households.first_member[homes[k].household];
      }
      for (bool busy = true; busy;) {
        busy = false;
        for (size_t k = b; k < e; ++k) {
          const std::uint32_t q = next[k - b];
          if (q == k_none) continue;
          const size_t qi = m.person_index(q);
          if (ps.role[qi] != idx(Role::child) || qi == mother[k - b])
            homes[k].parent_education = std::max(homes[k].parent_education, ps.education[qi]);
          next[k - b] = ps.next_member[qi];
          busy = busy || next[k - b] != k_none;
        }
      }
    }
  });
  return homes;
}

size_t new_household(Model& m, int zone) {
  const std::uint32_t hid = m.next_household_id++;
  const size_t h = m.households.append(hid, static_cast<std::uint16_t>(zone));
  m.index_household(hid, h);
  ++m.municipalities[static_cast<size_t>(zone)].households;
  return h;
}

/// The fields of a person appended to the store (index p) that a new person gets:
/// born in `birth`, living in zone `zone`.
void init_new_person(Model& m, size_t p, int zone, std::int32_t birth, Sex sex) {
  auto& ps = m.persons;
  ps.birth_month[p] = birth;
  ps.sex[p] = idx(sex);
  ps.zone[p] = static_cast<std::uint16_t>(zone);
  ps.status_since[p] = birth;
}

size_t new_person(Model& m, int zone, std::int32_t birth, Sex sex) {
  const std::uint32_t id = m.next_person_id++;
  const size_t p = m.persons.append(id);
  m.index_person(id, p);
  init_new_person(m, p, zone, birth, sex);
  ++m.municipalities[static_cast<size_t>(zone)].persons;
  return p;
}

/// The in-migration draws of one household, in the order they are made: its type, its
/// children and the head's age first (they give its size), then each member's own.
struct InMigrantDraws {
  Rng rng;
  const InMigrantType* type = nullptr;
  int kids = 0, head_age = 0;

  InMigrantDraws(const Model& m, std::uint32_t household_id, std::int32_t now)
      : rng(m.rng(Stream::in_migration, household_id, now)) {
    const auto& types = m.scenario().in_migrant_types;
    double u = rng.uniform();
    size_t k = 0;
    while (k + 1 < types.size() && u >= types[k].share) u -= types[k++].share;
    type = &types[k];
    const InMigrantType& t = *type;
    kids = t.children_min + static_cast<int>(rng.below(
                                static_cast<std::uint32_t>(t.children_max - t.children_min + 1)));
    head_age = t.age_min +
               static_cast<int>(rng.below(static_cast<std::uint32_t>(t.age_max - t.age_min + 1)));
  }
  int members() const { return type->adults + kids; }
};

/// The schedules of an in-migrant, and the labour status of an adult: drawn once the
/// household is complete (a child's schedules follow its role in it).
void settle_in_migrant(Model& m, size_t p, std::int32_t now) {
  auto& ps = m.persons;
  persons::schedule_person(m, p, now + 1);
  if (ps.role[p] == idx(Role::child)) return;
  if (persons::retirement_month(m, ps.birth_month[p]) <= now) {
    ps.status[p] = idx(Status::retired);
    ps.status_since[p] = now;
  } else {
    persons::enter_labour_market(m, p, now);
  }
  ps.refresh_due(p);
}

/// count[z] households of the in-migration mix move into zone z. Ids and places in the
/// stores are given out zone by zone, household by household, and within a household to
/// its adults and then its children: as if they moved in one after the other. Every draw
/// is keyed by the household's id, and a household writes only its own record and its
/// own members' (the municipalities' counts are added up first): so the households are
/// drawn and filled in parallel, once their sizes (their first draws, kept with their
/// generators for the rest) have given each its ids and places. (One by one, this was
/// some 12 % of the commit.)
void admit_households(Model& m, const std::vector<std::int64_t>& count, std::int32_t now) {
  const auto total =
      static_cast<size_t>(std::accumulate(count.begin(), count.end(), std::int64_t{0}));
  if (total == 0) return;
  const std::uint32_t first_id = m.next_household_id, first_person_id = m.next_person_id;
  std::vector<std::uint16_t> zone(total);
  for (size_t z = 0, k = 0; z < count.size(); ++z)
    for (std::int64_t j = 0; j < count[z]; ++j) zone[k++] = static_cast<std::uint16_t>(z);
  std::vector<InMigrantDraws> draws;
  draws.reserve(total);
  for (size_t k = 0; k < total; ++k)
    draws.emplace_back(m, first_id + static_cast<std::uint32_t>(k), now);
  std::vector<std::uint32_t> first_member(total + 1, 0);  // members of households before k
  for (size_t k = 0; k < total; ++k)
    first_member[k + 1] = first_member[k] + static_cast<std::uint32_t>(draws[k].members());
  const size_t people = first_member[total];
  const size_t h0 = m.households.append_n(first_id, total);
  const size_t p0 = m.persons.append_n(first_person_id, people);
  m.next_household_id += static_cast<std::uint32_t>(total);
  m.next_person_id += static_cast<std::uint32_t>(people);
  for (size_t k = 0; k < total; ++k) {
    m.index_household(first_id + static_cast<std::uint32_t>(k), h0 + k);
    Municipality& mu = m.municipalities[zone[k]];
    const std::int64_t members = first_member[k + 1] - first_member[k];
    ++mu.households;
    mu.persons += members;
    mu.in_migrants += members;
  }
  for (size_t i = 0; i < people; ++i)
    m.index_person(first_person_id + static_cast<std::uint32_t>(i), p0 + i);
  const auto& field_by_education = m.scenario().field_by_education;
  parallel_each(total, 64, [&](size_t k) {
    const size_t h = h0 + k;
    const int z = zone[k];
    m.households.zone[h] = zone[k];
    InMigrantDraws& d = draws[k];
    Rng& rng = d.rng;
    const InMigrantType& t = *d.type;
    auto& ps = m.persons;
    size_t p = p0 + first_member[k];
    std::uint8_t parent_edu = 0;  // the adults' highest level
    for (int a = 0; a < t.adults; ++a, ++p) {
      const int age =
          std::clamp(d.head_age + (a == 0 ? 0 : static_cast<int>(rng.below(5)) - 2), 18, 100);
      const Sex sex = t.adults == 2 ? (a == 0 ? Sex::male : Sex::female)
                                    : (rng.bernoulli(0.5) ? Sex::female : Sex::male);
      init_new_person(m, p, z, now - 12 * age - static_cast<std::int32_t>(rng.below(12)), sex);
      ps.education[p] = static_cast<std::uint8_t>(pick(t.education, rng.uniform()));
      ps.field[p] =
          static_cast<std::uint8_t>(pick(field_by_education[ps.education[p]], rng.uniform()));
      add_member(m, h, p, a == 0 ? Role::head : Role::partner);
      ps.partnered[p] = t.adults == 2 ? 1 : 0;
      parent_edu = std::max(parent_edu, ps.education[p]);
    }
    for (int c = 0; c < d.kids; ++c, ++p) {
      const int age = static_cast<int>(rng.below(13));  // children of in-migrants are 0-12
      const Sex sex = rng.bernoulli(0.5) ? Sex::female : Sex::male;
      init_new_person(m, p, z, now - 12 * age - static_cast<std::int32_t>(rng.below(12)), sex);
      ps.parent_education[p] = parent_edu;
      ps.next_life[p] = ps.birth_month[p] + 16 * 12;
      ps.life_event[p] = idx(LifeEvent::choose_track);
      add_member(m, h, p, Role::child);
    }
    for (size_t q = p0 + first_member[k]; q < p; ++q) settle_in_migrant(m, q, now);
    households::schedule_move(m, h, now + 1);
  });
}

/// First-year students from outside the region who move in share student houses of
/// k_students_per_house (estimate: typical Leiden student house), each needing a free
/// dwelling; returns how many moved in.
constexpr int k_students_per_house = 3;

std::int64_t admit_students(Model& m, int inst, std::int64_t wanted, std::int32_t now) {
  Institution& in = m.institutions[static_cast<size_t>(inst)];
  const int z = in.zone;
  Municipality& mu = m.municipalities[static_cast<size_t>(z)];
  std::int64_t admitted = 0;
  size_t h = 0;
  for (std::int64_t k = 0; k < wanted; ++k) {
    if (k % k_students_per_house == 0) {
      if (mu.free_dwellings() <= 0) break;
      h = new_household(m, z);
      households::schedule_move(m, h, now + 1);
    }
    const std::uint32_t id = m.next_person_id;
    Rng rng = m.rng(Stream::institutions, id, now);
    const int age = in.level == Education::mbo ? 16 : 18;
    const size_t p = new_person(m, z, now - 12 * age - static_cast<std::int32_t>(rng.below(12)),
                                rng.bernoulli(0.5) ? Sex::female : Sex::male);
    auto& ps = m.persons;
    ps.track[p] = idx(in.level);
    ps.parent_education[p] = static_cast<std::uint8_t>(rng.below(k_education_levels));
    ps.institution[p] = static_cast<std::uint16_t>(inst);
    ps.field[p] = static_cast<std::uint8_t>(pick(in.field_shares, rng.uniform()));
    ps.status[p] = idx(Status::student);
    ps.side_job[p] = rng.bernoulli(m.scenario().labour.student_job_share) ? 1 : 0;
    ps.status_since[p] = now;
    ps.next_life[p] = now + 12 * in.programme_years - 2;
    ps.life_event[p] = idx(LifeEvent::graduate);
    add_member(m, h, p, k % k_students_per_house == 0 ? Role::head : Role::other);
    persons::schedule_person(m, p, now + 1);
    ++in.resident_students;
    ++in.in_migrant_students_year;
    ++mu.in_migrants;
    ++admitted;
  }
  mu.in_migration_capped += (wanted - admitted + k_students_per_house - 1) / k_students_per_house;
  return admitted;
}

/// Couples form within each zone: this month's seekers are paired man to woman by age
/// rank. The partner with the smaller household moves in with the other (bringing the
/// whole household when heading it); two young adults still living with their parents
/// start a new household if a dwelling is free. Unpaired seekers try again next month.
void form_unions(Model& m, const std::vector<std::uint32_t>& seekers, std::int32_t now,
                 Releases& released) {
  auto& ps = m.persons;
  const size_t zones = m.municipalities.size();
  std::vector<std::vector<std::pair<std::int32_t, std::uint32_t>>> men(zones), women(zones);
  for_each_person_event(m, seekers, [&](std::uint32_t id) {
    const size_t p = m.person_index(id);
    if (!ps.alive[p] || ps.partnered[p]) return;
    (ps.sex[p] == idx(Sex::female) ? women : men)[ps.zone[p]].emplace_back(ps.birth_month[p], id);
  });
  auto retry = [&](size_t p, std::int32_t when) {
    ps.next_union[p] = when;
    ps.refresh_due(p);
  };
  for (size_t z = 0; z < zones; ++z) {
    std::sort(men[z].begin(), men[z].end());
    std::sort(women[z].begin(), women[z].end());
    const size_t pairs = std::min(men[z].size(), women[z].size());
    for (size_t k = pairs; k < men[z].size(); ++k) retry(m.person_index(men[z][k].second), now + 1);
    for (size_t k = pairs; k < women[z].size(); ++k)
      retry(m.person_index(women[z][k].second), now + 1);
    for (size_t k = 0; k < pairs; ++k) {
      size_t a = m.person_index(men[z][k].second), b = m.person_index(women[z][k].second);
      const size_t ha = m.household_index(ps.household[a]), hb = m.household_index(ps.household[b]);
      const bool a_home = ps.role[a] == idx(Role::child), b_home = ps.role[b] == idx(Role::child);
      if (a_home && b_home) {
        if (m.municipalities[z].free_dwellings() <= 0) {
          ++m.municipalities[z].blocked_leavers;
          retry(a, now + 3), retry(b, now + 3);
          continue;
        }
        const size_t left_a = leave_household(m, a);
        const size_t left_b = leave_household(m, b);
        const size_t h = new_household(m, static_cast<int>(z));
        add_member(m, h, a, Role::head);
        add_member(m, h, b, Role::partner);
        households::schedule_move(m, h, now + 1);
        // Young siblings left without an adult (their parents gone) are re-homed.
        rehome_minors(m, left_a, released);
        rehome_minors(m, left_b, released);
      } else {
        // The stayer: not living with parents, then the larger household, then the man.
        bool b_stays = a_home || (!b_home && m.households.size[hb] > m.households.size[ha]);
        if (b_stays) std::swap(a, b);
        const size_t stay_h = m.household_index(ps.household[a]);
        const size_t move_h = m.household_index(ps.household[b]);
        if (stay_h != move_h) {
          if (ps.role[b] == idx(Role::head)) {
            // The mover brings the household they head (children, housemates).
            while (m.households.alive[move_h]) {
              const size_t q = m.person_index(m.households.first_member[move_h]);
              const auto role = static_cast<Role>(ps.role[q]);
              leave_household(m, q);
              add_member(m, stay_h, q,
                         q == b                ? Role::partner
                         : role == Role::child ? Role::child
                                               : Role::other);
            }
          } else {
            const size_t left = leave_household(m, b);
            add_member(m, stay_h, b, Role::partner);
            rehome_minors(m, left, released);
          }
        } else {
          ps.role[b] = idx(Role::partner);
        }
        if (ps.role[a] == idx(Role::child)) ps.role[a] = idx(Role::other);
        // A partnered adult no longer leaves the parental home on the leaving schedule.
        ps.leave_home[b] = k_never;
      }
      for (size_t q : {a, b}) {
        ps.partnered[q] = 1;
        ps.next_union[q] = k_never;
        ps.leave_home[q] = ps.role[q] == idx(Role::child) ? ps.leave_home[q] : k_never;
        ps.refresh_due(q);
      }
    }
  }
}

}  // namespace

void Model::phase_commit() {
  // Gather the chunks' effects in index order (= id order): the order, and so the
  // result, does not depend on how many threads produced them.
  PersonEvents ev;
  for (const auto& c : chunk_events_) ev.append(c);
  note_statuses(ev.status_moves);
  std::vector<std::uint32_t> moves;
  for (const auto& c : chunk_moves_) moves.insert(moves.end(), c.begin(), c.end());

  Releases released;
  released.reserve(ev.job_leavers.size() + 4 * (ev.deaths.size() + moves.size()));
  for (std::uint32_t id : ev.job_leavers) released.push_back(person_index(id));
  for_each_person_event(*this, ev.deaths, [&](std::uint32_t id) {
    const size_t p = person_index(id);
    ++municipalities[persons.zone[p]].deaths;
    remove_person(*this, p, released);
  });
  for (std::uint32_t id : ev.study_starts) {
    const size_t p = person_index(id);
    if (persons.institution[p] == PersonStore::k_outside) continue;
    Institution& in = institutions[persons.institution[p]];
    ++in.resident_students;
    ++in.resident_intake_year;
  }
  for (std::uint32_t id : ev.graduations) {
    const size_t p = person_index(id);
    Municipality& home = municipalities[persons.zone[p]];
    const int level = persons.track[p];
    if (persons.education[p] == level) ++home.graduates[static_cast<size_t>(level)];
    if (persons.institution[p] == PersonStore::k_outside) continue;
    Institution& in = institutions[persons.institution[p]];
    --in.resident_students;
    ++in.resident_graduates_year;
    // The person is no longer enrolled: enter_labour_market cleared the link, unless
    // the graduate leaves the region (then remove_person must not count them again).
    persons.institution[p] = PersonStore::k_outside;
  }
  // Births. The mothers' households are read first, for all births at once: a newborn
  // joins as a child, and children do not count for the parents' level, so no birth
  // changes what another one reads. The newborns' schedules depend on nothing but their
  // own fields and are drawn once all are added. The newborns are appended at once and
  // their own fields set in parallel; they join their households one by one (twins join
  // the same one, in order).
  const std::vector<BirthHome> homes = birth_homes(*this, ev.births);
  const std::uint32_t first_baby = next_person_id;
  const size_t first_newborn = persons.append_n(first_baby, ev.births.size());
  next_person_id += static_cast<std::uint32_t>(ev.births.size());
  parallel_each(ev.births.size(), 256, [&](size_t k) {
    const size_t p = first_newborn + k;
    Rng rng = this->rng(Stream::birth_sex, ev.births[k], now_);
    const Sex sex = rng.bernoulli(scenario_.demography.share_boys) ? Sex::male : Sex::female;
    init_new_person(*this, p, homes[k].zone, now_, sex);
    persons.parent_education[p] = homes[k].parent_education;
    persons.next_life[p] = now_ + 16 * 12;
    persons.life_event[p] = idx(LifeEvent::choose_track);
  });
  for (size_t k = 0; k < ev.births.size(); ++k) {
    const size_t p = first_newborn + k;
    index_person(first_baby + static_cast<std::uint32_t>(k), p);
    add_member(*this, homes[k].household, p, Role::child);
    ++municipalities[homes[k].zone].births;
    ++municipalities[homes[k].zone].persons;
  }
  count_arrivals(first_newborn);
  parallel_each(first_newborn, persons.size(), 256,
                [&](size_t p) { persons::schedule_person(*this, p, now_ + 1); });
  for_each_person_event(*this, ev.emigrants, [&](std::uint32_t id) {
    const size_t p = person_index(id);
    if (!persons.alive[p]) return;
    // Graduates who leave are still students at this point (see persons::graduate).
    if (persons.status[p] == idx(Status::student))
      ++municipalities[persons.zone[p]].graduates_leaving;
    ++municipalities[persons.zone[p]].out_migrants;
    remove_person(*this, p, released);
  });
  for_each_person_event(*this, ev.leavers, [&](std::uint32_t id) {
    const size_t p = person_index(id);
    if (!persons.alive[p] || persons.role[p] != idx(Role::child)) return;
    Municipality& mu = municipalities[persons.zone[p]];
    if (mu.free_dwellings() <= 0) {
      // No home to go to: stays with the parents and tries again in three months.
      ++mu.blocked_leavers;
      persons.leave_home[p] = now_ + 3;
      persons.refresh_due(p);
      return;
    }
    const size_t left = leave_household(*this, p);
    const size_t h = new_household(*this, persons.zone[p]);
    add_member(*this, h, p, Role::head);
    households::schedule_move(*this, h, now_ + 1);
    // Young siblings left without an adult (their parents gone) are re-homed.
    rehome_minors(*this, left, released);
  });
  form_unions(*this, ev.unions, now_, released);
  // (Fetched ahead as the persons' events are: the household's index entry, its record,
  // its first member's index entry and fields.)
  auto first_member = [&](size_t k) {
    const std::uint32_t h = household_index(moves[k]);
    return h != k_none ? households.first_member[h] : k_none;
  };
  for (size_t k = 0; k < moves.size(); ++k) {
    if (k + k_ahead[0] < moves.size()) prefetch_household_index(moves[k + k_ahead[0]]);
    if (k + k_ahead[1] < moves.size()) {
      const std::uint32_t ahead = household_index(moves[k + k_ahead[1]]);
      if (ahead != k_none) prefetch_household(*this, ahead);
    }
    if (k + k_ahead[2] < moves.size()) prefetch_person_index(first_member(k + k_ahead[2]));
    if (k + k_ahead[3] < moves.size()) {
      const std::uint32_t p = person_index(first_member(k + k_ahead[3]));
      if (p != k_none) prefetch_person(*this, p);
    }
    const size_t h = household_index(moves[k]);
    if (households.alive[h]) remove_household(*this, h, released);
  }
  firms::release_residents(*this, released);

  // Students from outside start in September; some move into the region.
  const int month_of_year = now_ % 12 + 1;
  if (month_of_year == 7) institutions::graduate_outside_students(*this);
  if (month_of_year == 9) {
    institutions::admit_outside_students(*this, now_);
    const double share = scenario_.education.outside_students_moving_in;
    const size_t first_student = persons.size();
    for (size_t k = 0; k < institutions.size(); ++k) {
      Institution& in = institutions[k];
      if (!in.teaches || in.level == Education::mbo || in.outside_cohorts.empty()) continue;
      in.moving_in_carry += in.outside_cohorts[0] * share;
      const auto want = static_cast<std::int64_t>(std::floor(in.moving_in_carry));
      in.moving_in_carry -= static_cast<double>(want);
      const std::int64_t n = admit_students(*this, static_cast<int>(k), want, now_);
      in.outside_cohorts[0] -= static_cast<double>(n);
    }
    count_arrivals(first_student);
  }

  // Households move in where dwellings are free.
  double mean_size = 0.0;
  for (const auto& t : scenario_.in_migrant_types) mean_size += t.share * t.mean_size();
  std::vector<std::int64_t> arriving(municipalities.size(), 0);
  for (size_t z = 0; z < municipalities.size(); ++z) {
    Municipality& mu = municipalities[z];
    mu.in_migration_carry +=
        municipalities::in_migration_demand(*this, static_cast<int>(z)) / mean_size;
    const auto want = static_cast<std::int64_t>(std::floor(mu.in_migration_carry));
    mu.in_migration_carry -= static_cast<double>(want);
    arriving[z] = std::min(want, mu.free_dwellings());
    // Households that find no dwelling do not wait: they settle elsewhere.
    mu.in_migration_capped += want - arriving[z];
  }
  const size_t first_in_migrant = persons.size();
  admit_households(*this, arriving, now_);
  count_arrivals(first_in_migrant);
}

void Model::phase_firms_plan() {
  for_firm_chunks(firms.size(),
                  [&](size_t, size_t b, size_t e) { firms::plan_chunk(*this, b, e, now_); });
  // Layoffs whose notice ends now: the firm lets go of randomly chosen staff; then the
  // outside workers whose job ends this month (they quit or retire). In firm groups, each
  // its layoffs in firm order and then its departures in worker order.
  const size_t per_group = firms::release_group_size(*this);
  // (The workers whose job ends, a few hundred of some 70,000, were noted when hired: a
  // scan of all of them every month took longer than the departures. Those laid off since
  // have left the store or are no longer alive.)
  std::vector<std::vector<std::uint32_t>> departures(firms::k_release_groups);
  if (const auto k = static_cast<size_t>(now_ - first_); k < outside_leaving_.size()) {
    for (const std::uint32_t id : outside_leaving_[k]) {
      const std::uint32_t o = outside_index(id);
      if (o == k_none || !outside_workers.alive[o] || outside_workers.leave[o] != now_) continue;
      const std::uint32_t e = outside_workers.employer[o];
      departures[firms::release_group(e != k_none ? firm_index(e) : k_none, o, per_group)]
          .push_back(o);
    }
    std::vector<std::uint32_t>().swap(outside_leaving_[k]);
  }
  firms::release_in_groups(*this, [&](size_t g, firms::ReleaseCounts& counts) {
    for (size_t f = g * per_group; f < std::min(firms.size(), (g + 1) * per_group); ++f) {
      if (!firms.alive[f] || firms.layoffs[f] <= 0 || firms.layoff_month[f] != now_) continue;
      Rng rng = this->rng(Stream::layoffs, firms.id[f], now_);
      std::int32_t n = std::min<std::int32_t>(firms.layoffs[f], firms.headcount(f) - 1);
      for (; n > 0; --n) {
        const auto pick = rng.below(static_cast<std::uint32_t>(firms.staff[f].size()));
        dismiss(firms.staff[f][pick], counts);
      }
      firms.layoffs[f] = 0;
    }
    for (std::uint32_t o : departures[g]) {
      if (!outside_workers.alive[o]) continue;  // laid off above
      firms::release(*this, o, true, counts);
      outside_workers.alive[o] = 0;
    }
  });
}

void Model::dismiss(std::uint32_t worker, firms::ReleaseCounts& counts) {
  if (worker & FirmStore::k_outside_bit) {
    // An outside worker's record ends with the job.
    const size_t o = outside_index(worker & ~FirmStore::k_outside_bit);
    firms::release(*this, o, true, counts);
    outside_workers.alive[o] = 0;
    return;
  }
  const size_t p = person_index(worker);
  firms::release(*this, p, false, counts);
  counts.status_moves.push_back(
      {persons.zone[p], persons.status[p], static_cast<std::uint8_t>(Status::unemployed)});
  persons.status[p] = idx(Status::unemployed);
  persons.status_since[p] = now_;
  Rng own = this->rng(Stream::layoffs, persons.id[p], now_);
  persons::schedule_labour(*this, p, now_, own);
}

void Model::phase_labour_market() {
  labour_market::match(*this, now_);
}

void Model::phase_production() {
  for_firm_chunks(firms.size(),
                  [&](size_t, size_t b, size_t e) { firms::produce_chunk(*this, b, e); });
}

void Model::phase_finance() {
  // In blocks of a fixed size (not the chunk size: the blocks' books are summed in order,
  // the same sums for any number of threads and any chunk size).
  const size_t blocks = chunk_count(firms.size(), k_books_block);
  block_exits_.resize(blocks);
  for (auto& v : block_exits_) v.clear();
  books_.resize(blocks);
  for_chunks(firms.size(), k_books_block, [&](size_t c, size_t b, size_t e) {
    firms::finance_chunk(*this, b, e, now_, block_exits_[c], books_[c]);
  });
  record_accounts();
  // Exits: the staff lose their jobs, the firm leaves the graph.
  std::vector<std::uint32_t> exits, entrants;
  for (const auto& c : block_exits_) exits.insert(exits.end(), c.begin(), c.end());
  // The staff of exiting firms are dismissed in firm groups (as the layoffs are).
  const size_t per_group = firms::release_group_size(*this);
  std::vector<std::vector<std::uint32_t>> closing(firms::k_release_groups);
  for (std::uint32_t id : exits) {
    const size_t f = firm_index(id);
    closing[f / per_group].push_back(static_cast<std::uint32_t>(f));
    ++municipalities[firms.zone[f]].firm_exits;
  }
  firms::release_in_groups(*this, [&](size_t g, firms::ReleaseCounts& counts) {
    for (std::uint32_t f : closing[g]) {
      while (!firms.staff[f].empty()) dismiss(firms.staff[f].back(), counts);
      firms.alive[f] = 0;
      firms.vacancies[f] = {0, 0, 0, 0};
    }
  });
  firms::create_entrants(*this, now_, entrants);
  for (std::uint32_t id : entrants) ++municipalities[firms.zone[firm_index(id)]].firm_entries;
  // The graph is rewired once a quarter (phase_supply_chain).
  pending_exits_.insert(pending_exits_.end(), exits.begin(), exits.end());
  pending_entrants_.insert(pending_entrants_.end(), entrants.begin(), entrants.end());
  // Wages follow productivity (the sector's trend), and their level moves with the
  // tightness of the labour market, measured against its median over the first simulated
  // year: the wage levels of the start are those of the start's tightness, so the
  // premium answers changes from it (the median, because the first months carry the
  // adjustment from the initial matching). The ratio is bounded: beyond 3x (a handful of
  // unemployed) it says nothing more about pressure. Tightness sets a premium on the wage
  // level, as in the wage curve, not on its growth: a growth effect would let a few tight
  // years raise wages above productivity for ever (by a third in care and education over
  // 2026-2046, squeezing their margins to nothing). The premium moves a twelfth of the way
  // to its target each month, as monthly tightness is noisy.
  constexpr double k_max_relative_tightness = 3.0;
  const int month = now_ - first_;
  if (month < 12) first_year_tightness_.push_back(tightness);
  if (month == 11) {
    std::vector<double> v = first_year_tightness_;
    std::sort(v.begin(), v.end());
    tightness_reference = std::max(1e-6, 0.5 * (v[5] + v[6]));
  }
  const double relative = tightness_reference > 0.0
                              ? std::min(tightness / tightness_reference, k_max_relative_tightness)
                              : 1.0;
  const double target = 1.0 + scenario_.labour_market.wage_tightness * (relative - 1.0);
  wage_premium += (target - wage_premium) / 12.0;
  for (size_t k = 0; k < wage_trend_.size(); ++k)
    wage_trend_[k] *= 1.0 + scenario_.sectors[k].productivity_growth / 12.0;
  refresh_wages();
}

void Model::phase_supply_chain() {
  // Once a quarter (always before the year-end compaction): rewiring costs about as much
  // for a few firms as for many, and orders meant for a firm that left in between are
  // bought outside the region, so money still balances. (Nothing in it reads the wages
  // set at the end of phase_finance.)
  if (now_ % 3 != 2 && now_ != last_) return;
  supply_chain.update(*this, pending_exits_, pending_entrants_, now_);
  pending_exits_.clear();
  pending_entrants_.clear();
}

void Model::record_accounts() {
  accounts.clear();
  const size_t ns = scenario_.sectors.size();
  // The firms' books, summed per fixed block of firm indices in parallel by the finance
  // pass (phase_finance), and the blocks here in order.
  firms::Books t;
  for (const firms::Books& b : books_) t.add(b);
  // Wages as the employers pay them, split by who they employ.
  for (int inst = 0; inst < 2; ++inst) {
    const Account payer = inst ? Account::institutions : Account::firms;
    accounts.pay(payer, Account::households, t.wages[inst][0]);
    accounts.pay(payer, Account::rest_of_world, t.wages[inst][1]);
  }
  // Wages as the workers' side counts them: the residents' and outside workers' jobs by
  // employer type, sector and level (employment counters).
  for (size_t inst = 0; inst < 2; ++inst) {
    const Account payer = inst ? Account::institutions : Account::firms;
    double residents = 0.0, outsiders = 0.0;
    for (size_t k = 0; k < ns; ++k)
      for (int l = 0; l < k_education_levels; ++l) {
        const size_t cell = (inst * ns + k) * k_education_levels + static_cast<size_t>(l);
        const double w = wage(static_cast<int>(k), l);
        for (const auto& mu : municipalities)
          residents += static_cast<double>(mu.employed_by[cell]) * w;
        outsiders += static_cast<double>(outside_employed_by[cell]) * w;
      }
    accounts.receive(payer, Account::households, residents);
    accounts.receive(payer, Account::rest_of_world, outsiders);
  }
  // Purchases at regional sellers: the buyers pay what they planned last month (the goods
  // market's record) less what the sellers turned away, which they buy outside the region;
  // the sellers record their sales.
  const PurchasePlans& plan = purchase_plan;
  auto both = [&](Account from, Account to, double paid, double received) {
    accounts.pay(from, to, paid);
    accounts.receive(from, to, received);
  };
  both(Account::households, Account::firms, plan.households_regional - t.away_households,
       t.sold_households);
  both(Account::rest_of_world, Account::firms,
       plan.exports + plan.public_firms - t.away_exports - t.away_public[0],
       t.sold_exports + t.sold_public[0]);
  both(Account::rest_of_world, Account::institutions, plan.public_institutions - t.away_public[1],
       t.sold_public[1]);
  // Intermediate orders: the suppliers cannot tell which customer type an order came from,
  // so regional deliveries are attributed to firms and institutions by the orders they
  // placed; the total is measured on both sides.
  const double placed = plan.orders_firms + plan.orders_institutions;
  const double delivered = placed - plan.orders_unplaced - t.away_orders;
  const double firms_part = placed > 0.0 ? plan.orders_firms / placed : 1.0;
  both(Account::firms, Account::firms, delivered * firms_part, t.sold_orders * firms_part);
  both(Account::institutions, Account::firms, delivered * (1.0 - firms_part),
       t.sold_orders * (1.0 - firms_part));
  // Inputs not delivered by regional suppliers are imported (one-sided: the rest of the
  // world keeps no books here).
  const double imports_firms = t.inputs[0] - delivered * firms_part;
  const double imports_institutions = t.inputs[1] - delivered * (1.0 - firms_part);
  both(Account::firms, Account::rest_of_world, imports_firms, imports_firms);
  both(Account::institutions, Account::rest_of_world, imports_institutions, imports_institutions);
  // Households and the rest of the world: benefits, pensions, wages earned outside, taxes,
  // and the spending not done at regional firms (planned elsewhere or turned away).
  const goods_market::Incomes in = goods_market::household_incomes(*this);
  double benefits = 0.0, taxes = 0.0;
  for (size_t z = 0; z < in.disposable.size(); ++z)
    benefits += in.benefits[z], taxes += in.taxes[z];
  const double elsewhere = plan.households_elsewhere + t.away_households;
  both(Account::rest_of_world, Account::households, benefits + in.out_commuter_wages,
       benefits + in.out_commuter_wages);
  both(Account::households, Account::rest_of_world, taxes + elsewhere, taxes + elsewhere);
}

void Model::phase_goods_market() {
  count_statuses();
  goods_market::compute_demand(*this, /*defer_orders=*/true);
  if (now_ % 12 == 0) commuting.update(*this);
}

void Model::phase_observe() {
  observer::record_month(*this);
  if (now_ % 12 == 11) {
    observer::record_year_end(*this);
    // Removed agents cost one comparison a month each while they stay; compacting costs a
    // pass over every field. Compact once they are a tenth of the store.
    const size_t dead = persons.size() - static_cast<size_t>(std::count(persons.alive.begin(),
                                                                        persons.alive.end(), 1));
    // The stores share nothing: compacted side by side (and each store's fields too).
    tbb::parallel_invoke(
        [&] {
          if (dead * 10 > persons.size()) {
            persons.compact();
            households.compact();
          }
        },
        [&] {
          firms.compact();
          outside_workers.compact();
        });
    rebuild_indices();
    supply_chain.reindex(*this);
  }
}

void Model::check_accounting() const {
  std::vector<std::int64_t> people(municipalities.size(), 0), homes(municipalities.size(), 0);
  for (size_t i = 0; i < persons.size(); ++i)
    if (persons.alive[i]) ++people[persons.zone[i]];
  for (size_t h = 0; h < households.id.size(); ++h)
    if (households.alive[h]) ++homes[households.zone[h]];
  for (size_t z = 0; z < municipalities.size(); ++z) {
    const Municipality& mu = municipalities[z];
    if (people[z] != mu.persons)
      throw InvariantError(fmt::format("{} in {}: {} persons in the store, {} by accounting",
                                       Month{now_}.str(), mu.name, people[z], mu.persons));
    if (homes[z] != mu.households)
      throw InvariantError(fmt::format("{} in {}: {} households in the store, {} by accounting",
                                       Month{now_}.str(), mu.name, homes[z], mu.households));
  }
  // The running counts of residents by status and of working age (count_statuses).
  const StatusCounts counted = recount_statuses();
  const std::vector<std::int64_t> working = working_age_now();
  for (size_t z = 0; z < municipalities.size(); ++z) {
    for (size_t st = 0; st < k_statuses; ++st)
      if (counted.status[z * k_statuses + st] != resident_status_[z * k_statuses + st])
        throw InvariantError(fmt::format(
            "{} in {}: {} residents {} in the store, {} by the running count", Month{now_}.str(),
            municipalities[z].name, counted.status[z * k_statuses + st], k_status_names[st],
            resident_status_[z * k_statuses + st]));
    if (counted.working[z] != working[z])
      throw InvariantError(
          fmt::format("{} in {}: {} residents aged 15-64 in the store, {} by the running count",
                      Month{now_}.str(), municipalities[z].name, counted.working[z], working[z]));
  }
  observer::check_flows(*this);
  if (const std::string problems = accounts.check(1e-9); !problems.empty())
    throw InvariantError(
        fmt::format("{}: money flows inconsistent: {}", Month{now_}.str(), problems));
  check_jobs();
}

void Model::check_jobs() const {
  // Jobs identity: positions filled at regional firms = residents working in the region
  // + in-commuters; every employee is on exactly one staff list.
  std::int64_t filled = 0, on_lists = 0;
  for (size_t f = 0; f < firms.size(); ++f) {
    if (!firms.alive[f]) continue;
    filled += firms.headcount(f);
    on_lists += static_cast<std::int64_t>(firms.staff[f].size());
  }
  std::int64_t residents = 0, outsiders = 0;
  for (size_t i = 0; i < persons.size(); ++i)
    if (persons.alive[i] && persons.employer[i] != k_none) {
      if (persons.status[i] != idx(Status::employed))
        throw InvariantError(fmt::format("{}: person {} holds a job but is {}", Month{now_}.str(),
                                         persons.id[i], k_status_names[persons.status[i]]));
      ++residents;
    }
  for (size_t o = 0; o < outside_workers.size(); ++o)
    if (outside_workers.alive[o] && outside_workers.employer[o] != k_none) ++outsiders;
  if (filled != residents + outsiders || on_lists != filled)
    throw InvariantError(fmt::format(
        "{}: jobs identity fails: filled positions {} (staff lists {}) != employed residents {} "
        "+ in-commuters {}",
        Month{now_}.str(), filled, on_lists, residents, outsiders));
}

}  // namespace regio
