#include "agents/firms.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "sim/compaction.hpp"
#include "sim/model.hpp"
#include "sim/sampling.hpp"

namespace regio {

size_t FirmStore::append(std::uint32_t new_id) {
  id.push_back(new_id);
  sector.push_back(0);
  zone.push_back(0);
  cluster.push_back(k_no_cluster);
  kind.push_back(0);
  institution.push_back(0xFFFF);
  founded.push_back(0);
  owner_birth.push_back(0);
  employees.push_back({0, 0, 0, 0});
  vacancies.push_back({0, 0, 0, 0});
  outside_staff.push_back({0, 0, 0, 0});
  layoffs.push_back(0);
  layoff_month.push_back(0);
  productivity.push_back(0.0);
  expected.push_back(0.0);
  demand.push_back(0.0);
  output.push_back(0.0);
  sales_households.push_back(0.0);
  sales_firms.push_back(0.0);
  sales_exports.push_back(0.0);
  sales_public.push_back(0.0);
  export_demand.push_back(0.0);
  household_demand.push_back(0.0);
  public_demand.push_back(0.0);
  order_demand.push_back(0.0);
  export_weight.push_back(0.0);
  inputs.push_back(0.0);
  regional_inputs.push_back(0.0);
  wage_bill.push_back(0.0);
  profit.push_back(0.0);
  cash.push_back(0.0);
  negative_months.push_back(0);
  digital.push_back(0.0f);
  demand_shock.push_back(0.0f);
  alive.push_back(1);
  staff.emplace_back();
  return id.size() - 1;
}

void FirmStore::compact() {
  const std::vector<std::uint32_t> keep = kept_rows(alive);
  if (keep.size() == alive.size()) return;
  gather_fields(keep, id, sector, zone, cluster, kind, institution, founded, owner_birth, employees,
                vacancies, outside_staff, layoffs, layoff_month, productivity, expected, demand,
                output, sales_households, sales_firms, sales_exports, sales_public, export_demand,
                household_demand, public_demand, order_demand, export_weight, inputs,
                regional_inputs, wage_bill, profit, cash, negative_months, digital, demand_shock,
                alive, staff);
}

size_t FirmStore::bytes() const {
  // 20 doubles, 3 level arrays and about 34 bytes of small fields per firm, plus the
  // staff lists (4 bytes per employee).
  size_t staff_bytes = 0;
  for (const auto& list : staff) staff_bytes += list.capacity() * sizeof(std::uint32_t);
  return id.capacity() * (20 * sizeof(double) + 3 * sizeof(Levels) + 34) + staff_bytes;
}

namespace firms {

void hire(Model& m, size_t f, size_t p, bool outside, int level) {
  auto& fs = m.firms;
  if (!outside) {
    hire_uncounted(m, f, p, level);
    count_hire(m, m.persons.zone[p], f, level, fs.zone[f]);
    return;
  }
  hire_outside_uncounted(m, f, p, level);
  ++m.outside_employed_by[m.employment_cell(f, level)];
}

namespace {

/// Worker index i of `workers` (the persons or the outside workers: the same job fields)
/// joins firm f's staff list as `entry` in a job of `level`.
template <class Store>
void join_staff(FirmStore& fs, size_t f, Store& workers, size_t i, std::uint32_t entry, int level) {
  const auto slot = static_cast<std::uint32_t>(fs.staff[f].size());
  fs.staff[f].push_back(entry);
  ++fs.employees[f][static_cast<size_t>(level)];
  workers.employer[i] = fs.id[f];
  workers.job_zone[i] = fs.zone[f];
  workers.job_level[i] = static_cast<std::uint8_t>(level);
  workers.job_slot[i] = slot;
}

}  // namespace

void hire_outside_uncounted(Model& m, size_t f, size_t o, int level) {
  auto& ow = m.outside_workers;
  join_staff(m.firms, f, ow, o, ow.id[o] | FirmStore::k_outside_bit, level);
  ++m.firms.outside_staff[f][static_cast<size_t>(level)];
}

void hire_uncounted(Model& m, size_t f, size_t p, int level) {
  join_staff(m.firms, f, m.persons, p, m.persons.id[p], level);
}

void take_outside_job(Model& m, size_t p, int external, int level) {
  take_outside_job_uncounted(m, p, external, level);
  count_hire(m, m.persons.zone[p], k_none, level, m.persons.job_zone[p]);
}

void take_outside_job_uncounted(Model& m, size_t p, int external, int level) {
  auto& ps = m.persons;
  ps.employer[p] = k_none;
  ps.job_zone[p] = static_cast<std::uint16_t>(m.internal_zones() + external);
  ps.job_level[p] = static_cast<std::uint8_t>(level);
}

void count_hire(Model& m, size_t home, size_t f, int level, size_t job_zone) {
  Municipality& mu = m.municipalities[home];
  if (f != k_none)
    ++mu.employed_by[m.employment_cell(f, level)];
  else
    ++mu.out_commuters[static_cast<size_t>(level)];
  ++mu.jobs_by_zone[job_zone];
}

namespace {

/// A resident's job counters (municipality employed_by, out_commuters, jobs_by_zone) as
/// release() changes them: the municipalities' own, or a batch's private changes that are
/// added to them afterwards.
struct ModelCounts {
  Model& m;
  void end_job(size_t zone, size_t cell, int level, bool regional, size_t job_zone) {
    Municipality& mu = m.municipalities[zone];
    if (regional)
      --mu.employed_by[cell];
    else
      --mu.out_commuters[static_cast<size_t>(level)];
    --mu.jobs_by_zone[job_zone];
  }
  void end_outside_job(size_t cell) { --m.outside_employed_by[cell]; }
};

template <class Counts>
void release_job(Model& m, size_t p, bool outside, Counts& counts) {
  auto& fs = m.firms;
  const std::uint32_t employer = outside ? m.outside_workers.employer[p] : m.persons.employer[p];
  const int level = outside ? m.outside_workers.job_level[p] : m.persons.job_level[p];
  size_t f = k_none;
  if (employer != k_none) {
    f = m.firm_index(employer);
    const std::uint32_t slot = outside ? m.outside_workers.job_slot[p] : m.persons.job_slot[p];
    auto& list = fs.staff[f];
    // Swap-remove: the last worker takes the freed slot.
    const std::uint32_t moved = list.back();
    list[slot] = moved;
    list.pop_back();
    if (slot < list.size()) {
      if (moved & FirmStore::k_outside_bit)
        m.outside_workers.job_slot[m.outside_index(moved & ~FirmStore::k_outside_bit)] = slot;
      else
        m.persons.job_slot[m.person_index(moved)] = slot;
    }
    --fs.employees[f][static_cast<size_t>(level)];
    if (outside) {
      --fs.outside_staff[f][static_cast<size_t>(level)];
      counts.end_outside_job(m.employment_cell(f, level));
    }
  }
  if (outside) {
    m.outside_workers.employer[p] = k_none;
    return;
  }
  auto& ps = m.persons;
  if (ps.job_zone[p] == PersonStore::k_no_job_zone) return;
  const bool regional = employer != k_none;
  counts.end_job(ps.zone[p], regional ? m.employment_cell(f, level) : 0, level, regional,
                 ps.job_zone[p]);
  ps.employer[p] = k_none;
  ps.job_zone[p] = PersonStore::k_no_job_zone;
}

}  // namespace

void ReleaseCounts::end_job(size_t zone, size_t cell, int level, bool regional, size_t job_zone) {
  Municipality& mu = model->municipalities[zone];
  decrements.push_back(regional ? &mu.employed_by[cell]
                                : &mu.out_commuters[static_cast<size_t>(level)]);
  decrements.push_back(&mu.jobs_by_zone[job_zone]);
}

void ReleaseCounts::end_outside_job(size_t cell) {
  decrements.push_back(&model->outside_employed_by[cell]);
}

void ReleaseCounts::apply() const {
  for (std::int64_t* counter : decrements) --*counter;
  model->note_statuses(status_moves);
}

void release(Model& m, size_t p, bool outside) {
  ModelCounts counts{m};
  release_job(m, p, outside, counts);
}

void release(Model& m, size_t p, bool outside, ReleaseCounts& counts) {
  release_job(m, p, outside, counts);
}

size_t release_group_size(const Model& m) {
  return std::max<size_t>(1, (m.firms.size() + k_release_groups - 1) / k_release_groups);
}

void release_in_groups(Model& m, const std::function<void(size_t, ReleaseCounts&)>& fn) {
  std::vector<ReleaseCounts> counts(k_release_groups, ReleaseCounts(m));
  // Room for a month's releases in a group, so that the lists do not grow by repeated
  // reallocation (all threads share one malloc arena).
  for (ReleaseCounts& c : counts) c.decrements.reserve(512);
  tbb::parallel_for(size_t{0}, k_release_groups, [&](size_t g) { fn(g, counts[g]); });
  for (const ReleaseCounts& c : counts) c.apply();
}

void release_residents(Model& m, const std::vector<std::uint32_t>& people) {
  // Releases at different firms touch different staff lists and different workers' slots;
  // only the municipality counters are shared, and those are integer sums. So the list is
  // split by employer into groups, each group is released in list order (the order that
  // matters: the swap-removes at one firm), and the groups' counter changes are added up.
  // Same result as releasing one by one, for any number of threads.
  const size_t n = people.size();
  constexpr size_t k_serial = 256;  // below this, splitting costs more than it saves
  if (n < k_serial) {
    for (std::uint32_t p : people) release(m, p, false);
    return;
  }
  // The group of an entry: by employer (firm index range); persons without a regional
  // employer (a job outside the region, or none) by person, so that a person listed
  // twice is released twice in one group.
  std::vector<std::uint32_t> firm(n);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 512), [&](const auto& r) {
    for (size_t k = r.begin(); k < r.end(); ++k) {
      const std::uint32_t e = m.persons.employer[people[k]];
      firm[k] = e != k_none ? m.firm_index(e) : k_none;
    }
  });
  const size_t per_group = release_group_size(m);
  std::vector<std::vector<std::uint32_t>> members(k_release_groups);  // entries k of the group
  for (size_t k = 0; k < n; ++k)
    members[release_group(firm[k], people[k], per_group)].push_back(static_cast<std::uint32_t>(k));
  release_in_groups(m, [&](size_t g, ReleaseCounts& counts) {
    const std::vector<std::uint32_t>& list = members[g];
    // A release is a chain of dependent loads (worker, firm, staff list, the worker moved
    // into the freed slot); prefetching the next releases' first links lets their cache
    // misses overlap. Prefetches change no state.
    auto& ps = m.persons;
    auto& fs = m.firms;
    constexpr size_t k_ahead = 8;
    for (size_t j = 0; j < list.size(); ++j) {
      if (j + k_ahead < list.size()) {
        const size_t k = list[j + k_ahead];
        const std::uint32_t p = people[k];
        __builtin_prefetch(&ps.job_slot[p]);
        __builtin_prefetch(&ps.job_level[p]);
        __builtin_prefetch(&ps.job_zone[p], 1);
        __builtin_prefetch(&ps.zone[p]);
        if (firm[k] != k_none) {
          __builtin_prefetch(&fs.staff[firm[k]]);
          __builtin_prefetch(&fs.employees[firm[k]], 1);
          __builtin_prefetch(&fs.kind[firm[k]]);
          __builtin_prefetch(&fs.sector[firm[k]]);
        }
      }
      if (j + k_ahead / 2 < list.size()) {
        const size_t k = list[j + k_ahead / 2];
        if (firm[k] != k_none) {
          // (A person listed twice has no slot any more at the second release.)
          const auto& staff = fs.staff[firm[k]];
          const std::uint32_t slot = ps.job_slot[people[k]];
          if (slot < staff.size()) {
            __builtin_prefetch(staff.data() + slot, 1);
            __builtin_prefetch(staff.data() + staff.size() - 1, 1);
          }
        }
      }
      release_job(m, people[list[j]], false, counts);
    }
  });
}

