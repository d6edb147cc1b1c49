#include "sim/accounts.hpp"

#include <fmt/format.h>

#include <cmath>

namespace regio {

double Accounts::net_lending(Account a) const {
  const int k = static_cast<int>(a);
  double in = 0.0, out = 0.0;
  for (int j = 0; j < k_account_sectors; ++j) in += paid[j][k], out += paid[k][j];
  return in - out;
}

std::string Accounts::check(double rel_tol) const {
  double total = 0.0;
  for (const auto& r : paid)
    for (double v : r) total += std::abs(v);
  const double tol = rel_tol * std::max(total, 1.0);
  std::string problems;
  for (int i = 0; i < k_account_sectors; ++i)
    for (int j = 0; j < k_account_sectors; ++j)
      if (std::abs(paid[i][j] - received[i][j]) > tol)
        problems += fmt::format("{} -> {}: paid {:.2f} but received {:.2f}; ", k_account_names[i],
                                k_account_names[j], paid[i][j], received[i][j]);
  double sum = 0.0;
  for (int k = 0; k < k_account_sectors; ++k) sum += net_lending(static_cast<Account>(k));
  if (std::abs(sum) > tol) problems += fmt::format("net lending sums to {:.6f}; ", sum);
  return problems;
}

}  // namespace regio
