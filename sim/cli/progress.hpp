// A progress bar on a terminal (stderr); silent when stderr is not a terminal.
#pragma once
#include <string>

namespace regio::cli {

class Progress {
 public:
  explicit Progress(std::string label, bool enabled = true);
  ~Progress();
  void update(int done, int total, const std::string& note = {});
  void finish();

 private:
  std::string label_;
  bool active_ = false;
  int last_percent_ = -1;
};

}  // namespace regio::cli