namespace {

/// Public administration: a sector whose output the public sector buys (almost) whole. Its
/// units are not founded by entrepreneurs, and they neither go bankrupt nor close when a
/// manager retires (they are reorganised, which the model does not follow). Care and
/// education are mostly publicly funded too, but their providers are private foundations
/// and firms, many of them new (practices, home care, training): those sectors are
/// founded, and their firms fail, like any other.
bool public_body(const SectorSpec& sec) {
  return sec.public_share >= 0.95;
}

/// The staff mix by level of level mix `mix`: the sectors' first, then the institutions'
/// (the order of Model::post_split).
const std::array<double, k_education_levels>& level_mix(const Scenario& sc, size_t mix) {
  const size_t ns = sc.sectors.size();
  return mix < ns ? sc.sectors[mix].education : sc.institutions[mix - ns].staff_education;
}

/// Output of firm f with `workers` at its productivity (EUR a month).
double output_of(const Model& m, size_t f, std::int32_t workers) {
  const auto& fs = m.firms;
  const SectorSpec& sec = m.scenario().sectors[fs.sector[f]];
  return fs.productivity[f] * workers / (1.0 - sec.input_share);
}

/// A firm of `sector` in `zone` with `jobs` positions, all vacant.
size_t new_firm(Model& m, int sector, int zone, std::int32_t jobs, std::int32_t now,
                const std::array<double, k_education_levels>& level_mix, Rng& rng,
                int oldest_owner = 64) {
  const std::uint32_t fid = m.next_firm_id++;
  auto& fs = m.firms;
  const size_t f = fs.append(fid);
  m.index_firm(fid, f);
  const SectorSpec& sec = m.scenario().sectors[static_cast<size_t>(sector)];
  fs.sector[f] = static_cast<std::uint8_t>(sector);
  fs.zone[f] = static_cast<std::uint16_t>(zone);
  fs.founded[f] = now;
  // Owners are 30 to `oldest_owner` (estimate: uniform ages in whole years).
  fs.owner_birth[f] = now -
                      12 * (30 + static_cast<std::int32_t>(
                                     rng.below(static_cast<std::uint32_t>(oldest_owner - 29)))) -
                      static_cast<std::int32_t>(rng.below(12));
  // Productivity varies between firms of a sector (estimate: lognormal, sd 0.15).
  fs.productivity[f] = sec.va * std::exp(rng.normal(0.0, 0.15) - 0.5 * 0.15 * 0.15);
  long long counts[k_education_levels];
  apportion(level_mix, jobs, counts, k_education_levels);
  for (int l = 0; l < k_education_levels; ++l)
    fs.vacancies[f][l] = static_cast<std::int32_t>(counts[l]);
  return f;
}

/// Firm sizes from a Pareto law (minimum 1 job) whose shape gives the sector's mean size,
/// drawn until `jobs` are placed; the last firm takes the remainder.
std::vector<std::int32_t> firm_sizes(double jobs, double mean_size, int count_hint, Rng& rng) {
  std::vector<std::int32_t> sizes;
  auto total = static_cast<std::int64_t>(std::llround(jobs));
  if (count_hint > 0) {
    // A fixed number of companies sharing `jobs`: Pareto weights, rescaled.
    std::vector<double> w(static_cast<size_t>(count_hint));
    for (auto& x : w) x = std::pow(rng.uniform(), -1.0 / 1.3);
    std::vector<long long> out(w.size());
    apportion(w, total - count_hint, out.data(), count_hint);
    for (auto v : out) sizes.push_back(static_cast<std::int32_t>(v + 1));
    return sizes;
  }
  const double alpha = mean_size > 1.05 ? mean_size / (mean_size - 1.0) : 20.0;
  while (total > 0) {
    auto s = static_cast<std::int64_t>(std::floor(std::pow(rng.uniform(), -1.0 / alpha)));
    s = std::clamp<std::int64_t>(s, 1, std::max<std::int64_t>(1, total));
    sizes.push_back(static_cast<std::int32_t>(s));
    total -= s;
  }
  return sizes;
}

}  // namespace

