#include "sim/goods_market.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <cmath>
#include <numeric>

#include "sim/model.hpp"

namespace regio::goods_market {

namespace {

/// A market firm: alive and not an institution (institutions are funded, not sold to).
bool in_market(const FirmStore& fs, size_t f) {
  return fs.alive[f] && !(fs.kind[f] & k_institution);
}

/// The market firms' capacities and market shares, their totals per (zone, sector) cell,
/// and the sums over all firms that the month's demand needs.
struct Groups {
  size_t zones = 0, sectors = 0;
  std::vector<double> cap;  ///< per firm index (0 for institutions and removed firms)
  /// Per firm index: exp(demand shock), the factor on the firm's market shares (1 at the
  /// start); and its weight when a zone-sector's demand is shared out, capacity x factor.
  std::vector<double> factor, share;
  std::vector<double> zone_sector_cap, zone_sector_share;
  /// Per sector: the market firms' export weights x factor (their claims on exports).
  std::vector<double> export_claims;
  /// The institutions' capacity (their public funding: they are funded for full staff,
  /// their open positions included).
  double institutions_capacity = 0.0;
  /// Regional inputs ordered by the alive firms and by the institutions.
  double orders_firms = 0.0, orders_institutions = 0.0;
};

/// The firms' groups (see Groups), in one parallel pass over the firms. The pass also
/// sets the demand of the firms outside the market, which are in no cell: none for
/// removed firms, full funding for institutions (public demand).
///
/// All sums, the cells' totals too, are taken per fixed block of firms and the blocks
/// summed in order: the same sums for any number of threads. (The cells' totals were a
/// serial pass in firm order: 2 % of a 2-thread run, with the other core idle.)
Groups group_firms(Model& m) {
  Groups g;
  g.zones = m.municipalities.size();
  g.sectors = m.scenario().sectors.size();
  const size_t cells = g.zones * g.sectors, ns = g.sectors;
  auto& fs = m.firms;
  const size_t n = fs.size();
  g.cap.resize(n);
  g.factor.resize(n);
  g.share.resize(n);
  // Per fixed block of firms, in parallel: each firm's own figures (an exp and a division
  // each: most of the cost) and the block's sums...
  constexpr size_t k_block = 4096;
  const size_t blocks = (n + k_block - 1) / k_block;
  struct Sums {
    double institutions = 0.0, orders[2] = {};
  };
  std::vector<Sums> sums(blocks);
  std::vector<double> claims(blocks * ns, 0.0);
  // Per block: each cell's capacity and share totals, side by side.
  std::vector<double> cell_sums(blocks * cells * 2, 0.0);
  tbb::parallel_for(size_t{0}, blocks, [&](size_t b) {
    double* claim = &claims[b * ns];
    double* cell_sum = &cell_sums[b * cells * 2];
    Sums& sum = sums[b];
    for (size_t f = b * k_block; f < std::min(n, (b + 1) * k_block); ++f) {
      if (!in_market(fs, f)) {
        g.cap[f] = g.factor[f] = g.share[f] = 0.0;
        fs.export_demand[f] = fs.household_demand[f] = 0.0;
        fs.public_demand[f] = fs.alive[f] ? firms::positions_capacity(m, f) : 0.0;
        sum.institutions += fs.public_demand[f];
        if (fs.alive[f]) sum.orders[1] += fs.regional_inputs[f];
        continue;
      }
      g.cap[f] = firms::capacity(m, f);
      g.factor[f] = std::exp(static_cast<double>(fs.demand_shock[f]));
      g.share[f] = g.cap[f] * g.factor[f];
      claim[fs.sector[f]] += fs.export_weight[f] * g.factor[f];
      sum.orders[0] += fs.regional_inputs[f];
      const size_t c = static_cast<size_t>(fs.zone[f]) * ns + fs.sector[f];
      cell_sum[2 * c] += g.cap[f];
      cell_sum[2 * c + 1] += g.share[f];
    }
  });
  g.export_claims.assign(ns, 0.0);
  g.zone_sector_cap.assign(cells, 0.0);
  g.zone_sector_share.assign(cells, 0.0);
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t k = 0; k < ns; ++k) g.export_claims[k] += claims[b * ns + k];
    for (size_t c = 0; c < cells; ++c) {
      g.zone_sector_cap[c] += cell_sums[(b * cells + c) * 2];
      g.zone_sector_share[c] += cell_sums[(b * cells + c) * 2 + 1];
    }
    g.institutions_capacity += sums[b].institutions;
    g.orders_firms += sums[b].orders[0];
    g.orders_institutions += sums[b].orders[1];
  }
  return g;
}

