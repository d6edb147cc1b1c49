// The in-memory form of one run's results: metadata plus named, labelled datasets.
// The model fills a Results; output/ writes it to HDF5, reads it back, exports CSV.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace regio::output {

/// A coordinate axis shared by datasets (written once as an HDF5 dimension scale).
struct Axis {
  std::string name;                 ///< e.g. "year", "month", "zone", "age_group"
  std::vector<std::string> labels;  ///< one label per position ("2026", "2026-01", "Leiden")
  std::string description;
};

/// One dataset: a dense row-major array over named axes.
struct Dataset {
  std::string path;               ///< HDF5 path, e.g. "/demography/population"
  std::vector<std::string> dims;  ///< axis names, outermost first; each must exist in Results::axes
  std::string units;              ///< "persons", "persons/month", "dwellings", "1" (dimensionless)
  std::string description;
  bool integer = false;        ///< true: stored as int64; false: float64
  std::vector<double> values;  ///< size = product of the axes' lengths (integers stored exactly)
};

/// Root attributes describing how the file was made.
struct RunMetadata {
  std::string program_version;
  std::string git_commit;
  std::uint64_t seed = 0;
  std::uint32_t replication = 0;
  std::string scenario_name;
  std::string scenario_text;  ///< the full, resolved scenario (after extends)
  std::string scenario_hash;  ///< hex digest of scenario_text
  std::string start_time;     ///< ISO 8601 UTC wall-clock time the run started
  double wall_seconds = 0.0;
  std::uint32_t threads = 0;
  double scale = 1.0;
  std::string first_month;  ///< "2026-01"
  std::string last_month;   ///< "2046-12"
};

struct Results {
  RunMetadata meta;
  std::vector<Axis> axes;
  std::vector<Dataset> datasets;

  const Axis* axis(const std::string& name) const;
  const Dataset* dataset(const std::string& path) const;
};

}  // namespace regio::output