void build_firms(Model& m) {
  const Scenario& sc = m.scenario();
  const double scale = m.config().scale;
  const std::int32_t now = m.first_month();
  const size_t nz = sc.zones.size(), ns = sc.sectors.size();
  // The split of a few posts by each level mix, as apportion gives it (plan_chunk).
  m.post_split.assign((ns + sc.institutions.size()) * k_split_posts, FirmStore::Levels{});
  for (size_t mix = 0; mix < ns + sc.institutions.size(); ++mix)
    for (int posts = 0; posts < k_split_posts; ++posts) {
      long long counts[k_education_levels];
      apportion(level_mix(sc, mix), posts, counts, k_education_levels);
      for (int l = 0; l < k_education_levels; ++l)
        m.post_split[mix * k_split_posts + static_cast<size_t>(posts)][l] =
            static_cast<std::int32_t>(counts[l]);
    }
  // The owners of the starting firms are up to 66: some reach 67 (succession or closure)
  // in every month from the first on. Owners of at most 64 would leave the first two
  // years without a single succession, and so without those closures.
  constexpr int k_oldest_owner_at_start = 66;
  // Jobs already placed per zone and sector by institutions and cluster companies.
  std::vector<double> placed(nz * ns, 0.0);

  for (size_t i = 0; i < sc.institutions.size(); ++i) {
    const InstitutionSpec& in = sc.institutions[i];
    const int z = sc.zone_index(in.zone);
    Rng rng = m.rng(Stream::firms, 1'000'000 + i, 0);
    const auto jobs = static_cast<std::int32_t>(std::llround(in.staff * scale));
    const size_t f = new_firm(m, in.sector, z, jobs, now, in.staff_education, rng);
    m.firms.kind[f] = k_institution;
    m.firms.institution[f] = static_cast<std::uint16_t>(i);
    m.institutions[i].firm_id = m.firms.id[f];
    m.firms.cluster[f] = m.cluster_index(in.cluster);
    placed[static_cast<size_t>(z) * ns + static_cast<size_t>(in.sector)] += jobs;
  }
  for (size_t c = 0; c < sc.clusters.size(); ++c) {
    const ClusterSite& cs = sc.clusters[c];
    const int z = sc.zone_index(cs.zone);
    Rng rng = m.rng(Stream::firms, 2'000'000 + c, 0);
    const int companies = std::max(1, static_cast<int>(std::lround(cs.companies * scale)));
    const auto sizes =
        firm_sizes(std::max(cs.jobs * scale, double(companies)), 0.0, companies, rng);
    for (std::int32_t s : sizes) {
      const size_t f =
          new_firm(m, cs.sector, z, s, now, sc.sectors[static_cast<size_t>(cs.sector)].education,
                   rng, k_oldest_owner_at_start);
      m.firms.kind[f] = k_cluster_site;
      m.firms.cluster[f] = m.cluster_index(cs.cluster);
      placed[static_cast<size_t>(z) * ns + static_cast<size_t>(cs.sector)] += s;
    }
  }
  for (size_t z = 0; z < nz; ++z) {
    for (size_t k = 0; k < ns; ++k) {
      const double target = sc.zone_economy[z].jobs * sc.zone_economy[z].sector_shares[k] * scale;
      const double rest = target - placed[z * ns + k];
      if (rest < 0.5) continue;
      Rng rng = m.rng(Stream::firms, 3'000'000 + z * 1000 + k, 0);
      for (std::int32_t s : firm_sizes(rest, sc.sectors[k].mean_size, 0, rng))
        new_firm(m, static_cast<int>(k), static_cast<int>(z), s, now, sc.sectors[k].education, rng,
                 k_oldest_owner_at_start);
    }
  }
  // Cash buffers and expectations start at the full-employment output. The staff lists
  // get room for the positions, which the initial matching fills: one allocation per
  // firm instead of a list grown by reallocation, hire after hire.
  auto& fs = m.firms;
  for (size_t f = 0; f < fs.size(); ++f) {
    std::int32_t jobs = 0;
    for (int l = 0; l < k_education_levels; ++l) jobs += fs.vacancies[f][l];
    fs.staff[f].reserve(static_cast<size_t>(jobs));
    const SectorSpec& sec = sc.sectors[fs.sector[f]];
    const double full = fs.productivity[f] * jobs / (1.0 - sec.input_share);
    fs.expected[f] = full;
    fs.demand[f] = full;
    fs.cash[f] = sc.economy.cash_months * sec.wage * jobs;
  }
}

