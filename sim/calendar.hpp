// Calendar months: the model's clock counts months since January of year 0.
#pragma once
#include <string>

namespace regio {

struct Month {
  int index = 0;  ///< year * 12 + (month - 1)
  static constexpr Month of(int year, int month) { return Month{year * 12 + month - 1}; }
  constexpr int year() const { return index / 12; }
  constexpr int month() const { return index % 12 + 1; }  ///< 1..12
  friend constexpr bool operator==(Month a, Month b) = default;
  friend constexpr auto operator<=>(Month a, Month b) = default;
  std::string str() const;  ///< "2026-01"
  /// Parses "YYYY-MM"; returns false on a malformed string.
  static bool parse(const std::string& s, Month& out);
};

}  // namespace regio