/// The demand of the market firms, one pass over the firms in index order (in parallel:
/// each writes its own records; a pass over the cells' members wrote scattered firms, and
/// two threads writing neighbouring firms kept taking each other's cache lines): each
/// cell's household and public spending shared over its firms in proportion to their
/// shares, and each firm's claim on its sector's exports at `per_claim` (EUR per unit of
/// claim; none when empty). Firms outside the market were set by group_firms.
void share_demand(Model& m, const Groups& g, const std::vector<double>& households,
                  const std::vector<double>& public_spending,
                  const std::vector<double>& per_claim) {
  auto& fs = m.firms;
  const size_t ns = g.sectors;
  tbb::parallel_for(tbb::blocked_range<size_t>(0, fs.size(), 1024), [&](const auto& range) {
    for (size_t f = range.begin(); f < range.end(); ++f) {
      if (!in_market(fs, f)) continue;
      const size_t cell = static_cast<size_t>(fs.zone[f]) * ns + fs.sector[f];
      // A cell whose firms have no capacity (no staff) gets no household or public demand.
      const double total = g.zone_sector_share[cell];
      const double per = per_claim.empty() ? 0.0 : per_claim[fs.sector[f]];
      fs.household_demand[f] = total > 0.0 ? households[cell] * g.share[f] / total : 0.0;
      fs.public_demand[f] = total > 0.0 ? public_spending[cell] * g.share[f] / total : 0.0;
      fs.export_demand[f] = per * (fs.export_weight[f] * g.factor[f]);
    }
  });
}

}  // namespace

Incomes household_incomes(const Model& m) {
  const auto& sc = m.scenario();
  const auto& e = sc.economy;
  const size_t nz = m.municipalities.size();
  Incomes in;
  in.disposable.assign(nz, 0.0);
  in.gross_wages.assign(nz, 0.0);
  in.benefits.assign(nz, 0.0);
  in.taxes.assign(nz, 0.0);
  for (size_t z = 0; z < nz; ++z) {
    const Municipality& mu = m.municipalities[z];
    double wages = 0.0;
    const size_t ns = sc.sectors.size();
    for (size_t inst = 0; inst < 2; ++inst)
      for (size_t k = 0; k < ns; ++k)
        for (int l = 0; l < k_education_levels; ++l)
          wages += static_cast<double>(mu.employed_by[(inst * ns + k) * k_education_levels + l]) *
                   m.wage(static_cast<int>(k), l);
    // Jobs outside the region pay the regional average wage of their level (estimate).
    double outside = 0.0;
    for (int l = 0; l < k_education_levels; ++l)
      outside += static_cast<double>(mu.out_commuters[l]) * m.mean_wage(l);
    in.out_commuter_wages += outside;
    const double gross = wages + outside;
    const double benefits =
        static_cast<double>(mu.status_count[idx(Status::unemployed)]) * e.unemployment_benefit +
        static_cast<double>(mu.status_count[idx(Status::retired)]) * e.pension_income +
        static_cast<double>(mu.status_count[idx(Status::student)]) * e.student_income +
        static_cast<double>(mu.status_count[idx(Status::inactive)]) * e.inactive_income;
    in.gross_wages[z] = gross;
    in.benefits[z] = benefits;
    in.taxes[z] = e.income_tax_rate * gross;
    in.disposable[z] = gross - in.taxes[z] + benefits;
  }
  return in;
}

