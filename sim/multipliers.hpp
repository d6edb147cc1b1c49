// Input-output multipliers of the model's own economy: the Leontief view of the regional
// input coefficients, value-added and job ratios and household spending that the model
// holds at a moment (usually its first month). They are what extra export demand would
// do with unlimited labour and capacity; `regio multiplier` prints them next to the
// agent-based multipliers from paired runs, where shortages and hiring from other firms
// can hold the effects back.
#pragma once
#include <cstddef>
#include <vector>

namespace regio {

class Model;

struct IoMultipliers {
  /// Per euro of extra final demand for the sector: regional output and value added.
  double output = 0.0, value_added = 0.0;
  /// Jobs per EUR 1 million of extra final demand per year.
  double jobs_per_million = 0.0;
};

struct IoTable {
  std::size_t sectors = 0;
  std::vector<double> a;       ///< [supplier sector * sectors + customer sector]: regional
                               ///< purchases per euro of the customer sector's output
  std::vector<double> va;      ///< value added per euro of output
  std::vector<double> jobs;    ///< jobs per euro of monthly output
  std::vector<double> income;  ///< residents' wages after tax per euro of output
  std::vector<double> spend;   ///< residents' spending at regional firms of the sector per
                               ///< euro of their disposable income
};

/// The model's regional input-output table now, from its firms (knowledge institutions are
/// funded from outside and excluded), supply-chain links and household spending.
IoTable io_table(const Model& m);

/// Leontief multipliers of final demand for `sector`: type I (firms only, x = (I - A)^-1 e)
/// or type II (households closed: their wage income after tax and their regional spending
/// as one more sector).
IoMultipliers io_multipliers(const IoTable& t, int sector, bool households);

/// Solves (I - A) x = d for a square A of size n (row-major, A[i * n + j]) by Gaussian
/// elimination with partial pivoting; throws InvariantError if I - A is singular.
std::vector<double> leontief_solve(const std::vector<double>& a, std::size_t n,
                                   std::vector<double> d);

}  // namespace regio