double capacity(const Model& m, size_t f) {
  return output_of(m, f, m.firms.headcount(f));
}

double positions_capacity(const Model& m, size_t f) {
  return output_of(m, f, m.firms.positions(f));
}

void plan_chunk(Model& m, size_t begin, size_t end, std::int32_t now) {
  auto& fs = m.firms;
  const auto& sc = m.scenario();
  const size_t ns = sc.sectors.size();
  const double lambda = sc.economy.expectation_adjustment;
  const double threshold = sc.economy.layoff_threshold;
  const auto notice = static_cast<std::int32_t>(std::lround(sc.economy.layoff_notice.value));
  for (size_t f = begin; f < end; ++f) {
    if (!fs.alive[f]) continue;
    const SectorSpec& sec = sc.sectors[fs.sector[f]];
    fs.expected[f] = (1.0 - lambda) * fs.expected[f] + lambda * fs.demand[f];
    const double per_worker = fs.productivity[f] / (1.0 - sec.input_share);
    // Staff for the expected demand, to the nearest worker: rounding up would make every
    // small rise in demand a hire that no later fall (within the layoff threshold) undoes,
    // a ratchet that inflates employment by up to half a worker per firm.
    const auto desired = std::max<std::int32_t>(
        1, static_cast<std::int32_t>(round_half_away(fs.expected[f] / per_worker)));
    const std::int32_t staff = fs.headcount(f);
    if (fs.layoff_month[f] < now) fs.layoffs[f] = 0;  // past notices were carried out
    if (desired > staff) {
      // Open positions for the gap, by the sector's (or institution's) level mix: a few
      // posts from the table of their splits, more by apportioning.
      const size_t mix = (fs.kind[f] & k_institution) ? ns + fs.institution[f] : fs.sector[f];
      const std::int32_t posts = desired - staff;
      if (posts < k_split_posts) {
        fs.vacancies[f] = m.post_split[mix * k_split_posts + static_cast<size_t>(posts)];
      } else {
        long long counts[k_education_levels];
        apportion(level_mix(sc, mix), posts, counts, k_education_levels);
        for (int l = 0; l < k_education_levels; ++l)
          fs.vacancies[f][l] = static_cast<std::int32_t>(counts[l]);
      }
    } else {
      fs.vacancies[f] = {0, 0, 0, 0};
      if (staff > desired * (1.0 + threshold) && fs.layoffs[f] == 0 &&
          !(fs.kind[f] & k_institution)) {
        fs.layoffs[f] = staff - desired;
        fs.layoff_month[f] = now + notice;
      }
    }
  }
}

