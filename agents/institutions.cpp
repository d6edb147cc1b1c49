#include "agents/institutions.hpp"

#include <cmath>
#include <numeric>

#include "sim/model.hpp"

namespace regio {

double Institution::outside_students() const {
  return std::accumulate(outside_cohorts.begin(), outside_cohorts.end(), 0.0);
}

namespace institutions {

Institution make(const InstitutionSpec& spec, int zone, double scale) {
  Institution in;
  in.zone = static_cast<std::uint16_t>(zone);
  in.level = spec.level;
  in.teaches = spec.teaches && spec.students > 0;
  in.programme_years = in.teaches ? static_cast<int>(std::lround(spec.programme_years)) : 0;
  in.yearly_intake = in.teaches ? spec.students * scale / spec.programme_years : 0.0;
  for (int e = 0; e < k_education_levels; ++e)
    in.staff[e] = spec.staff * scale * spec.staff_education[e];
  in.field_shares = spec.field_shares;
  in.outside_cohorts.assign(static_cast<size_t>(in.programme_years), 0.0);
  return in;
}

double completion_rate(const Model& m, Education level) {
  const auto& e = m.scenario().education;
  switch (level) {
    case Education::mbo:
      return e.completion_mbo;
    case Education::hbo:
      return e.completion_hbo;
    case Education::wo:
      return e.completion_wo;
    default:
      return 1.0;
  }
}

int choose(const Model& m, Education level, double u) {
  double total = 0.0;
  for (const auto& in : m.institutions)
    if (in.teaches && in.level == level) total += in.yearly_intake;
  if (total <= 0.0) return -1;
  double x = u * total;
  int last = -1;
  for (size_t k = 0; k < m.institutions.size(); ++k) {
    const auto& in = m.institutions[k];
    if (!in.teaches || in.level != level) continue;
    last = static_cast<int>(k);
    if (x < in.yearly_intake) return last;
    x -= in.yearly_intake;
  }
  return last;
}

void graduate_outside_students(Model& m) {
  for (auto& in : m.institutions) {
    if (!in.teaches || in.outside_cohorts.empty()) continue;
    double& final_year = in.outside_cohorts.back();
    in.outside_graduates_year += final_year * completion_rate(m, in.level);
    final_year = 0.0;  // graduates and drop-outs of the final year leave the institution
  }
}

void admit_outside_students(Model& m, std::int32_t /*now*/) {
  for (auto& in : m.institutions) {
    if (!in.teaches || in.outside_cohorts.empty()) continue;
    // Cohorts move up a year; the first-year places not taken by residents this
    // September go to students from outside the region.
    for (size_t y = in.outside_cohorts.size() - 1; y > 0; --y)
      in.outside_cohorts[y] = in.outside_cohorts[y - 1];
    const double outside =
        std::max(0.0, in.yearly_intake - static_cast<double>(in.resident_intake_year));
    in.outside_cohorts[0] = outside;
    in.outside_intake_year += outside;
  }
}

}  // namespace institutions
}  // namespace regio
