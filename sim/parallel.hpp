// Parallel loops over index ranges, shared by the model's passes.
#pragma once
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>

namespace regio {

/// Runs fn(i) for every i in [begin, end) in parallel, in pieces of at least `grain`
/// indices. fn(i) must write only what no other index writes (its own row, its own
/// output slot): then the result does not depend on the number of threads.
template <class F>
void parallel_each(std::size_t begin, std::size_t end, std::size_t grain, const F& fn) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end, std::max<std::size_t>(1, grain)),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t i = r.begin(); i < r.end(); ++i) fn(i);
                    });
}

/// The same over [0, n).
template <class F>
void parallel_each(std::size_t n, std::size_t grain, const F& fn) {
  parallel_each(0, n, grain, fn);
}

}  // namespace regio