void produce_chunk(Model& m, size_t begin, size_t end) {
  auto& fs = m.firms;
  const auto& sc = m.scenario();
  for (size_t f = begin; f < end; ++f) {
    if (!fs.alive[f]) continue;
    const SectorSpec& sec = sc.sectors[fs.sector[f]];
    const double d =
        fs.export_demand[f] + fs.household_demand[f] + fs.public_demand[f] + fs.order_demand[f];
    fs.demand[f] = d;
    const double y = std::min(d, capacity(m, f));
    fs.output[f] = y;
    // Demand the firm cannot serve is lost to it: every buyer is served pro rata.
    const double served = d > 0.0 ? y / d : 0.0;
    fs.sales_exports[f] = served * fs.export_demand[f];
    fs.sales_households[f] = served * fs.household_demand[f];
    fs.sales_public[f] = served * fs.public_demand[f];
    fs.sales_firms[f] = served * fs.order_demand[f];
    fs.inputs[f] = sec.input_share * y;
    fs.regional_inputs[f] = sec.regional_sourcing * fs.inputs[f];
  }
}

void Books::add(const Books& b) {
  for (int i = 0; i < 2; ++i) {
    wages[i][0] += b.wages[i][0], wages[i][1] += b.wages[i][1];
    sold_public[i] += b.sold_public[i], away_public[i] += b.away_public[i];
    inputs[i] += b.inputs[i];
  }
  sold_households += b.sold_households, away_households += b.away_households;
  sold_exports += b.sold_exports, away_exports += b.away_exports;
  sold_orders += b.sold_orders, away_orders += b.away_orders;
}

