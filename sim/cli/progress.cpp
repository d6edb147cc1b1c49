#include "sim/cli/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace regio::cli {

Progress::Progress(std::string label, bool enabled)
    : label_(std::move(label)), active_(enabled && isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  finish();
}

void Progress::update(int done, int total, const std::string& note) {
  if (!active_ || total <= 0) return;
  const int percent = done * 100 / total;
  if (percent == last_percent_) return;  // redraw only when the figure changes
  last_percent_ = percent;
  constexpr int width = 40;
  const int filled = done * width / total;
  fmt::print(stderr, "\r{} [{:=<{}}{:<{}}] {:3d}% {}", label_, "", filled, "", width - filled,
             percent, note);
  std::fflush(stderr);
}

void Progress::finish() {
  if (!active_) return;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  active_ = false;
}

}  // namespace regio::cli