namespace {

/// Household spending per zone-sector cell for next month, from this month's incomes.
/// `placed` is the spending placed at regional firms, `leakage` the rest of consumption:
/// the households' own record of what they will pay (sim/accounts.hpp).
std::vector<double> household_spending(const Model& m, const Groups& g, const Incomes& in,
                                       double& placed, double& leakage) {
  const auto& sc = m.scenario();
  const auto& e = sc.economy;
  const size_t nz = g.zones, ns = g.sectors;
  // Where residents spend: the home zone, and the zones where they work in proportion to
  // the wages earned there (jobs outside the region leak).
  std::vector<double> spend_in(nz, 0.0);
  placed = 0.0;
  leakage = 0.0;
  for (size_t z = 0; z < nz; ++z) {
    const double consumption = e.propensity_to_consume * in.disposable[z];
    const double regional = consumption * (1.0 - e.consumption_leakage);
    leakage += consumption - regional;
    const double at_work = regional * e.consumption_in_job_zone;
    spend_in[z] += regional - at_work;
    const Municipality& mu = m.municipalities[z];
    double total = 0.0;
    for (size_t d = 0; d < mu.jobs_by_zone.size(); ++d)
      total += static_cast<double>(mu.jobs_by_zone[d]);
    if (total <= 0.0) {
      spend_in[z] += at_work;
      continue;
    }
    for (size_t d = 0; d < mu.jobs_by_zone.size(); ++d) {
      const double part = at_work * static_cast<double>(mu.jobs_by_zone[d]) / total;
      if (d < nz)
        spend_in[d] += part;
      else
        leakage += part;
    }
  }
  std::vector<double> amount(nz * ns, 0.0);
  for (size_t d = 0; d < nz; ++d) {
    double sector_total = 0.0;
    for (size_t k = 0; k < ns; ++k) {
      const size_t cell = d * ns + k;
      amount[cell] = spend_in[d] * sc.sectors[k].household_share;
      sector_total += amount[cell];
      if (g.zone_sector_cap[cell] > 0.0)
        placed += amount[cell];
      else
        leakage += amount[cell];  // nothing to buy here: bought elsewhere
    }
    leakage += spend_in[d] - sector_total;  // housing and other spending not on regional firms
  }
  return amount;
}

/// Next month's demand of every firm from `households` (spending per zone-sector cell):
/// exports, household and public demand.
void set_demand(Model& m, const Groups& g, const std::vector<double>& households) {
  const auto& sc = m.scenario();
  const size_t nz = g.zones, ns = g.sectors;
  const double years = (m.now() + 1 - m.first_month()) / 12.0;
  // Each sector's export demand follows its trend and is shared by the firms' export
  // weights (their share at the start; entrants at the sector's export intensity). A
  // firm's claim is scaled by its demand shock factor (1 at the start).
  std::vector<double> per_claim(ns, 0.0);
  PurchasePlans& plan = m.purchase_plan;
  plan.exports = plan.public_firms = 0.0;
  for (size_t k = 0; k < ns; ++k) {
    double exports = m.export_base[k] * std::pow(1.0 + sc.sectors[k].export_growth, years);
    // Demand set now is next month's.
    if (static_cast<int>(k) == m.extra_exports_sector && m.now() + 1 >= m.extra_exports_from)
      exports += m.extra_exports;
    per_claim[k] = g.export_claims[k] > 0.0 ? exports / g.export_claims[k] : 0.0;
    if (g.export_claims[k] > 0.0) plan.exports += exports;
  }
  // Institutions are funded for their full staff (set by group_firms).
  plan.public_institutions = g.institutions_capacity;
  // Public demand for firms grows with the zone's population.
  std::vector<double> amount(nz * ns, 0.0);
  for (size_t z = 0; z < nz; ++z) {
    const double growth = m.population_base[z] > 0
                              ? static_cast<double>(m.municipalities[z].persons) /
                                    static_cast<double>(m.population_base[z])
                              : 1.0;
    for (size_t k = 0; k < ns; ++k) {
      const size_t cell = z * ns + k;
      amount[cell] = m.public_base[cell] * growth;
      if (g.zone_sector_cap[cell] > 0.0) plan.public_firms += amount[cell];
    }
  }
  share_demand(m, g, households, amount, per_claim);
}

/// The customers' record of next month's intermediate orders in m.purchase_plan (what
/// they place regionally, summed by group_firms); the orders along the supply chain into
/// m.firms.order_demand, and what finds no regional supplier, follow (flow_orders) now
/// or, with `defer`, later.
void place_orders(Model& m, const Groups& g, bool defer = false) {
  PurchasePlans& plan = m.purchase_plan;
  plan.orders_firms = g.orders_firms;
  plan.orders_institutions = g.orders_institutions;
  plan.orders_unplaced = 0.0;
  if (!defer) flow_orders(m);
}

}  // namespace

