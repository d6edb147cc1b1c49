// The initial synthetic population: persons in households per zone, matching the
// zone table's inhabitants, men, women and (times occupancy) dwellings exactly, with the
// estimated age, education, school and labour structure. See README "Initial population".
#pragma once

namespace regio {
class Model;
/// Creates every person and household of the starting month.
void build_population(Model& m);
}  // namespace regio