void finance_chunk(Model& m, size_t begin, size_t end, std::int32_t now,
                   std::vector<std::uint32_t>& exits, Books& books) {
  auto& fs = m.firms;
  const auto& sc = m.scenario();
  const auto& e = sc.economy;
  const auto bankrupt_after = static_cast<int>(std::lround(e.bankruptcy_months.value));
  // The month's demand-shock draws first, in loops of their own: each is a long chain of
  // dependent operations (the generator's rounds, then the normal quantile's rational
  // function), and only in short loops can the processor work on several firms' chains at
  // once. (About half the pass's time when drawn in the main loop.) The uniforms first,
  // then their standard normal quantiles in a batch (Rng::normal_quantiles: the same
  // values as Rng::normal_quantile, a third of the shocks' time), scaled in the main loop.
  // The uniforms come from Rng::first_uniforms, many generators side by side (the same
  // numbers as m.rng(Stream::firm_demand, id, now).uniform() one firm after the other,
  // in a quarter of the time); those of removed firms and institutions are not used. The
  // same generators' second numbers decide the closures of one-job firms (see below).
  thread_local std::vector<std::uint64_t> agents;
  thread_local std::vector<double> uniforms, quantiles, closing;
  uniforms.resize(end - begin);
  quantiles.resize(end - begin);
  closing.resize(end - begin);
  const double sd = e.demand_shock_sd;
  const double solo_closure = e.solo_closure / 12.0;  // monthly
  if (sd > 0.0 || solo_closure > 0.0) {
    agents.assign(fs.id.begin() + static_cast<std::ptrdiff_t>(begin),
                  fs.id.begin() + static_cast<std::ptrdiff_t>(end));
    Rng::first_uniforms(m.config().seed, m.config().replication, Stream::firm_demand, agents.data(),
                        static_cast<std::uint32_t>(now), uniforms.data(), end - begin,
                        solo_closure > 0.0 ? closing.data() : nullptr);
    if (sd > 0.0) Rng::normal_quantiles(uniforms.data(), quantiles.data(), end - begin);
  }
  Books b;  // a local, so that the sums stay in registers
  for (size_t f = begin; f < end; ++f) {
    if (!fs.alive[f]) continue;
    const SectorSpec& sec = sc.sectors[fs.sector[f]];
    const bool institution = fs.kind[f] & k_institution;
    const size_t inst = institution ? 1 : 0;
    double wages = 0.0;
    for (int l = 0; l < k_education_levels; ++l) {
      const double w = m.wage(fs.sector[f], l);
      wages += fs.employees[f][l] * w;
      b.wages[inst][0] += (fs.employees[f][l] - fs.outside_staff[f][l]) * w;
      b.wages[inst][1] += fs.outside_staff[f][l] * w;
    }
    fs.wage_bill[f] = wages;
    const double revenue =
        fs.sales_exports[f] + fs.sales_households[f] + fs.sales_public[f] + fs.sales_firms[f];
    b.sold_households += fs.sales_households[f];
    b.away_households += fs.household_demand[f] - fs.sales_households[f];
    b.sold_exports += fs.sales_exports[f];
    b.away_exports += fs.export_demand[f] - fs.sales_exports[f];
    b.sold_public[inst] += fs.sales_public[f];
    b.away_public[inst] += fs.public_demand[f] - fs.sales_public[f];
    b.sold_orders += fs.sales_firms[f];
    b.away_orders += fs.order_demand[f] - fs.sales_firms[f];
    b.inputs[inst] += fs.inputs[f];
    fs.profit[f] = revenue - fs.inputs[f] - wages;
    fs.cash[f] += fs.profit[f];
    fs.negative_months[f] =
        fs.cash[f] < 0.0 ? static_cast<std::uint8_t>(std::min(255, fs.negative_months[f] + 1)) : 0;

    // Productivity: sector trend, spill-overs in clusters, digitalisation of SMEs.
    const bool sme = fs.is_sme(f);
    double growth = sec.productivity_growth;
    if (fs.cluster[f] != k_no_cluster) growth += e.spillover;
    if (sme) growth += e.digital_gain * fs.digital[f];
    fs.productivity[f] *= 1.0 + growth / 12.0;
    if (sme) fs.digital[f] += static_cast<float>(e.digital_adoption / 12.0 * (1.0 - fs.digital[f]));
    // Next month's market share: customers come and go for reasons the model does not
    // follow (products, reputation, competitors outside the region). Without these
    // shocks every firm would keep its share for ever, and only entrants' dilution would
    // ever make a firm fail.
    if (!institution && sd > 0.0)  // the draw as Rng::normal(0, sd) gives it
      fs.demand_shock[f] = static_cast<float>(e.demand_shock_persistence * fs.demand_shock[f] +
                                              (0.0 + sd * quantiles[f - begin]));

    if (institution || public_body(sec)) continue;
    if (fs.negative_months[f] >= bankrupt_after) {
      exits.push_back(fs.id[f]);
      continue;
    }
    // A firm of one job (its owner's, or one post) may close for reasons other than money:
    // the owner takes a job, moves or stops. Most Dutch firms are of one person, and most
    // of the firms that stop each year are such firms; without these closures only
    // bankruptcies and retirements would end firms, well below the 8-10 % a year of Dutch
    // firms that stop.
    if (solo_closure > 0.0 && closing[f - begin] < solo_closure && fs.positions(f) <= 1) {
      exits.push_back(fs.id[f]);
      continue;
    }
    // An SME owner reaching 67 hands over or closes; profitable, digital firms find
    // successors more easily.
    if (sme && now - fs.owner_birth[f] == 67 * 12) {
      Rng rng = m.rng(Stream::firms, fs.id[f], now);
      const double margin = revenue > 0.0 ? fs.profit[f] / revenue : 0.0;
      const double p = std::clamp(
          e.succession_rate * (1.0 + 2.0 * margin) * (0.75 + 0.5 * fs.digital[f]), 0.0, 1.0);
      if (rng.bernoulli(p))
        fs.owner_birth[f] = now - 12 * 40;  // a successor of about 40 takes over
      else
        exits.push_back(fs.id[f]);
    }
  }
  books = b;
}

