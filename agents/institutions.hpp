// Knowledge institutions: staff, students by level and field, yearly intake and graduation.
// Resident students are persons enrolled here; students living outside the region are
// tracked as cohorts by year of study (they are not simulated person by person).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "sim/types.hpp"

namespace regio {

class Model;
struct InstitutionSpec;

struct Institution {
  std::uint16_t zone = 0;
  Education level = Education::wo;
  bool teaches = false;
  int programme_years = 0;
  double yearly_intake = 0.0;                      ///< first-year places
  std::array<double, k_education_levels> staff{};  ///< employees by education level
  std::array<double, k_fields> field_shares{};
  std::vector<double> outside_cohorts;  ///< non-resident students by year of study
  // Counters of the current year (reset in January by the observer).
  std::int64_t resident_students = 0;  ///< persons enrolled (kept current by the commit)
  std::int64_t resident_intake_year = 0;
  double outside_intake_year = 0.0;
  std::int64_t resident_graduates_year = 0;
  double outside_graduates_year = 0.0;
  std::int64_t in_migrant_students_year = 0;
  double moving_in_carry = 0.0;  ///< fractional outside students due to move in
  double spinoff_carry = 0.0;    ///< fractional spin-offs due
  /// Id of the institution as an employer (its firm of kind k_institution, which never
  /// closes); k_none before the firms are built.
  std::uint32_t firm_id = k_none;

  double outside_students() const;
  double students() const { return static_cast<double>(resident_students) + outside_students(); }
};

namespace institutions {

Institution make(const InstitutionSpec& spec, int zone, double scale);
/// Chooses the regional institution for a resident starting a programme of `level`
/// (weighted by intake), or -1 for none at that level.
int choose(const Model& m, Education level, double u);
/// The September intake: fills each institution's remaining first-year places with
/// students from outside the region (some move in, the rest commute); ages the cohorts.
void admit_outside_students(Model& m, std::int32_t now);
/// July: outside cohorts in their final year graduate (completion rate applies).
void graduate_outside_students(Model& m);
double completion_rate(const Model& m, Education level);

}  // namespace institutions
}  // namespace regio
