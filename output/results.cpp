#include "output/results.hpp"

#include <algorithm>

namespace regio::output {

const Axis* Results::axis(const std::string& name) const {
  const auto it =
      std::find_if(axes.begin(), axes.end(), [&](const Axis& a) { return a.name == name; });
  return it == axes.end() ? nullptr : &*it;
}

const Dataset* Results::dataset(const std::string& path) const {
  const auto it = std::find_if(datasets.begin(), datasets.end(),
                               [&](const Dataset& d) { return d.path == path; });
  return it == datasets.end() ? nullptr : &*it;
}

}  // namespace regio::output
