#include "output/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <set>
#include <string_view>
#include <unordered_map>

namespace regio::output::detail {
namespace {

// HDF5 allows at most 32 dimensions.
constexpr std::size_t kMaxRank = 32;

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

std::string check_strings(const Results& r) {
  const RunMetadata& m = r.meta;
  const std::pair<const char*, const std::string*> fields[] = {
      {"program_version", &m.program_version}, {"git_commit", &m.git_commit},
      {"scenario_name", &m.scenario_name},     {"scenario", &m.scenario_text},
      {"scenario_hash", &m.scenario_hash},     {"start_time", &m.start_time},
      {"first_month", &m.first_month},         {"last_month", &m.last_month},
  };
  for (const auto& [key, value] : fields) {
    if (has_nul(*value)) return fmt::format("metadata '{}' contains a NUL character", key);
  }
  return {};
}

// Problem with an axis name, or "".
std::string check_axis_name(const std::string& name) {
  if (name.empty()) return "an axis has an empty name";
  if (name == "." || name == "..") return fmt::format("axis name '{}' is not allowed", name);
  for (const char c : name) {
    if (c == '/' || c == ',' || c == '\0') {
      return fmt::format("axis name '{}' contains '/', ',' or a NUL character", name);
    }
  }
  return {};
}

// Problem with a dataset path, or "".
std::string check_path(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return fmt::format("dataset path '{}' must start with '/'", path);
  }
  if (has_nul(path)) return fmt::format("dataset path '{}' contains a NUL character", path);
  std::size_t begin = 1;
  bool first = true;
  while (true) {
    const std::size_t end = std::min(path.find('/', begin), path.size());
    const std::string_view part = std::string_view(path).substr(begin, end - begin);
    if (part.empty() || part == "." || part == "..") {
      return fmt::format("dataset path '{}' has an empty, '.' or '..' component", path);
    }
    if (first && part == kAxesGroup) {
      return fmt::format("dataset path '{}' uses /{}, which is reserved for the axes", path,
                         kAxesGroup);
    }
    first = false;
    if (end == path.size()) break;
    begin = end + 1;
  }
  return {};
}

// Problem with an integer dataset's values, or "".
std::string check_integral(const Dataset& d) {
  // [-2^63, 2^63) is exactly the range of doubles that convert to int64 without overflow.
  constexpr double lo = -9223372036854775808.0;
  constexpr double hi = 9223372036854775808.0;
  for (std::size_t i = 0; i < d.values.size(); ++i) {
    const double v = d.values[i];
    if (!std::isfinite(v) || std::trunc(v) != v || v < lo || v >= hi) {
      return fmt::format("integer dataset '{}' has value {} at index {}, not an int64", d.path, v,
                         i);
    }
  }
  return {};
}

}  // namespace

std::string validate(const Results& results) {
  if (auto problem = check_strings(results); !problem.empty()) return problem;

  std::unordered_map<std::string, std::size_t> axis_length;
  for (const Axis& axis : results.axes) {
    if (auto problem = check_axis_name(axis.name); !problem.empty()) return problem;
    if (!axis_length.emplace(axis.name, axis.labels.size()).second) {
      return fmt::format("axis '{}' is defined twice", axis.name);
    }
    if (has_nul(axis.description)) {
      return fmt::format("description of axis '{}' contains a NUL character", axis.name);
    }
    for (const std::string& label : axis.labels) {
      if (has_nul(label)) {
        return fmt::format("a label of axis '{}' contains a NUL character", axis.name);
      }
    }
  }

  std::set<std::string> paths;
  for (const Dataset& d : results.datasets) {
    if (auto problem = check_path(d.path); !problem.empty()) return problem;
    if (!paths.insert(d.path).second) return fmt::format("dataset '{}' appears twice", d.path);
    if (has_nul(d.units) || has_nul(d.description)) {
      return fmt::format("units or description of dataset '{}' contain a NUL character", d.path);
    }
    if (d.dims.size() > kMaxRank) {
      return fmt::format("dataset '{}' has {} dimensions, more than the {} HDF5 allows", d.path,
                         d.dims.size(), kMaxRank);
    }
    std::size_t expected = 1;
    bool overflow = false;
    bool empty_axis = false;
    std::string shape;
    for (const std::string& dim : d.dims) {
      const auto it = axis_length.find(dim);
      if (it == axis_length.end()) {
        return fmt::format("dataset '{}' uses axis '{}', which is not defined", d.path, dim);
      }
      const std::size_t n = it->second;
      empty_axis = empty_axis || n == 0;
      if (n != 0 && expected > std::numeric_limits<std::size_t>::max() / n) overflow = true;
      expected = overflow ? 0 : expected * n;
      shape += fmt::format("{}{}={}", shape.empty() ? "" : " x ", dim, n);
    }
    if (empty_axis) {
      overflow = false;
      expected = 0;
    }
    if (overflow || d.values.size() != expected) {
      return fmt::format("dataset '{}' has {} values but its axes ({}) need {}", d.path,
                         d.values.size(), shape.empty() ? "none: a scalar" : shape,
                         overflow ? std::string("too many") : std::to_string(expected));
    }
    if (d.integer) {
      if (auto problem = check_integral(d); !problem.empty()) return problem;
    }
  }

  // A path such as /a/b makes /a a group, so /a cannot also be a dataset.
  for (const std::string& path : paths) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      const std::string prefix = path.substr(0, slash);
      if (paths.count(prefix) != 0) {
        return fmt::format("'{}' is a dataset but also the group of dataset '{}'", prefix, path);
      }
    }
  }
  return {};
}

}  // namespace regio::output::detail
