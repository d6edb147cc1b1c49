// Stock-flow consistency: every euro paid in a month is recorded as a flow from one
// institutional sector to another (households, firms, institutions, municipalities, the
// regional agency, the rest of the world). Each flow is measured twice, once from the
// payer's records and once from the payee's (e.g. firms' wage bills against the wages of
// the persons and outside workers they employ), so the check finds bookkeeping errors in
// the model, not just in the sum. Net lending of all sectors sums to zero.
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