namespace {

/// Passes of the start's balancing (see balance_orders). In the default region the first
/// removes three quarters of the order-driven excess and each later one about half of
/// what is left, less towards the end; after these less than 1 % of it is left.
constexpr int k_balance_passes = 8;

/// The start's demand, one pass of balancing: a market firm whose domestic demand at
/// full-employment output exceeds its capacity because of the orders it receives is
/// taken to be that much more productive than drawn, so that it can serve them. Returns
/// whether any firm changed.
///
/// Why: suppliers are drawn in proportion to size, so each firm's expected orders are in
/// proportion to its capacity, but the draws concentrate orders on some suppliers, most
/// of them small: about 2,200 firms of the default region (13,000 jobs) would start with
/// orders beyond what they can produce, 1 % of all demand (exports, which close the other
/// firms' gaps, cannot be negative). The firms would grow into that demand in the first
/// year and push unemployment down, an artefact of the draws. Most of them need less than
/// 10 % more (firms' productivity is drawn with a spread of 15 %); in the default region
/// about 130 small firms (700 jobs) end up more than 1.8 times as productive as their
/// sector's average, 45 of them more than 4 times. The firm's expected
/// demand moves with it, so it plans for its full staff. The raise is the demand ratio,
/// or, where the firm's own share of household and public demand is at most half its
/// capacity, the orders over what that share leaves (households and public buyers share
/// their demand by capacity, so it grows with the raise). Where a zone and sector's
/// household and public demand alone exceeds the capacity there (about 0.1 % of all
/// demand), no raise helps: that excess stays.
bool balance_orders(Model& m, const Groups& g, const std::vector<double>& households,
                    const std::vector<double>& positions) {
  auto& fs = m.firms;
  const size_t ns = g.sectors;
  std::atomic<bool> changed = false;
  tbb::parallel_for(tbb::blocked_range<size_t>(0, fs.size(), 4096), [&](const auto& range) {
    for (size_t f = range.begin(); f < range.end(); ++f) {
      if (!in_market(fs, f) || positions[f] <= 0.0) continue;
      const size_t cell = fs.zone[f] * ns + fs.sector[f];
      const double pub = g.zone_sector_cap[cell] > 0.0
                             ? m.public_base[cell] * g.cap[f] / g.zone_sector_cap[cell]
                             : 0.0;
      const double domestic = households[f] + fs.order_demand[f] + pub;
      const double own = positions[f] - households[f] - pub;  // what the orders can have
      if (domestic <= positions[f] * (1.0 + 1e-9) || own <= 0.0) continue;
      const double raise =
          own >= 0.5 * positions[f] ? fs.order_demand[f] / own : domestic / positions[f];
      fs.productivity[f] *= raise;
      fs.expected[f] *= raise;
      fs.demand[f] *= raise;
      changed.store(true, std::memory_order_relaxed);
    }
  });
  return changed.load();
}

}  // namespace

