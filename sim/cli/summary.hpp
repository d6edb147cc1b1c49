// The end-of-run table: main figures per municipality at the start and at the end.
#pragma once
#include <string>

#include "output/results.hpp"

namespace regio::cli {

/// Renders the summary of a run's results (works on results read back from a file too).
std::string summary_table(const output::Results& r);

}  // namespace regio::cli
