// HDF5 files of Regio runs: atomic writing, reading back, CSV export.
#pragma once
#include <filesystem>
#include <stdexcept>
#include <string>

#include "output/results.hpp"

namespace regio::output {

/// Raised when an output file cannot be written or read; the message names the path.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Fails early (before a run) if `path` cannot be written: missing or unwritable
/// directory, or a path that is a directory. Creates nothing.
void check_writable(const std::filesystem::path& path);

/// Writes `results` to `path` atomically: to a temporary file in the same directory,
/// renamed over `path` only when complete. On any failure the temporary is removed and
/// an existing file at `path` is left untouched.
void write_hdf5(const std::filesystem::path& path, const Results& results);

/// Reads a file written by write_hdf5 back into memory (metadata, axes, datasets).
Results read_hdf5(const std::filesystem::path& path);

/// Writes one CSV file per dataset into `dir` (created if missing), long format:
/// one column per axis (its labels) then `value`. Also writes metadata.csv.
/// Returns the number of dataset files written.
int export_csv(const Results& results, const std::filesystem::path& dir);

}  // namespace regio::output
