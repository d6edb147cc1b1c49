// Small helpers to draw from discrete distributions with a given uniform number.
#pragma once
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace regio {

/// std::llround(x) (halves away from zero), inline: the library call is not inlined
/// without SSE4.1, and the firms' monthly plans round every firm's desired staff (the call
/// took 1 % of a run). Exact for every finite x within the range of long long: the
/// truncation t and x are less than 1 apart, so x - t is exact (Sterbenz), and from 2^52
/// on x is an integer.
inline long long round_half_away(double x) {
  const auto t = static_cast<long long>(x);  // toward zero
  const double frac = x - static_cast<double>(t);
  return t + (frac >= 0.5 ? 1 : 0) - (frac <= -0.5 ? 1 : 0);
}

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

/// Integer counts summing exactly to `total`, proportional to `weights[0..n)`
/// (largest remainder; ties by index, so the result is deterministic).
template <class W>
void apportion(const W& weights, long long total, long long* out, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += weights[i];
  // A remainder and its index. A plain struct: the small array below is left
  // uninitialised (an array of std::pair was zeroed on every call, half its cost).
  struct Remainder {
    double part;
    int index;
  };
  // Small cases (job levels, sexes) stay on the stack: this runs for every firm with posts
  // to open, every month.
  constexpr int k_small = 16;
  Remainder small[k_small];
  std::vector<Remainder> large;
  Remainder* rem = small;
  if (n > k_small) {
    large.resize(static_cast<size_t>(n));
    rem = large.data();
  }
  long long given = 0;
  for (int i = 0; i < n; ++i) {
    const double exact = sum > 0 ? static_cast<double>(total) * weights[i] / sum : 0.0;
    out[i] = static_cast<long long>(std::floor(exact));
    given += out[i];
    rem[i] = {exact - std::floor(exact), i};
  }
  // Largest remainders first, ties in index order: std::stable_sort's order. A few items
  // are sorted in place by insertion (stable_sort takes a heap buffer).
  if (n <= k_small) {
    for (int i = 1; i < n; ++i) {
      const Remainder x = rem[i];
      int j = i;
      for (; j > 0 && rem[j - 1].part < x.part; --j) rem[j] = rem[j - 1];
      rem[j] = x;
    }
  } else {
    std::stable_sort(rem, rem + n,
                     [](const Remainder& a, const Remainder& b) { return a.part > b.part; });
  }
  for (long long k = 0; k < total - given && n > 0; ++k) ++out[rem[k % n].index];
}

}  // namespace regio
