// Age schedules of event hazards, sampled as event times: instead of drawing a Bernoulli
// every month for every person, the month of the next event is drawn once by inverting
// the cumulative hazard. This is exact for the discrete monthly process and is what makes
// the demography of ~330,000 persons over 252 months cost milliseconds.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

namespace regio {

inline constexpr std::int32_t k_never = std::numeric_limits<std::int32_t>::max();

class AgeHazard {
 public:
  AgeHazard() = default;
  /// `monthly_hazard[m]` is the hazard in the month of age m (months since birth);
  /// beyond the table the hazard is `tail` (0 = the event never happens later).
  explicit AgeHazard(std::vector<double> monthly_hazard, double tail = 0.0);

  /// The age (in months) at which the next event happens for someone now aged
  /// `age_months`, given a uniform draw u in (0,1); k_never if it never happens.
  /// The event month is >= age_months.
  std::int32_t sample(std::int32_t age_months, double u) const;

  /// Probability that the event has not happened between age a0 and a1 (months).
  double survival(std::int32_t a0, std::int32_t a1) const;
  double hazard(std::int32_t age_months) const;
  std::int32_t size() const { return static_cast<std::int32_t>(hazard_.size()); }

 private:
  std::vector<double> hazard_;
  std::vector<double> cum_;  ///< cum_[m] = sum of hazard_[0..m)
  double tail_ = 0.0;
};

/// Gompertz mortality with its level solved so that life expectancy at birth equals
/// `life_expectancy` (years); hazard rises by `slope` per year of age; nobody passes 110.
AgeHazard gompertz_mortality(double life_expectancy, double slope);
/// Life expectancy at birth (years) implied by a mortality schedule.
double life_expectancy(const AgeHazard& mortality);

/// Births: a normal-shaped age schedule on [15, 50) scaled to `total_fertility`.
AgeHazard fertility_schedule(double total_fertility, double mean_age, double sd_age);

/// Leaving the parental home: logistic in age (median, scale in years) from 16, where
/// the leaving of 16- and 17-year-olds is moved to their 18th birthday.
AgeHazard leave_home_schedule(double median_age, double spread);

/// Looking for a partner: a bell-shaped yearly rate peaking at `peak_age`, from 18 to 70.
AgeHazard union_schedule(double peak_rate, double peak_age, double spread);

/// Piecewise-constant yearly probabilities by age (18-29, 30-64, 65+) as monthly hazards.
AgeHazard out_migration_schedule(double young, double mid, double old);

}  // namespace regio
