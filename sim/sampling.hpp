// Small helpers to draw from discrete distributions with a given uniform number.
#pragma once

namespace regio {

/// Index drawn from `shares` (summing to about 1) with the uniform draw u in (0,1);
/// the last index absorbs rounding.
template <class A>
int pick(const A& shares, double u) {
  const int n = static_cast<int>(shares.size());
  for (int k = 0; k < n; ++k) {
    if (u < shares[k]) return k;
    u -= shares[k];
  }
  return n - 1;
}

}  // namespace regio
