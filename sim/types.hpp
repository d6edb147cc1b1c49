// Enumerations shared by the whole model (education, fields, statuses) and their names.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace regio {

inline constexpr int k_education_levels = 4;
enum class Education : std::uint8_t { basic = 0, mbo = 1, hbo = 2, wo = 3 };
inline constexpr std::array<std::string_view, k_education_levels> k_education_names{"basic", "mbo",
                                                                                    "hbo", "wo"};

inline constexpr int k_fields = 9;
enum class Field : std::uint8_t {
  life_sciences = 0,
  engineering_space,
  ict_data,
  care,
  education,
  business_services,
  trade_hospitality,
  production_logistics,
  other
};
inline constexpr std::array<std::string_view, k_fields> k_field_names{
    "life_sciences", "engineering_space", "ict_data",          "care",
    "education",     "business_services", "trade_hospitality", "production_logistics",
    "other"};

inline constexpr int k_statuses = 6;
enum class Status : std::uint8_t { child = 0, student, employed, unemployed, inactive, retired };
inline constexpr std::array<std::string_view, k_statuses> k_status_names{
    "child", "student", "employed", "unemployed", "inactive", "retired"};

/// A resident's change of status (`from`, `to`: Status values), for the counts of
/// residents by zone and status that the model keeps current.
struct StatusMove {
  std::uint16_t zone;
  std::uint8_t from, to;
};

enum class Sex : std::uint8_t { male = 0, female = 1 };

/// Five-year age bands 0-4 .. 85-89 and 90+ (used by the age-structure tables).
inline constexpr int k_age_bands = 19;
/// Output age groups (coarser, for series): 0-14, 15-24, 25-44, 45-64, 65-79, 80+.
inline constexpr int k_age_groups = 6;
inline constexpr std::array<std::string_view, k_age_groups> k_age_group_names{
    "0-14", "15-24", "25-44", "45-64", "65-79", "80+"};
inline constexpr int age_group_of(int age_years) {
  return age_years < 15   ? 0
         : age_years < 25 ? 1
         : age_years < 45 ? 2
         : age_years < 65 ? 3
         : age_years < 80 ? 4
                          : 5;
}

inline constexpr std::uint32_t k_none = 0xFFFFFFFFu;  ///< "no id" for ids and indices

template <class E>
constexpr int idx(E e) {
  return static_cast<int>(e);
}

}  // namespace regio
