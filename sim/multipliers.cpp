#include "sim/multipliers.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "sim/goods_market.hpp"
#include "sim/model.hpp"

namespace regio {

std::vector<double> leontief_solve(const std::vector<double>& a, size_t n, std::vector<double> d) {
  std::vector<double> m(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) m[i * n + j] = (i == j ? 1.0 : 0.0) - a[i * n + j];
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::abs(m[r * n + col]) > std::abs(m[pivot * n + col])) pivot = r;
    if (!(std::abs(m[pivot * n + col]) > 1e-12))
      throw InvariantError("input-output table: I - A is singular");
    if (pivot != col) {
      for (size_t j = 0; j < n; ++j) std::swap(m[col * n + j], m[pivot * n + j]);
      std::swap(d[col], d[pivot]);
    }
    for (size_t r = col + 1; r < n; ++r) {
      const double f = m[r * n + col] / m[col * n + col];
      if (f == 0.0) continue;
      for (size_t j = col; j < n; ++j) m[r * n + j] -= f * m[col * n + j];
      d[r] -= f * d[col];
    }
  }
  std::vector<double> x(n);
  for (size_t i = n; i-- > 0;) {
    double s = d[i];
    for (size_t j = i + 1; j < n; ++j) s -= m[i * n + j] * x[j];
    x[i] = s / m[i * n + i];
  }
  return x;
}

IoTable io_table(const Model& m) {
  const auto& sc = m.scenario();
  const auto& fs = m.firms;
  const size_t ns = sc.sectors.size();
  IoTable t;
  t.sectors = ns;
  t.a.assign(ns * ns, 0.0);
  t.va.assign(ns, 0.0);
  t.jobs.assign(ns, 0.0);
  t.income.assign(ns, 0.0);
  t.spend.assign(ns, 0.0);
  std::vector<double> output(ns, 0.0), jobs(ns, 0.0), wages(ns, 0.0), households(ns, 0.0);
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!fs.alive[f] || (fs.kind[f] & k_institution)) continue;
    const size_t k = fs.sector[f];
    output[k] += fs.output[f];
    jobs[k] += fs.headcount(f);
    for (int l = 0; l < k_education_levels; ++l)
      wages[k] += (fs.employees[f][l] - fs.outside_staff[f][l]) * m.wage(static_cast<int>(k), l);
    households[k] += fs.household_demand[f];
  }
  // Regional purchases by (supplier sector, customer sector): each link carries its share
  // of the customer's regional inputs, as the monthly order flow does.
  for (const auto& link : m.supply_chain.links()) {
    const std::uint32_t s = m.firm_index(link.supplier), c = m.firm_index(link.customer);
    if (s == k_none || c == k_none || !fs.alive[s] || !fs.alive[c]) continue;
    if (fs.kind[c] & k_institution) continue;
    t.a[fs.sector[s] * ns + fs.sector[c]] += fs.regional_inputs[c] * link.share;
  }
  const goods_market::Incomes in = goods_market::household_incomes(m);
  double disposable = 0.0;
  for (double d : in.disposable) disposable += d;
  const double tax = sc.economy.income_tax_rate;
  for (size_t j = 0; j < ns; ++j) {
    for (size_t k = 0; k < ns; ++k)
      t.a[k * ns + j] = output[j] > 0.0 ? t.a[k * ns + j] / output[j] : 0.0;
    t.va[j] = 1.0 - sc.sectors[j].input_share;
    t.jobs[j] = output[j] > 0.0 ? jobs[j] / output[j] : 0.0;
    t.income[j] = output[j] > 0.0 ? wages[j] * (1.0 - tax) / output[j] : 0.0;
    t.spend[j] = disposable > 0.0 ? households[j] / disposable : 0.0;
  }
  return t;
}

IoMultipliers io_multipliers(const IoTable& t, int sector, bool households) {
  const size_t ns = t.sectors, n = households ? ns + 1 : ns;
  std::vector<double> a(n * n, 0.0), d(n, 0.0);
  for (size_t i = 0; i < ns; ++i)
    for (size_t j = 0; j < ns; ++j) a[i * n + j] = t.a[i * ns + j];
  if (households)
    for (size_t k = 0; k < ns; ++k) {
      a[k * n + ns] = t.spend[k];   // spending per euro of disposable income
      a[ns * n + k] = t.income[k];  // disposable wage income per euro of output
    }
  d[static_cast<size_t>(sector)] = 1.0;
  const std::vector<double> x = leontief_solve(a, n, std::move(d));
  IoMultipliers r;
  for (size_t k = 0; k < ns; ++k) {
    r.output += x[k];
    r.value_added += t.va[k] * x[k];
    // x is output per euro of demand; EUR 1m a year is 1e6 / 12 a month.
    r.jobs_per_million += t.jobs[k] * x[k] * 1e6 / 12.0;
  }
  return r;
}

}  // namespace regio