void create_entrants(Model& m, std::int32_t now, std::vector<std::uint32_t>& entrants) {
  const Scenario& sc = m.scenario();
  const auto& e = sc.economy;
  const size_t ns = sc.sectors.size();
  auto add = [&](int sector, int zone, std::int32_t jobs, std::uint8_t kind, std::uint8_t cluster) {
    Rng rng = m.rng(Stream::firms, m.next_firm_id, now);
    const size_t f = new_firm(m, sector, zone, jobs, now,
                              sc.sectors[static_cast<size_t>(sector)].education, rng);
    auto& fs = m.firms;
    fs.kind[f] = kind;
    fs.cluster[f] = cluster;
    // A new firm starts small: productivity below the sector's, a few months of wages.
    fs.productivity[f] *= 0.85;
    fs.expected[f] =
        fs.productivity[f] * jobs / (1.0 - sc.sectors[static_cast<size_t>(sector)].input_share);
    fs.cash[f] = e.cash_months * sc.sectors[static_cast<size_t>(sector)].wage * jobs;
    // Its claim on export markets: the sector's export intensity at its planned size.
    fs.export_weight[f] = fs.expected[f] * m.export_intensity[static_cast<size_t>(sector)];
    entrants.push_back(fs.id[f]);
  };
  // Start-ups: by zone, in proportion to working-age residents; sector by the zone's mix.
  for (size_t z = 0; z < sc.zones.size(); ++z) {
    Municipality& mu = m.municipalities[z];
    mu.startup_carry += e.startup_rate / 1000.0 * static_cast<double>(mu.working_age);
    while (mu.startup_carry >= 1.0) {
      mu.startup_carry -= 1.0;
      Rng rng = m.rng(Stream::firms, 4'000'000 + z,
                      now * 64 + static_cast<std::int32_t>(mu.startups_month));
      std::vector<double> w(sc.zone_economy[z].sector_shares);
      for (size_t k = 0; k < ns; ++k)
        if (public_body(sc.sectors[k])) w[k] = 0.0;
      const int sector = rng.categorical(w, static_cast<int>(ns));
      add(sector, static_cast<int>(z), 1, 0, k_no_cluster);
      ++mu.startups_month;
    }
  }
  // Spin-offs: in proportion to each institution's research staff (wo level). The
  // institutions in order of their firms (made in institution order, and never closed).
  for (Institution& in : m.institutions) {
    const std::uint32_t f = m.firm_index(in.firm_id);
    if (f == k_none || !m.firms.alive[f]) continue;
    in.spinoff_carry += e.spinoff_rate / 1000.0 / 12.0 * m.firms.employees[f][idx(Education::wo)];
    while (in.spinoff_carry >= 1.0) {
      in.spinoff_carry -= 1.0;
      const int cl = m.firms.cluster[f];
      const int sector =
          cl != k_no_cluster ? m.cluster_sector(static_cast<size_t>(cl)) : m.firms.sector[f];
      add(sector, m.firms.zone[f], 2, k_spinoff, m.firms.cluster[f]);
    }
  }
  // Inward investment into each cluster site.
  for (size_t c = 0; c < sc.clusters.size(); ++c) {
    const ClusterSite& cs = sc.clusters[c];
    double& carry = m.cluster_inward_carry[c];
    carry += e.inward_investment / 12.0 * m.config().scale *
             (cs.jobs / std::max(1.0, m.cluster_jobs_total(cs.cluster)));
    while (carry >= 1.0) {
      carry -= 1.0;
      const auto size = static_cast<std::int32_t>(
          std::max(1.0, std::round(sc.sectors[static_cast<size_t>(cs.sector)].mean_size)));
      add(cs.sector, sc.zone_index(cs.zone), size, k_inward | k_cluster_site,
          m.cluster_index(cs.cluster));
    }
  }
}

}  // namespace firms
}  // namespace regio