void calibrate(Model& m) {
  auto& fs = m.firms;
  const auto& sc = m.scenario();
  const size_t nz = m.municipalities.size(), ns = sc.sectors.size();
  m.population_base.resize(nz);
  for (size_t z = 0; z < nz; ++z) m.population_base[z] = m.municipalities[z].persons;
  Groups g;
  std::vector<double> spending;  // households', per zone-sector cell
  std::vector<double> positions(fs.size(), 0.0);
  const std::vector<double> no_public(nz * ns, 0.0);
  for (int pass = 0;; ++pass) {
    // Household and intermediate demand as they follow from full-employment output.
    // Institutions are outside the market but produce and buy their inputs too: they are
    // funded for their full staff (see group_firms), so they order from the start.
    // Leaving their orders out here would make the exports that close the gap too large,
    // and every supplier would start with excess demand.
    for (size_t f = 0; f < fs.size(); ++f) {
      const double full = fs.alive[f] ? firms::capacity(m, f) : 0.0;
      fs.output[f] = full;
      const SectorSpec& sec = sc.sectors[fs.sector[f]];
      fs.inputs[f] = sec.input_share * full;
      // As in firms::produce_chunk: institutions buy their inputs like firms do.
      fs.regional_inputs[f] = sec.regional_sourcing * fs.inputs[f];
    }
    g = group_firms(m);
    // The market firms' output with all their positions filled, open ones included: what
    // they plan for (labour_market::open_initial_positions raised their expectations to it).
    for (size_t f = 0; f < fs.size(); ++f)
      positions[f] = in_market(fs, f) ? firms::positions_capacity(m, f) : 0.0;
    // Public demand: the sector's public share of the output of all positions in each zone.
    m.public_base.assign(nz * ns, 0.0);
    for (size_t f = 0; f < fs.size(); ++f)
      if (in_market(fs, f)) m.public_base[fs.zone[f] * ns + fs.sector[f]] += positions[f];
    for (size_t cell = 0; cell < nz * ns; ++cell)
      m.public_base[cell] *= sc.sectors[cell % ns].public_share;
    spending = household_spending(m, g, household_incomes(m), m.purchase_plan.households_regional,
                                  m.purchase_plan.households_elsewhere);
    share_demand(m, g, spending, no_public, {});
    place_orders(m, g);
    if (pass == k_balance_passes || !balance_orders(m, g, fs.household_demand, positions)) break;
  }
  const std::vector<double>& households = fs.household_demand;
  const std::vector<double>& orders = fs.order_demand;
  // Exports close the gap between the output of each firm's positions and its domestic
  // demand (where domestic demand exceeds that the firm starts with excess demand). With
  // posts open, demand exceeds what the staff make: the region forgoes sales for want of
  // workers, as it does with vacancies.
  m.export_base.assign(ns, 0.0);
  m.export_intensity.assign(ns, 0.0);
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!fs.alive[f] || (fs.kind[f] & k_institution)) continue;
    const size_t cell = fs.zone[f] * ns + fs.sector[f];
    const double pub = g.zone_sector_cap[cell] > 0.0
                           ? m.public_base[cell] * g.cap[f] / g.zone_sector_cap[cell]
                           : 0.0;
    fs.export_weight[f] = std::max(0.0, positions[f] - households[f] - orders[f] - pub);
    m.export_base[fs.sector[f]] += fs.export_weight[f];
  }
  std::vector<double> sector_cap(ns, 0.0);
  for (size_t f = 0; f < fs.size(); ++f)
    if (in_market(fs, f)) sector_cap[fs.sector[f]] += positions[f];
  for (size_t k = 0; k < ns; ++k)
    m.export_intensity[k] = sector_cap[k] > 0.0 ? m.export_base[k] / sector_cap[k] : 0.0;
  // Type I multipliers keep household spending at this level.
  m.household_base.assign(nz * ns, 0.0);
  for (size_t f = 0; f < fs.size(); ++f)
    if (in_market(fs, f)) m.household_base[fs.zone[f] * ns + fs.sector[f]] += households[f];
  // The first month's demand: grouped again for the export claims, which are set now.
  g = group_firms(m);
  set_demand(m, g, spending);
}

void flow_orders(Model& m) {
  // Written in place: the flow reads the customers' regional inputs, never the orders.
  m.supply_chain.distribute_orders(m, m.firms.order_demand, m.purchase_plan.orders_unplaced);
}

void compute_demand(Model& m, bool defer_orders) {
  const Groups g = group_firms(m);
  PurchasePlans& plan = m.purchase_plan;
  std::vector<double> households;
  if (m.household_feedback) {
    households = household_spending(m, g, household_incomes(m), plan.households_regional,
                                    plan.households_elsewhere);
  } else {
    // Type I multipliers: household spending does not respond to income; each zone-sector
    // keeps the household demand it had at the start, shared by capacity (where no firm
    // is left, it is spent outside the region).
    households = m.household_base;
    plan.households_regional = plan.households_elsewhere = 0.0;
    for (size_t cell = 0; cell < g.zone_sector_cap.size(); ++cell)
      (g.zone_sector_cap[cell] > 0.0 ? plan.households_regional : plan.households_elsewhere) +=
          m.household_base[cell];
  }
  place_orders(m, g, defer_orders);
  set_demand(m, g, households);
}

}  // namespace regio::goods_market
