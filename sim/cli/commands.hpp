// The `regio` subcommands. Each returns the process exit code:
// 0 ok, 2 bad input (scenario, arguments, output path), 1 internal error.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace regio::cli {

struct RunOptions {
  std::string scenario;  ///< path or built-in name; empty = the default region
  std::string output;    ///< empty = "<scenario name>.h5"
  std::optional<std::uint64_t> seed;
  std::uint32_t replication = 0;
  int threads = 0;  ///< 0 = all cores
  int until = 0;
  double scale = 1.0;
  std::vector<std::pair<std::string, std::string>> overrides;  ///< --set key=value
  bool quiet = false;
  bool check = false;
};

int run(const RunOptions& opt);
int validate(const std::string& scenario);
int info(const std::string& file);
int export_csv(const std::string& file, const std::string& dir);

struct BenchOptions {
  std::string scenario;
  int runs = 5;
  int threads = 0;
  double scale = 1.0;
  int until = 0;
};
int bench(const BenchOptions& opt);
struct MultiplierOptions {
  std::string scenario;
  std::string sector;
  double amount = 100e6;  ///< extra export demand, EUR per year (large enough to show)
  int years = 5;
  double scale = 1.0;
  int threads = 0;
  int replications = 3;
  std::optional<std::uint64_t> seed;
};
/// Paired runs with the same seed, with and without extra export demand in one sector,
/// over several replications; reports regional output, value added and employment
/// multipliers, type I (household spending fixed) and type II (household spending
/// following income), next to the input-output multipliers of the model's own economy.
int multiplier(const MultiplierOptions& opt);

/// Prints every calibration target with its source, the model's value and the
/// difference; returns 3 when a target misses its tolerance.
int calibrate(const std::string& scenario, double scale);

}  // namespace regio::cli
