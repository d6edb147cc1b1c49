// Calibration targets of the default region (model.md section 7) against the model's own
// figures: each target carries its source, the model value and the tolerance it must meet.
#pragma once
#include <string>
#include <vector>

namespace regio {

class Model;

struct CalibrationRow {
  std::string name;
  std::string source;
  double target = 0.0;
  double model = 0.0;
  double tolerance = 0.0;  ///< absolute, in the row's unit
  std::string unit;
  bool ok() const { return model >= target - tolerance && model <= target + tolerance; }
};

/// The targets that apply to the model's initial state and its demographic schedules.
std::vector<CalibrationRow> calibrate(const Model& m);

}  // namespace regio
