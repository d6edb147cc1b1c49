#include "sim/hazard.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace regio {

namespace {
constexpr int k_max_age_months = 110 * 12;
}

AgeHazard::AgeHazard(std::vector<double> monthly_hazard, double tail)
    : hazard_(std::move(monthly_hazard)), tail_(tail) {
  cum_.resize(hazard_.size() + 1, 0.0);
  for (size_t m = 0; m < hazard_.size(); ++m) cum_[m + 1] = cum_[m] + hazard_[m];
}

double AgeHazard::hazard(std::int32_t a) const {
  if (a < 0) return 0.0;
  return a < size() ? hazard_[static_cast<size_t>(a)] : tail_;
}

double AgeHazard::survival(std::int32_t a0, std::int32_t a1) const {
  auto cum_at = [&](std::int32_t a) {
    if (a <= 0) return 0.0;
    if (a <= size()) return cum_[static_cast<size_t>(a)];
    return cum_.back() + tail_ * (a - size());
  };
  return std::exp(-(cum_at(a1) - cum_at(a0)));
}

std::int32_t AgeHazard::sample(std::int32_t age, double u) const {
  age = std::max(age, 0);
  const double need = -std::log(u);  // cumulative hazard to accumulate from `age`
  const double start =
      age < size() ? cum_[static_cast<size_t>(age)] : cum_.back() + tail_ * (age - size());
  const double target = start + need;
  if (age < size() && target <= cum_.back()) {
    // First month m >= age with cum_[m+1] >= target: the lower bound of target in
    // cum_[age+1..], found without branches (the same index as std::lower_bound; its
    // steps over some 1,300 months are coin tosses a branch mispredicts half the time).
    const double* base = cum_.data() + age + 1;
    size_t n = cum_.size() - static_cast<size_t>(age) - 1;  // >= 1 here
    while (n > 1) {
      const size_t half = n / 2;
      base = base[half] < target ? base + half : base;
      n -= half;
    }
    base += *base < target ? 1 : 0;
    return static_cast<std::int32_t>(base - cum_.data()) - 1;
  }
  if (tail_ <= 0.0) return k_never;  // past the table (or beyond its total) with no tail
  const double extra = (target - std::max(start, cum_.back())) / tail_;
  const double base = std::max<double>(age, size());
  const double month = base + std::floor(extra);
  return month >= static_cast<double>(k_never) ? k_never : static_cast<std::int32_t>(month);
}

AgeHazard gompertz_mortality(double e0, double slope) {
  auto build = [&](double log_level) {
    std::vector<double> h(k_max_age_months);
    for (int m = 0; m < k_max_age_months; ++m)
      h[m] = std::exp(log_level + slope * (m + 0.5) / 12.0) / 12.0;
    h.back() = 1e9;  // nobody survives past 110
    return AgeHazard(std::move(h));
  };
  // Life expectancy falls as the level rises: bisection on the log level.
  double lo = -30.0, hi = 0.0;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (life_expectancy(build(mid)) > e0)
      lo = mid;
    else
      hi = mid;
  }
  return build(0.5 * (lo + hi));
}

double life_expectancy(const AgeHazard& mortality) {
  // Expected age at death when death falls in month m at age m + 0.5 on average.
  double alive = 1.0, expected = 0.0;
  for (int m = 0; m < k_max_age_months + 1; ++m) {
    const double die = alive * (1.0 - std::exp(-mortality.hazard(m)));
    expected += die * (m + 0.5) / 12.0;
    alive -= die;
    if (alive <= 0.0) break;
  }
  return expected;
}

AgeHazard fertility_schedule(double tfr, double mean_age, double sd_age) {
  std::vector<double> weight(50 * 12, 0.0);
  double total = 0.0;
  for (int m = 15 * 12; m < 50 * 12; ++m) {
    const double z = ((m + 0.5) / 12.0 - mean_age) / sd_age;
    weight[m] = std::exp(-0.5 * z * z);
    total += weight[m];
  }
  // Births are a repeatable event: the cumulative hazard over 15-50 is the expected
  // number of children, i.e. the total fertility rate.
  for (auto& w : weight) w = total > 0 ? w * tfr / total : 0.0;
  return AgeHazard(std::move(weight));
}

AgeHazard leave_home_schedule(double median_age, double spread) {
  std::vector<double> h(40 * 12, 0.0);
  for (int m = 16 * 12; m < 40 * 12; ++m) {
    // Logistic CDF F; hazard = f / (1 - F) = F / spread (per year).
    const double a = (m + 0.5) / 12.0;
    const double F = 1.0 / (1.0 + std::exp(-(a - median_age) / spread));
    h[m] = F / spread / 12.0;
  }
  // Minors do not leave to live on their own (the initial population keeps everybody
  // under 18 at home too): those the logistic would see leave at 16 or 17 leave in the
  // month they turn 18. The cumulative hazard from 16 on, and so every share still at
  // home from 18 years and one month and the median, are unchanged.
  for (int m = 16 * 12; m < 18 * 12; ++m) h[18 * 12] += std::exchange(h[m], 0.0);
  return AgeHazard(std::move(h), 0.3 / 12.0);
}

AgeHazard union_schedule(double peak_rate, double peak_age, double spread) {
  std::vector<double> h(70 * 12, 0.0);
  for (int m = 18 * 12; m < 70 * 12; ++m) {
    const double z = ((m + 0.5) / 12.0 - peak_age) / spread;
    h[m] = -std::log(1.0 - std::min(peak_rate, 0.999) * std::exp(-0.5 * z * z)) / 12.0;
  }
  return AgeHazard(std::move(h));
}

AgeHazard out_migration_schedule(double young, double mid, double old) {
  auto monthly = [](double yearly) { return -std::log(1.0 - std::min(yearly, 0.999)) / 12.0; };
  std::vector<double> h(65 * 12, 0.0);
  for (int m = 18 * 12; m < 65 * 12; ++m) h[m] = monthly(m < 30 * 12 ? young : mid);
  return AgeHazard(std::move(h), monthly(old));
}

}  // namespace regio
