#include "sim/errors.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace regio {

namespace {
std::string format_location(const std::string& file, int line, int column, const std::string& key,
                            const std::string& message) {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}", line);
  if (line > 0 && column > 0) where += fmt::format(":{}", column);
  if (key.empty()) return fmt::format("{}: {}", where, message);
  return fmt::format("{}: key '{}': {}", where, key, message);
}

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

InputError::InputError(std::string file, int line, int column, std::string key,
                       const std::string& message)
    : std::runtime_error(format_location(file, line, column, key, message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)) {}

std::string nearest_name(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  int best_d = 1 << 30;
  for (const auto& n : names) {
    int d = edit_distance(word, n);
    // A prefix or substring match is a strong hint even when the distance is large.
    if (n.find(word) != std::string::npos || word.find(n) != std::string::npos) d = std::min(d, 2);
    if (d < best_d) best_d = d, best = n;
  }
  const int limit = std::max<int>(2, static_cast<int>(word.size()) / 3);
  return best_d <= limit ? best : std::string{};
}

}  // namespace regio
