// Stock-flow consistency: every euro paid in a month is recorded as a flow from one
// institutional sector to another (households, firms, institutions, municipalities, the
// regional agency, the rest of the world). The flows between agents are measured twice,
// once from the payer's records and once from the payee's, so the check finds bookkeeping
// errors in the model, not just in the sum:
// - wages: the employers' wage bills against the jobs counted on the workers' side;
// - purchases at regional firms (households, exports, public buyers, intermediate orders):
//   what the buyers set out to spend a month earlier (PurchasePlans, from incomes, budgets
//   and input needs) minus what the sellers turned away, against the sellers' sales.
// Flows with the rest of the world that only one side records (taxes, benefits, imports,
// spending outside the region) are booked once. Net lending of all sectors sums to zero.
#pragma once
#include <array>
#include <string>
#include <vector>

namespace regio {

inline constexpr int k_account_sectors = 6;
enum class Account : int {
  households = 0,
  firms,
  institutions,
  municipalities,
  agency,
  rest_of_world
};
inline constexpr std::array<const char*, k_account_sectors> k_account_names{
    "households", "firms", "institutions", "municipalities", "agency", "rest_of_world"};

/// What buyers set out to spend at regional firms and institutions next month, recorded on
/// the buyers' side by the goods market (from zone budgets, sector export totals, public
/// budgets and the customers' input orders), EUR per month.
struct PurchasePlans {
  double households_regional = 0.0;   ///< residents' spending placed at regional firms
  double households_elsewhere = 0.0;  ///< residents' spending outside the region
  double exports = 0.0;               ///< export demand of all sectors
  double public_firms = 0.0;          ///< public purchases at firms
  double public_institutions = 0.0;   ///< funding of the knowledge institutions
  double orders_firms = 0.0;          ///< regional input orders placed by firms
  double orders_institutions = 0.0;   ///< ... and by institutions
  double orders_unplaced = 0.0;       ///< of those, without a regional supplier (imports)
};

struct Accounts {
  /// flows[payer][payee] this month, EUR, as recorded by the payer.
  std::array<std::array<double, k_account_sectors>, k_account_sectors> paid{};
  /// The same flows as recorded by the payee.
  std::array<std::array<double, k_account_sectors>, k_account_sectors> received{};

  void clear() {
    for (auto& r : paid) r.fill(0.0);
    for (auto& r : received) r.fill(0.0);
  }
  void pay(Account from, Account to, double amount) {
    paid[static_cast<int>(from)][static_cast<int>(to)] += amount;
  }
  void receive(Account from, Account to, double amount) {
    received[static_cast<int>(from)][static_cast<int>(to)] += amount;
  }
  /// Receipts minus payments of a sector (payer-side records).
  double net_lending(Account a) const;
  /// Empty when consistent; otherwise a description of every mismatch larger than
  /// rel_tol (relative to the month's total flows).
  std::string check(double rel_tol) const;
};

}  // namespace regio
