#include "sim/calendar.hpp"

#include <fmt/format.h>

#include <cctype>

namespace regio {

std::string Month::str() const {
  return fmt::format("{:04d}-{:02d}", year(), month());
}

bool Month::parse(const std::string& s, Month& out) {
  if (s.size() != 7 || s[4] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6})
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  int y = std::stoi(s.substr(0, 4));
  int m = std::stoi(s.substr(5, 2));
  if (m < 1 || m > 12) return false;
  out = Month::of(y, m);
  return true;
}

}  // namespace regio
