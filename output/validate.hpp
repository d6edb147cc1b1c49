// Internal to regio_output: the consistency rules a Results must meet before it is
// written to HDF5 or exported to CSV.
#pragma once
#include <string>

#include "output/results.hpp"

namespace regio::output::detail {

/// Name of the root group that holds the axes; no dataset may live under it.
inline constexpr const char* kAxesGroup = "axes";

/// Returns a description of the first problem found in `results`, or "" if it is valid:
/// axis names are unique, non-empty and usable as HDF5 names and in the comma-separated
/// `dims` attribute; dataset paths are absolute, unique, outside /axes, and no dataset is
/// also a group of another; every dims name is an axis and the values match the product
/// of the axis lengths; integer datasets hold only integral values that fit in int64;
/// no string contains a NUL character.
std::string validate(const Results& results);

}  // namespace regio::output::detail
