// Reading scenarios: YAML files with `extends:`, CSV tables, validation. Every problem is
// an InputError naming file, line, column and key.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario.hpp"

namespace regio {

/// The scenario a bare `regio run` uses.
inline constexpr const char* k_default_scenario = "key-region-leiden";

/// Loads and validates a scenario. `spec` is a path to a YAML file, or the name of a
/// scenario compiled into the binary ("key-region-leiden", "key-region-leiden/baseline").
/// `overrides` are (dotted.key, value) pairs applied last, as if written in a child file.
Scenario load_scenario(const std::string& spec,
                       const std::vector<std::pair<std::string, std::string>>& overrides = {});

/// Names of the scenarios compiled into the binary ("key-region-leiden/baseline", ...).
std::vector<std::string> builtin_scenarios();

/// Reads a scenario file or table: a filesystem path, or "builtin:<relative path>".
/// Throws InputError naming the path if it cannot be read.
std::string read_scenario_file(const std::string& path);

}  // namespace regio
