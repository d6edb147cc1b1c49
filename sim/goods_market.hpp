// Goods demand of model.md section 3: exports per sector growing by scenario trends and
// shared among the sector's firms by capacity; household consumption from disposable
// income, spent in the home and job zones with leakage outside the region; public demand
// (paid from outside the region, growing with the zone's population); intermediate
// demand along the supply-chain graph. Demand computed at the end of a month is what
// firms face the next month; the buyers' record of it (m.purchase_plan) is half of the
// double-entry check of next month's money flows (sim/accounts.hpp).
#pragma once
#include <cstdint>
#include <vector>

namespace regio {

class Model;

namespace goods_market {

/// Disposable income of resident households per internal zone this month (EUR), and the
/// gross wages it contains; computed from the persons' state and the employment counters.
struct Incomes {
  std::vector<double> disposable, gross_wages, benefits, taxes;
  double out_commuter_wages = 0.0;
};
Incomes household_incomes(const Model& m);

/// At the start: public demand per zone and sector and export demand per sector are set
/// so that every firm's demand equals its output at full employment (exports are the
/// balancing item, as in regional input-output practice); then the first month's demand.
void calibrate(Model& m);

/// End of month: next month's export, household, public and order demand of every firm,
/// and the buyers' record of it in m.purchase_plan. With `defer_orders` the orders along
/// the supply chain (m.firms.order_demand and m.purchase_plan.orders_unplaced) are left
/// to a later call of flow_orders; everything else is set.
void compute_demand(Model& m, bool defer_orders = false);

/// The orders along the supply chain for next month (see compute_demand): reads the
/// firms' regional inputs, their alive flags and the chain, writes m.firms.order_demand
/// and adds to m.purchase_plan.orders_unplaced. Nothing else reads or writes these until
/// the next production phase, so the model runs it alongside the next month's first
/// phases (Model::run).
void flow_orders(Model& m);

}  // namespace goods_market
}  // namespace regio
