// Unit tests of the engine's building blocks: the counter-based RNG, age-hazard schedules
// and their sampling, calendar months, SHA-256, the CSV reader and the YAML tree merge.
//
// Statistical checks use fixed keys, so every run sees the same numbers and a failure is
// reproducible; each tolerance is derived in a comment (standard errors, chi-square
// quantiles or the Dvoretzky-Kiefer-Wolfowitz bound), chosen so that a correct
// implementation fails with probability below about 1e-4 for the fixed keys used.
#include <Random123/philox.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "sim/calendar.hpp"
#include "sim/csv.hpp"
#include "sim/doc_tree.hpp"
#include "sim/errors.hpp"
#include "sim/hazard.hpp"
#include "sim/rng.hpp"
#include "sim/sampling.hpp"
#include "sim/sha256.hpp"

using Catch::Matchers::Contains;
using regio::AgeHazard;
using regio::k_never;
using regio::Rng;
using regio::Stream;

namespace {

constexpr std::uint64_t k_seed = 20260101;

std::vector<double> draws(Rng rng, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = rng.uniform();
  return v;
}

/// Survival over [a0, a1) months computed from the schedule's monthly hazards.
double survival_by_sum(const AgeHazard& h, int a0, int a1) {
  double cum = 0.0;
  for (int a = a0; a < a1; ++a) cum += h.hazard(a);
  return std::exp(-cum);
}

/// Half-width of a Dvoretzky-Kiefer-Wolfowitz band for n draws: the empirical CDF is
/// within it everywhere with probability >= 1 - alpha.
double dkw_band(double n, double alpha) {
  return std::sqrt(std::log(2.0 / alpha) / (2.0 * n));
}

// Philox4x32-10 run backwards: the counter whose output block is `out` under `key`. Used
// to build an Rng that is certain to produce a chosen 53-bit pattern (the round function is
// a bijection; the multipliers are odd, so they are invertible mod 2^32).
std::uint32_t inverse_mod_2_32(std::uint32_t a) {
  std::uint32_t x = a;  // Newton iteration: each step doubles the number of correct bits
  for (int i = 0; i < 5; ++i) x *= 2u - a * x;
  return x;
}

r123::Philox4x32::ctr_type philox_inverse(r123::Philox4x32::ctr_type out,
                                          r123::Philox4x32::key_type key) {
  constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
  constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
  const std::uint32_t inv0 = inverse_mod_2_32(m0), inv1 = inverse_mod_2_32(m1);
  for (int round = 9; round >= 0; --round) {
    const std::uint32_t k0 = key[0] + static_cast<std::uint32_t>(round) * w0;
    const std::uint32_t k1 = key[1] + static_cast<std::uint32_t>(round) * w1;
    const std::uint32_t x0 = out[3] * inv0, x2 = out[1] * inv1;
    const auto hi0 = static_cast<std::uint32_t>((std::uint64_t{m0} * x0) >> 32);
    const auto hi1 = static_cast<std::uint32_t>((std::uint64_t{m1} * x2) >> 32);
    out = {{x0, out[0] ^ hi1 ^ k0, x2, out[2] ^ hi0 ^ k1}};
  }
  return out;
}

/// An Rng (as the model builds them) whose next uniform() uses the raw 64 bits
/// (hi << 32 | lo) of a Philox block; the draws before it are consumed.
Rng rng_producing(std::uint32_t hi, std::uint32_t lo) {
  const Stream stream = Stream::mortality;
  r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(k_seed), 0u}};
  const auto ctr = philox_inverse({{hi, lo, 0u, 0u}}, key);
  // Counter layout of Rng: {agent lo, agent hi, stream << 24 ^ step, replication << 16 + block}.
  const std::uint64_t agent = ctr[0] | (std::uint64_t{ctr[1]} << 32);
  const std::uint32_t step = ctr[2] ^ (static_cast<std::uint32_t>(stream) << 24);
  Rng rng(k_seed, ctr[3] >> 16, stream, agent, step);
  for (std::uint32_t b = 0; b < (ctr[3] & 0xFFFFu); ++b) rng.uniform(), rng.uniform();
  return rng;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Rng

TEST_CASE("apportion: largest remainders, ties in index order, the total exactly", "[sampling]") {
  // The reference: floors, then one more to the largest remainders by a stable sort.
  auto reference = [](const std::vector<double>& w, long long total) {
    double sum = 0.0;
    for (double x : w) sum += x;
    std::vector<long long> out(w.size());
    std::vector<std::pair<double, int>> rem(w.size());
    long long given = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      const double exact = static_cast<double>(total) * w[i] / sum;
      out[i] = static_cast<long long>(std::floor(exact));
      given += out[i];
      rem[i] = {exact - std::floor(exact), static_cast<int>(i)};
    }
    std::stable_sort(rem.begin(), rem.end(), [](auto a, auto b) { return a.first > b.first; });
    for (long long k = 0; k < total - given; ++k) ++out[static_cast<size_t>(rem[k].second)];
    return out;
  };
  regio::Rng rng(7, 0, regio::Stream::firms, 1, 0);
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = 1 + static_cast<int>(rng.below(20));  // both sides of the in-place sort
    std::vector<double> w(static_cast<size_t>(n));
    // Weights from few distinct values, so that remainders tie often.
    for (double& x : w) x = 0.05 * (1 + rng.below(4));
    const long long total = rng.below(50);
    std::vector<long long> out(w.size());
    regio::apportion(w, total, out.data(), n);
    CHECK(out == reference(w, total));
    long long sum = 0;
    for (long long x : out) sum += x;
    CHECK(sum == total);
  }
}

TEST_CASE("Rng: the same key gives the same stream", "[rng]") {
  const auto a = draws(Rng(k_seed, 3, Stream::fertility, 12345, 24312), 1000);
  const auto b = draws(Rng(k_seed, 3, Stream::fertility, 12345, 24312), 1000);
  CHECK(a == b);
  // Interleaving other generators does not disturb a stream (no shared state).
  Rng x(k_seed, 3, Stream::fertility, 12345, 24312), y(k_seed, 0, Stream::labour, 1, 1);
  std::vector<double> c;
  for (int i = 0; i < 1000; ++i) {
    c.push_back(x.uniform());
    y.uniform();
  }
  CHECK(c == a);
}

TEST_CASE("Rng: changing any part of the key changes the numbers", "[rng]") {
  const Rng base(k_seed, 1, Stream::mortality, 777, 24312);
  const auto ref = draws(base, 8);
  auto differs = [&](Rng other) {
    const auto v = draws(other, 8);
    int same = 0;
    for (size_t i = 0; i < v.size(); ++i) same += v[i] == ref[i];
    return same == 0;  // 53-bit values: an accidental equal draw has probability ~1e-15
  };
  CHECK(differs(Rng(k_seed + 1, 1, Stream::mortality, 777, 24312)));
  CHECK(differs(Rng(k_seed | (std::uint64_t{1} << 40), 1, Stream::mortality, 777, 24312)));
  CHECK(differs(Rng(k_seed, 2, Stream::mortality, 777, 24312)));
  CHECK(differs(Rng(k_seed, 1, Stream::fertility, 777, 24312)));
  CHECK(differs(Rng(k_seed, 1, Stream::mortality, 778, 24312)));
  CHECK(differs(Rng(k_seed, 1, Stream::mortality, 777 + (std::uint64_t{1} << 32), 24312)));
  CHECK(differs(Rng(k_seed, 1, Stream::mortality, 777, 24313)));

  // No two of many nearby keys (every stream x 50 agents x 24 months x 4 replications)
  // share their first draw.
  std::set<double> first;
  size_t n = 0;
  for (std::uint32_t s = 1; s <= 11; ++s)
    for (std::uint64_t agent = 0; agent < 50; ++agent)
      for (std::uint32_t step = 24312; step < 24336; ++step)
        for (std::uint32_t rep = 0; rep < 4; ++rep, ++n)
          first.insert(Rng(k_seed, rep, static_cast<Stream>(s), agent, step).uniform());
  CHECK(first.size() == n);
}

TEST_CASE("Rng: uniform() lies strictly between 0 and 1 with mean 1/2 and variance 1/12",
          "[rng][stats]") {
  // 10^6 draws the way the model uses them: 250,000 agents with 4 draws each.
  constexpr int n = 1'000'000;
  double sum = 0.0, sum2 = 0.0, lo = 1.0, hi = 0.0;
  for (int a = 0; a < n / 4; ++a) {
    Rng rng(k_seed, 0, Stream::population_init, static_cast<std::uint64_t>(a), 24312);
    for (int k = 0; k < 4; ++k) {
      const double u = rng.uniform();
      sum += u, sum2 += u * u;
      lo = std::min(lo, u), hi = std::max(hi, u);
    }
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  CHECK(lo > 0.0);
  CHECK(hi < 1.0);
  // SE of the mean: sqrt(1/12 / n) = 2.9e-4; 4 SE = 1.2e-3.
  CHECK(mean == Approx(0.5).margin(4.0 * std::sqrt(1.0 / 12.0 / n)));
  // SE of the sample variance: sqrt((mu4 - sigma^4) / n) with mu4 = 1/80, sigma^4 = 1/144:
  // 7.5e-5; 4 SE = 3.0e-4.
  CHECK(var == Approx(1.0 / 12.0).margin(4.0 * std::sqrt((1.0 / 80.0 - 1.0 / 144.0) / n)));
  // One long stream (many blocks of one key) is uniform too: lag-1 correlation ~ 0
  // (SE 1/sqrt(n) = 2.2e-3 for 2e5 pairs; 4 SE).
  Rng one(k_seed, 0, Stream::labour, 42, 24312);
  constexpr int m = 200'000;
  double prev = one.uniform(), cov = 0.0;
  for (int i = 0; i < m; ++i) {
    const double u = one.uniform();
    cov += (u - 0.5) * (prev - 0.5);
    prev = u;
  }
  CHECK(cov / m / (1.0 / 12.0) == Approx(0.0).margin(4.0 / std::sqrt(m)));
}

TEST_CASE("Rng: below(n) stays in range and is uniform (chi-square)", "[rng][stats]") {
  for (const std::uint32_t n : {1u, 2u, 7u, 10u, 100u}) {
    INFO("n = " << n);
    constexpr int draws_per_cell = 2000;
    std::vector<double> count(n, 0.0);
    bool in_range = true;
    const int total = static_cast<int>(n) * draws_per_cell;
    for (int i = 0; i < total; ++i) {
      Rng rng(k_seed, 0, Stream::household_init, static_cast<std::uint64_t>(i), 3);
      const std::uint32_t k = rng.below(n);
      if (k >= n) {
        in_range = false;
        break;
      }
      count[k] += 1.0;
    }
    REQUIRE(in_range);
    if (n == 1) continue;
    double chi2 = 0.0;
    for (double c : count) chi2 += (c - draws_per_cell) * (c - draws_per_cell) / draws_per_cell;
    // Upper 1e-4 quantiles of chi-square with n-1 degrees of freedom (n = 2, 7, 10, 100).
    const double critical = n == 2 ? 15.14 : n == 7 ? 27.86 : n == 10 ? 33.72 : 160.06;
    CHECK(chi2 < critical);
  }
  // The top of the range: below(2^32 - 1) never returns n.
  Rng rng(k_seed, 0, Stream::household_init, 99, 0);
  int out_of_range = 0;
  for (int i = 0; i < 100000; ++i) out_of_range += rng.below(0xFFFFFFFFu) >= 0xFFFFFFFFu;
  CHECK(out_of_range == 0);
}

TEST_CASE("Rng: exponential and normal and categorical draws have the right moments",
          "[rng][stats]") {
  constexpr int n = 400'000;
  Rng rng(k_seed, 0, Stream::labour, 7, 24312);
  double se = 0.0, sn = 0.0, sn2 = 0.0;
  const double rate = 0.25;
  for (int i = 0; i < n; ++i) {
    const double e = rng.exponential(rate);
    REQUIRE(e >= 0.0);
    se += e;
    const double z = rng.normal(3.0, 2.0);
    sn += z, sn2 += z * z;
  }
  // Exponential: mean 1/rate = 4 and SD 4, so SE = 4/sqrt(n) = 0.0063; 4 SE.
  CHECK(se / n == Approx(1.0 / rate).margin(4.0 * (1.0 / rate) / std::sqrt(n)));
  // Normal(3, 2): SE of the mean 2/sqrt(n); SE of the variance sqrt(2) * 4 / sqrt(n).
  const double mean = sn / n, var = sn2 / n - mean * mean;
  CHECK(mean == Approx(3.0).margin(4.0 * 2.0 / std::sqrt(n)));
  CHECK(var == Approx(4.0).margin(4.0 * std::sqrt(2.0) * 4.0 / std::sqrt(n)));

  const std::array<double, 4> w{0.5, 0.0, 1.5, 2.0};  // probabilities 1/8, 0, 3/8, 1/2
  std::array<double, 4> c{};
  for (int i = 0; i < n; ++i) c[static_cast<size_t>(rng.categorical(w, 4))] += 1.0;
  CHECK(c[1] == 0.0);
  for (size_t k : {0u, 2u, 3u}) {
    const double p = w[k] / 4.0;
    CHECK(c[k] / n == Approx(p).margin(4.0 * std::sqrt(p * (1 - p) / n)));
  }
}

TEST_CASE("Rng: the normal quantile matches the standard normal's to 1e-9", "[rng]") {
  // Reference quantiles of the standard normal (to 16 digits).
  const std::vector<std::pair<double, double>> ref = {
      {0.5, 0.0},
      {0.8413447460685429, 1.0},  // Phi(1)
      {0.975, 1.959963984540054},
      {0.025, -1.959963984540054},
      {0.99, 2.326347874040841},
      {0.001, -3.090232306167813},
      {1e-9, -5.997807015007686},
      {0.3, -0.5244005127080407},
  };
  for (const auto& [p, z] : ref) {
    INFO("p = " << p);
    CHECK(Rng::normal_quantile(p) == Approx(z).epsilon(2e-9).margin(1e-12));
  }
  // Continuous across the switches between the central and the tail formulas.
  for (double p : {0.02425, 1.0 - 0.02425})
    CHECK(Rng::normal_quantile(p - 1e-12) == Approx(Rng::normal_quantile(p + 1e-12)).margin(1e-8));
}

TEST_CASE("Rng: normal_quantiles gives normal_quantile's values, bit for bit", "[rng]") {
  // Uniform draws, the two switches between the formulas and the doubles next to them,
  // and the extremes of uniform().
  std::vector<double> u;
  Rng rng(k_seed, 0, Stream::firm_demand, 3, 24312);
  for (int i = 0; i < 100'000; ++i) u.push_back(rng.uniform());
  for (double p : {0.02425, 1.0 - 0.02425, 0.5, 0x1.0p-53, 1.0 - 0x1.0p-53}) {
    u.push_back(p);
    u.push_back(std::nextafter(p, 0.0));
    u.push_back(std::nextafter(p, 1.0));
  }
  std::vector<double> x(u.size());
  Rng::normal_quantiles(u.data(), x.data(), u.size());
  int differ = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    const double y = Rng::normal_quantile(u[i]);
    differ += std::memcmp(&x[i], &y, sizeof y) != 0;
  }
  CHECK(differ == 0);
}

TEST_CASE("Rng: first_uniforms gives each generator's first (and second) uniform(), bit for bit",
          "[rng]") {
  // Lengths around the batch of 32 generators, agents with high words, seeds with both
  // words set, replications and steps that fill their bits.
  const std::uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (const size_t n : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{1000}}) {
    for (const std::uint32_t replication : {0u, 7u, Rng::k_max_replication}) {
      std::vector<std::uint64_t> agents(n);
      for (size_t i = 0; i < n; ++i)
        agents[i] = i % 3 == 0 ? i : (std::uint64_t{0xABCDEF} << 32 | (i * 2654435761u));
      const std::uint32_t step = 0x00FFFFFFu - static_cast<std::uint32_t>(n);
      std::vector<double> got(n, -1.0), alone(n, -1.0), second(n, -1.0);
      Rng::first_uniforms(seed, replication, Stream::firm_demand, agents.data(), step, got.data(),
                          n, second.data());
      Rng::first_uniforms(seed, replication, Stream::firm_demand, agents.data(), step, alone.data(),
                          n);
      int differ = 0, differ_second = 0, differ_alone = 0;
      for (size_t i = 0; i < n; ++i) {
        Rng rng(seed, replication, Stream::firm_demand, agents[i], step);
        const double want = rng.uniform(), want_second = rng.uniform();
        differ += std::memcmp(&got[i], &want, sizeof want) != 0;
        differ_alone += std::memcmp(&alone[i], &want, sizeof want) != 0;
        differ_second += std::memcmp(&second[i], &want_second, sizeof want) != 0;
      }
      CHECK(differ == 0);
      CHECK(differ_alone == 0);
      CHECK(differ_second == 0);
    }
  }
  std::uint64_t agent = 1;
  double out = 0.0;
  CHECK_THROWS_AS(
      Rng::first_uniforms(1, Rng::k_max_replication + 1, Stream::firms, &agent, 0, &out, 1),
      std::invalid_argument);
}

TEST_CASE("Rng: uniform() never returns 1 (the largest 53-bit draw)", "[rng]") {
  // uniform() maps 53 random bits b to (b + 0.5) * 2^-53. For b >= 2^52 the sum b + 0.5 is
  // not representable and rounds to even: b = 2^53 - 1 gives exactly 2^53, i.e. u = 1.0,
  // outside the documented open interval (then bernoulli(1.0) is false, and
  // AgeHazard::sample gets -log(u) = 0). This builds the Rng whose next block has all bits
  // set, by running Philox backwards.
  Rng top = rng_producing(0xFFFFFFFFu, 0xFFFFFFFFu);
  const double u = top.uniform();
  CHECK(u < 1.0);
  Rng again = rng_producing(0xFFFFFFFFu, 0xFFFFFFFFu);
  CHECK(again.bernoulli(1.0));
}

TEST_CASE("Rng: the smallest and a middle raw block map to the expected draws", "[rng]") {
  // Also checks the Philox inversion used above against Random123's forward function.
  const r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(k_seed), 0u}};
  const r123::Philox4x32::ctr_type want = {{0x01234567u, 0x89ABCDEFu, 0u, 0xFFFFFFFFu}};
  CHECK(r123::Philox4x32()(philox_inverse(want, key), key) == want);
  // All bits clear: the smallest draw, still strictly above 0 (and tiny).
  const double bottom = rng_producing(0u, 0u).uniform();
  CHECK(bottom > 0.0);
  CHECK(bottom < 1e-15);
  // Only the top bit set: one half (up to the half-step offset of the mapping).
  CHECK(rng_producing(0x80000000u, 0u).uniform() == Approx(0.5).margin(1e-15));
}

TEST_CASE("Rng: replications are separate streams, and limited to 16 bits", "[rng]") {
  // The replication number occupies the top 16 bits of the last counter word: numbers
  // beyond 65535 would wrap onto other replications, so they are refused.
  auto a = draws(Rng(k_seed, 0, Stream::mortality, 5, 24312), 4);
  auto b = draws(Rng(k_seed, 1, Stream::mortality, 5, 24312), 4);
  CHECK(a != b);
  auto c = draws(Rng(k_seed, 7, Stream::mortality, 5, 24312), 4);
  auto d = draws(Rng(k_seed, Rng::k_max_replication, Stream::mortality, 5, 24312), 4);
  CHECK(c != d);
  CHECK_THROWS_AS(Rng(k_seed, Rng::k_max_replication + 1, Stream::mortality, 5, 24312),
                  std::invalid_argument);
}

// ---------------------------------------------------------------------------------------
// Age hazards

TEST_CASE("round_half_away equals std::llround", "[sampling]") {
  // Halves, the doubles next to them, the largest double below 1/2, and integers from
  // 2^52 on (where every double is an integer), each with both signs.
  std::vector<double> xs{0.0,
                         0.5,
                         1.5,
                         2.5,
                         3.5,
                         1e6 + 0.5,
                         0.49999999999999994,
                         std::nextafter(0.5, 1.0),
                         std::nextafter(1.5, 0.0),
                         std::nextafter(2.5, 3.0),
                         4503599627370495.5,
                         4503599627370496.0,
                         4503599627370497.0,
                         9007199254740993.0,
                         1e18};
  regio::Rng rng(7, 0, regio::Stream::firms, 1, 0);
  for (int i = 0; i < 100000; ++i) xs.push_back((rng.uniform() - 0.5) * std::pow(10.0, i % 12));
  for (int i = 0; i < 1000; ++i) xs.push_back(std::round(rng.uniform() * 1e4) / 2.0);
  for (const double x : xs)
    for (const double v : {x, -x}) {
      INFO(v);
      CHECK(regio::round_half_away(v) == std::llround(v));
    }
}

TEST_CASE("AgeHazard: survival and hazard agree with the monthly table", "[hazard]") {
  const AgeHazard h({0.0, 0.1, 0.2, 0.0, 0.3}, 0.05);
  CHECK(h.size() == 5);
  CHECK(h.hazard(-1) == 0.0);
  CHECK(h.hazard(2) == 0.2);
  CHECK(h.hazard(5) == 0.05);
  CHECK(h.hazard(500) == 0.05);
  CHECK(h.survival(0, 0) == 1.0);
  CHECK(h.survival(0, 5) == Approx(std::exp(-0.6)).epsilon(1e-14));
  CHECK(h.survival(1, 3) == Approx(std::exp(-0.3)).epsilon(1e-14));
  CHECK(h.survival(3, 9) == Approx(std::exp(-0.3 - 4 * 0.05)).epsilon(1e-14));
  CHECK(h.survival(6, 10) == Approx(std::exp(-4 * 0.05)).epsilon(1e-14));
  const auto mort = regio::gompertz_mortality(82.0, 0.105);
  for (int a0 : {0, 100, 480, 960})
    for (int a1 : {a0 + 1, a0 + 12, a0 + 250})
      CHECK(mort.survival(a0, a1) == Approx(survival_by_sum(mort, a0, a1)).epsilon(1e-10));
}

TEST_CASE("AgeHazard::sample: the event month is never before the current age", "[hazard]") {
  const std::vector<AgeHazard> schedules = {
      regio::gompertz_mortality(82.0, 0.105), regio::fertility_schedule(1.45, 31.8, 4.8),
      regio::leave_home_schedule(23.5, 2.0), regio::union_schedule(0.09, 29, 7),
      regio::out_migration_schedule(0.085, 0.026, 0.008)};
  for (size_t s = 0; s < schedules.size(); ++s) {
    Rng rng(k_seed, 0, Stream::mortality, s, 0);
    int bad = 0;
    for (int i = 0; i < 200'000; ++i) {
      const auto age = static_cast<std::int32_t>(rng.below(100 * 12));
      const std::int32_t at = schedules[s].sample(age, rng.uniform());
      if (at < age) ++bad;
    }
    INFO("schedule " << s);
    CHECK(bad == 0);
  }
  // Negative ages are treated as age 0.
  const AgeHazard early({1e9});
  CHECK(early.sample(-5, 0.5) == 0);
}

TEST_CASE("AgeHazard::sample: empirical survival matches survival()", "[hazard][stats]") {
  // For each starting age a0, n draws of the event month; the share still without the
  // event at a1 must match survival(a0, a1) for every a1 at once. The DKW inequality
  // bounds the largest deviation of the empirical distribution by
  // sqrt(ln(2/alpha) / 2n) with probability 1 - alpha; alpha = 1e-6.
  constexpr int n = 100'000;
  const double band = dkw_band(n, 1e-6);  // 0.0085
  struct Case {
    const char* name;
    AgeHazard h;
    std::vector<int> ages;
  };
  const std::vector<Case> cases = {
      {"mortality", regio::gompertz_mortality(82.0, 0.105), {0, 30 * 12, 65 * 12, 90 * 12}},
      {"leave home (with a tail)", regio::leave_home_schedule(23.5, 2.0), {0, 20 * 12, 45 * 12}},
      {"out-migration (with a tail)",
       regio::out_migration_schedule(0.085, 0.026, 0.008),
       {18 * 12, 60 * 12}},
      {"step table", AgeHazard({0.0, 0.0, 0.5, 0.0, 0.0, 1.0, 0.0, 0.2}, 0.0), {0, 3}},
  };
  for (const auto& c : cases) {
    for (int a0 : c.ages) {
      INFO(c.name << ", from age " << a0 << " months");
      std::vector<std::int32_t> at(n);
      Rng rng(k_seed, 0, Stream::mortality, static_cast<std::uint64_t>(a0), 1);
      for (auto& x : at) x = c.h.sample(a0, rng.uniform());
      std::sort(at.begin(), at.end());
      double worst = 0.0;
      for (int a1 = a0; a1 <= a0 + 1400; a1 += 1) {
        // Share with the event at month >= a1 (not yet happened before a1).
        const auto first_ge = std::lower_bound(at.begin(), at.end(), a1);
        const double empirical = static_cast<double>(at.end() - first_ge) / n;
        worst = std::max(worst, std::abs(empirical - c.h.survival(a0, a1)));
      }
      CHECK(worst < band);
    }
  }
}

TEST_CASE("AgeHazard::sample: a zero hazard never fires", "[hazard]") {
  const AgeHazard zero(std::vector<double>(600, 0.0));
  for (double u : {1e-300, 1e-9, 0.3, 0.5, 0.999, std::nextafter(1.0, 0.0)})
    for (int age : {0, 100, 599, 600, 5000}) CHECK(zero.sample(age, u) == k_never);
  // Fertility ends at 50: a woman of 50 or older has no further births.
  const auto fert = regio::fertility_schedule(1.45, 31.8, 4.8);
  Rng rng(k_seed, 0, Stream::fertility, 1, 1);
  int births_after_50 = 0;
  for (int i = 0; i < 10000; ++i)
    births_after_50 += fert.sample(50 * 12 + i % 600, rng.uniform()) != k_never;
  CHECK(births_after_50 == 0);
}

TEST_CASE("AgeHazard::sample: a schedule without a tail never fires past its table", "[hazard]") {
  // For ages at or past the end of the table and u close to 1, -log(u) is below half an
  // ulp of the cumulative hazard, so target == cum.back() and the table branch is taken:
  // at age == size() it returns the current month instead of k_never. (Past the end,
  // std::lower_bound would get a range whose first iterator lies beyond cum_.end(), which is
  // undefined behaviour, so only age == size() is called here.) uniform() can return
  // exactly 1.0 (see above), which triggers the same path for every schedule without a
  // tail (fertility, union formation).
  const AgeHazard h(std::vector<double>(600, 0.01));  // cumulative 6.0 at the end
  CHECK(h.sample(600, 0.5) == k_never);
  CHECK(h.sample(600, std::nextafter(1.0, 0.0)) == k_never);
}

TEST_CASE("gompertz_mortality: the level is solved for the life expectancy", "[hazard]") {
  for (double e0 : {78.0, 82.0, 86.0}) {
    const auto h = regio::gompertz_mortality(e0, 0.105);
    INFO("e0 = " << e0);
    CHECK(regio::life_expectancy(h) == Approx(e0).margin(0.01));
    // Gompertz: the hazard grows by exp(slope) per year of age.
    CHECK(h.hazard(12 * 61) / h.hazard(12 * 60) == Approx(std::exp(0.105)).epsilon(1e-9));
    CHECK(h.survival(0, 110 * 12) < 1e-12);  // nobody passes 110
  }
  // A steeper slope at the same e0 is still solved.
  CHECK(regio::life_expectancy(regio::gompertz_mortality(82.0, 0.085)) == Approx(82).margin(0.01));
  // life_expectancy of a constant monthly hazard q is the mean of a geometric month + 0.5:
  // sum over m of (m + 0.5) * (1 - e^-q) e^(-q m) / 12 = (1/(e^q - 1) + 0.5) / 12.
  const double q = 0.01;
  const AgeHazard flat(std::vector<double>(110 * 12 + 1, q));
  const double expected = (1.0 / (std::exp(q) - 1.0) + 0.5) / 12.0;
  CHECK(regio::life_expectancy(flat) == Approx(expected).epsilon(1e-4));
}

TEST_CASE("gompertz_mortality: simulated ages at death average the life expectancy",
          "[hazard][stats]") {
  // Age at death of a synthetic cohort: month + 0.5 as in life_expectancy(). The SD of
  // the age at death is about 12 years, so with 4e5 persons the SE is 0.019; 4 SE = 0.08.
  const auto h = regio::gompertz_mortality(82.0, 0.105);
  constexpr int n = 400'000;
  double sum = 0.0, sum2 = 0.0;
  for (int i = 0; i < n; ++i) {
    Rng rng(k_seed, 0, Stream::mortality, static_cast<std::uint64_t>(i), 0);
    const std::int32_t at = h.sample(0, rng.uniform());
    REQUIRE(at != k_never);
    const double age = (at + 0.5) / 12.0;
    sum += age, sum2 += age * age;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  CHECK(sd > 5.0);
  CHECK(sd < 20.0);
  CHECK(mean == Approx(regio::life_expectancy(h)).margin(4.0 * sd / std::sqrt(n)));
}

TEST_CASE("fertility_schedule: the cumulative hazard over 15-50 is the TFR", "[hazard]") {
  for (double tfr : {1.3, 1.45, 1.7}) {
    const auto h = regio::fertility_schedule(tfr, 31.8, 4.8);
    INFO("TFR " << tfr);
    CHECK(-std::log(h.survival(15 * 12, 50 * 12)) == Approx(tfr).epsilon(1e-12));
    CHECK(h.survival(0, 15 * 12) == 1.0);
    CHECK(h.hazard(15 * 12 - 1) == 0.0);
    CHECK(h.hazard(50 * 12) == 0.0);
    CHECK(h.hazard(100 * 12) == 0.0);
    // The schedule's mean age (weights at month midpoints) is the requested mean age.
    double w = 0.0, wa = 0.0;
    for (int m = 15 * 12; m < 50 * 12; ++m) w += h.hazard(m), wa += h.hazard(m) * (m + 0.5) / 12.0;
    CHECK(wa / w == Approx(31.8).margin(0.05));  // truncation at 15 and 50 shifts it slightly
  }
}

TEST_CASE("leave_home_schedule: the median age of leaving follows the logistic", "[hazard]") {
  // The hazard F/spread integrates to log(1 + exp((a - median)/spread)), so the share still
  // at home at age a among those at home at 16 is (1 - F(a)) / (1 - F(16)). At the median
  // itself that is 0.5 / (1 - F(16)) = 0.5118, and the median of the schedule counted
  // from 16 is median + spread * log(1 + 2 exp((16 - median)/spread)) = 23.592.
  const double med = 23.5, s = 2.0;
  const auto h = regio::leave_home_schedule(med, s);
  auto F = [&](double a) { return 1.0 / (1.0 + std::exp(-(a - med) / s)); };
  CHECK(h.survival(16 * 12, 282) == Approx(0.5 / (1.0 - F(16.0))).margin(1e-3));
  // Nobody leaves before 18; those the logistic would see leave at 16-17 leave at 18.
  CHECK(h.survival(16 * 12, 18 * 12) == 1.0);
  CHECK(h.hazard(18 * 12 - 1) == 0.0);
  for (double a : {18.5, 21.0, 25.0, 30.0, 35.0})
    CHECK(h.survival(16 * 12, static_cast<int>(a * 12)) ==
          Approx((1.0 - F(a)) / (1.0 - F(16.0))).margin(2e-3));
  // Median age: where survival from 16 crosses 1/2 (linear between months).
  int m = 16 * 12;
  while (h.survival(16 * 12, m + 1) > 0.5) ++m;
  const double s0 = h.survival(16 * 12, m), s1 = h.survival(16 * 12, m + 1);
  const double median_age = (m + (s0 - 0.5) / (s0 - s1)) / 12.0;
  CHECK(median_age ==
        Approx(med + s * std::log(1.0 + 2.0 * std::exp((16.0 - med) / s))).margin(0.01));
  CHECK(median_age == Approx(med).margin(0.1));
  CHECK(h.hazard(16 * 12 - 1) == 0.0);
  CHECK(h.hazard(60 * 12) == Approx(0.3 / 12.0));  // the tail beyond 40
}

TEST_CASE("union and out-migration schedules give the stated yearly probabilities", "[hazard]") {
  const auto out = regio::out_migration_schedule(0.085, 0.026, 0.008);
  CHECK(1.0 - out.survival(20 * 12, 21 * 12) == Approx(0.085).epsilon(1e-12));
  CHECK(1.0 - out.survival(40 * 12, 41 * 12) == Approx(0.026).epsilon(1e-12));
  CHECK(1.0 - out.survival(70 * 12, 71 * 12) == Approx(0.008).epsilon(1e-12));
  CHECK(out.survival(0, 18 * 12) == 1.0);
  // The union rate peaks at the peak age; over the year centred on it the probability is
  // the peak rate up to the curvature of the bell (relative 1e-3 for a 7-year spread).
  const auto uni = regio::union_schedule(0.09, 29.0, 7.0);
  CHECK(1.0 - uni.survival(29 * 12 - 6, 29 * 12 + 6) == Approx(0.09).epsilon(2e-3));
  CHECK(uni.hazard(29 * 12) > uni.hazard(24 * 12));
  CHECK(uni.hazard(29 * 12) > uni.hazard(34 * 12));
  CHECK(uni.hazard(18 * 12 - 1) == 0.0);
  CHECK(uni.hazard(70 * 12) == 0.0);
}

// ---------------------------------------------------------------------------------------
// Calendar

TEST_CASE("Month: str and parse round trip", "[calendar]") {
  using regio::Month;
  CHECK(Month::of(2026, 1).str() == "2026-01");
  CHECK(Month::of(2046, 12).str() == "2046-12");
  CHECK(Month::of(2026, 1).index == 2026 * 12);
  for (int y : {0, 1999, 2026, 2046, 9999}) {
    for (int mo = 1; mo <= 12; ++mo) {
      const Month m = Month::of(y, mo);
      CHECK(m.year() == y);
      CHECK(m.month() == mo);
      Month back{-1};
      REQUIRE(Month::parse(m.str(), back));
      CHECK(back == m);
    }
  }
  CHECK(Month::of(2026, 12) < Month::of(2027, 1));
  CHECK(Month{Month::of(2026, 12).index + 1} == Month::of(2027, 1));
}

TEST_CASE("Month::parse rejects malformed strings", "[calendar]") {
  using regio::Month;
  for (const char* bad :
       {"2026-13", "2026-00", "2026-1", "abcd-01", "2026/01", "2026-1a", "26-01", "2026-011",
        " 2026-01", "2026-01 ", "", "-026-01", "+026-01", "2026--1"}) {
    Month out = Month::of(1900, 6);
    INFO("'" << bad << "'");
    CHECK_FALSE(Month::parse(bad, out));
    CHECK(out == Month::of(1900, 6));  // untouched on failure
  }
}

// ---------------------------------------------------------------------------------------
// SHA-256

TEST_CASE("sha256_hex: FIPS 180-4 test vectors", "[sha256]") {
  using regio::sha256_hex;
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmn"
                   "opqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_hex: lengths around the 64-byte block and padding boundaries", "[sha256]") {
  // Bytes (7i + 3) mod 256; digests from an independent SHA-256 implementation.
  const std::vector<std::pair<size_t, const char*>> cases = {
      {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
      {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
      {57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
      {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
      {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
      {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
      {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
      {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
      {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
  };
  for (const auto& [n, digest] : cases) {
    std::string data(n, '\0');
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 7 + 3) % 256);
    INFO("length " << n);
    CHECK(regio::sha256_hex(data) == digest);
  }
}

// ---------------------------------------------------------------------------------------
// CSV

TEST_CASE("CsvTable: header and comments and quotes and line numbers", "[csv]") {
  const std::string text =
      "# a comment before the header\n"
      "name,value,source\n"
      "# a comment between rows\n"
      "plain, 1.5 ,estimate\n"
      "\n"
      "\"with, comma\",2,\"say \"\"hi\"\"\"\n"
      "\"two\n"
      "lines\",3,x\r\n"
      "last,,\n";
  const regio::CsvTable t(text, "t.csv");
  CHECK(t.file() == "t.csv");
  REQUIRE(t.header() == std::vector<std::string>{"name", "value", "source"});
  REQUIRE(t.rows() == 4);
  CHECK(t.text(0, "name") == "plain");
  CHECK(t.text(0, "value") == "1.5");  // surrounding blanks are trimmed
  CHECK(t.number(0, "value", 0, 10) == 1.5);
  CHECK(t.text(1, "name") == "with, comma");
  CHECK(t.text(1, "source") == "say \"hi\"");
  CHECK(t.integer(1, "value", 0, 10) == 2);
  CHECK(t.text(2, "name") == "two\nlines");
  CHECK(t.text(2, "source") == "x");  // the CR of a CRLF line ending is dropped
  CHECK(t.text(3, "value").empty());
  CHECK(t.line(0) == 4);
  CHECK(t.line(1) == 6);
  CHECK(t.line(2) == 7);  // a row starts on its first line
  CHECK(t.line(3) == 9);  // the quoted newline counts
  CHECK(t.has_column("source"));
  CHECK_FALSE(t.has_column("Source"));
}

TEST_CASE("CsvTable: errors name the file and the line and the column", "[csv]") {
  using regio::CsvTable;
  using regio::InputError;
  SECTION("ragged row") {
    try {
      CsvTable("a,b,c\n1,2,3\n\n4,5\n", "ragged.csv");
      FAIL("no error for a short row");
    } catch (const InputError& e) {
      CHECK(e.file() == "ragged.csv");
      CHECK(e.line() == 4);
      CHECK_THAT(e.what(),
                 Contains("ragged.csv:4") && Contains("2 fields") && Contains("header has 3"));
    }
    CHECK_THROWS_AS(CsvTable("a,b\n1,2,3\n", "long.csv"), InputError);
  }
  SECTION("number out of range, not a number, not whole") {
    const CsvTable t("# c\nx,y\n1,2\n12,abc\n2.5,inf\n", "n.csv");
    try {
      t.number(1, "x", 0, 10);
      FAIL("no error for 12 outside [0, 10]");
    } catch (const InputError& e) {
      CHECK(e.line() == 4);
      CHECK(e.key() == "x");
      CHECK_THAT(e.what(),
                 Contains("n.csv:4") && Contains("'x'") && Contains("12") && Contains("[0, 10]"));
    }
    CHECK_THROWS_WITH(t.number(1, "y", 0, 10), Contains("n.csv:4") && Contains("'y'"));
    CHECK_THROWS_WITH(t.number(2, "y", 0, 10), Contains("n.csv:5") && Contains("finite"));
    CHECK_THROWS_WITH(t.integer(2, "x", 0, 10), Contains("n.csv:5") && Contains("whole"));
    CHECK(t.number(0, "x", 0, 10) == 1.0);
    CHECK(t.number(1, "x", 0, 12) == 12.0);  // the range is inclusive
  }
  SECTION("unterminated quote and empty table") {
    CHECK_THROWS_WITH(CsvTable("a,b\n\"open,2\n", "q.csv"), Contains("q.csv:2"));
    CHECK_THROWS_AS(CsvTable("# only a comment\n", "e.csv"), InputError);
  }
  SECTION("columns: unknown with a hint, missing") {
    const CsvTable t("code,nmae\nA,b\n", "c.csv");
    CHECK_THROWS_WITH(t.require_columns({"code", "name"}),
                      Contains("c.csv") && Contains("nmae") && Contains("did you mean 'name'"));
    const CsvTable u("code\nA\n", "d.csv");
    CHECK_THROWS_WITH(u.require_columns({"code", "name"}), Contains("name") && Contains("missing"));
    CHECK_NOTHROW(u.require_columns({"code"}, {"name"}));
  }
}

TEST_CASE("parse_finite accepts numbers only", "[csv]") {
  double v = 0;
  CHECK(regio::parse_finite("1.25", v));
  CHECK(v == 1.25);
  CHECK(regio::parse_finite(" -3e2 ", v));
  CHECK(v == -300.0);
  CHECK(regio::parse_finite("+4", v));
  CHECK(v == 4.0);
  for (const char* bad :
       {"", " ", "1.2.3", "12abc", "nan", "inf", "-inf", "1e999", "0x10", "++1"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(regio::parse_finite(bad, v));
  }
}

// ---------------------------------------------------------------------------------------
// YAML tree and merging

TEST_CASE("parse_yaml: locations and duplicate keys and the root", "[yaml]") {
  using regio::DocNode;
  const DocNode t = regio::parse_yaml("a: 1\nb:\n  c: [x, y]\n  d: text\n", "f.yaml");
  REQUIRE(t.kind == DocNode::Kind::map);
  REQUIRE(t.find("a"));
  CHECK(t.find("a")->scalar == "1");
  CHECK(t.find("a")->loc.file == "f.yaml");
  CHECK(t.find("a")->loc.line == 1);
  const DocNode* b = t.find("b");
  REQUIRE(b);
  CHECK(b->find("c")->kind == DocNode::Kind::sequence);
  CHECK(b->find("c")->items.size() == 2);
  CHECK(b->find("d")->loc.line == 4);
  CHECK(b->find("d")->loc.column == 6);
  CHECK(b->key_locs.at(1).line == 4);
  CHECK(b->key_locs.at(1).column == 3);
  CHECK(t.find("zzz") == nullptr);

  CHECK_THROWS_WITH(regio::parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml"),
                    Contains("dup.yaml:3") && Contains("duplicate"));
  CHECK_THROWS_AS(regio::parse_yaml("- 1\n- 2\n", "seq.yaml"), regio::InputError);
  CHECK_THROWS_WITH(regio::parse_yaml("a: [1, 2\n", "bad.yaml"), Contains("bad.yaml"));
}

TEST_CASE("merge_into: maps merge and everything else replaces", "[yaml]") {
  using regio::DocNode;
  DocNode base = regio::parse_yaml(
      "a: 1\n"
      "m: {x: 1, y: 2}\n"
      "s: [1, 2, 3]\n"
      "deep: {one: {two: 2, keep: k}}\n"
      "was_scalar: 5\n"
      "was_map: {q: 1}\n",
      "base.yaml");
  const DocNode child = regio::parse_yaml(
      "a: 10\n"
      "m: {y: 3, z: 4}\n"
      "s: [9]\n"
      "deep: {one: {two: 22}}\n"
      "was_scalar: {now: map}\n"
      "was_map: plain\n"
      "new_key: n\n",
      "child.yaml");
  regio::merge_into(base, child);
  CHECK(base.find("a")->scalar == "10");
  const DocNode* m = base.find("m");
  CHECK(m->find("x")->scalar == "1");
  CHECK(m->find("y")->scalar == "3");
  CHECK(m->find("z")->scalar == "4");
  REQUIRE(base.find("s")->items.size() == 1);
  CHECK(base.find("s")->items[0].scalar == "9");
  CHECK(base.find("deep")->find("one")->find("two")->scalar == "22");
  CHECK(base.find("deep")->find("one")->find("keep")->scalar == "k");
  CHECK(base.find("was_scalar")->kind == DocNode::Kind::map);
  CHECK(base.find("was_scalar")->find("now")->scalar == "map");
  CHECK(base.find("was_map")->kind == DocNode::Kind::scalar);
  CHECK(base.find("was_map")->scalar == "plain");
  // New keys are appended in the child's order, with the child's location.
  REQUIRE(base.entries.size() == 7);
  CHECK(base.entries.back().first == "new_key");
  CHECK(base.key_locs.size() == base.entries.size());
  CHECK(base.key_locs.back().file == "child.yaml");
  CHECK(base.key_locs.back().line == 7);
  // Values that came from the child point at the child file.
  CHECK(base.find("a")->loc.file == "child.yaml");
  CHECK(m->find("x")->loc.file == "base.yaml");
}

TEST_CASE("merge_into: a plain value over a parameter keeps its range", "[yaml]") {
  using regio::DocNode;
  DocNode base = regio::parse_yaml(
      "demography:\n"
      "  tfr: {value: 1.45, range: [1.3, 1.7], source: \"CBS 2023\"}\n"
      "  e0: {value: 82, range: [80, 84]}\n"
      "  both: {value: 1, range: [0, 2], source: s}\n",
      "base.yaml");
  const DocNode child = regio::parse_yaml(
      "demography:\n"
      "  tfr: 1.6\n"
      "  e0: 83\n"
      "  both: {value: 1.5, source: mine}\n",
      "my-scenario.yaml");
  regio::merge_into(base, child);
  const DocNode* d = base.find("demography");
  const DocNode* tfr = d->find("tfr");
  REQUIRE(tfr->kind == DocNode::Kind::map);
  CHECK(tfr->find("value")->scalar == "1.6");
  REQUIRE(tfr->find("range"));
  REQUIRE(tfr->find("range")->items.size() == 2);
  CHECK(tfr->find("range")->items[0].scalar == "1.3");
  CHECK(tfr->find("range")->items[1].scalar == "1.7");
  CHECK(tfr->find("source")->scalar == "set in my-scenario.yaml");
  CHECK(tfr->find("value")->loc.file == "my-scenario.yaml");
  // Without a source key, one is added.
  const DocNode* e0 = d->find("e0");
  CHECK(e0->find("value")->scalar == "83");
  REQUIRE(e0->find("source"));
  CHECK(e0->find("source")->scalar == "set in my-scenario.yaml");
  CHECK(e0->find("range")->items.size() == 2);
  CHECK(e0->key_locs.size() == e0->entries.size());
  // A map over a parameter merges key by key (its own source wins, the range stays).
  const DocNode* both = d->find("both");
  CHECK(both->find("value")->scalar == "1.5");
  CHECK(both->find("source")->scalar == "mine");
  CHECK(both->find("range")->items.size() == 2);
}

TEST_CASE("emit_yaml: the emitted tree parses back to the same values", "[yaml]") {
  using regio::DocNode;
  const DocNode t = regio::parse_yaml(
      "name: x\nlist: [1, two, 3.5]\nnested: {a: {b: c}, 'with space': \"q: v\"}\nempty: ~\n",
      "e.yaml");
  const DocNode back = regio::parse_yaml(regio::emit_yaml(t), "back.yaml");
  CHECK(back.find("name")->scalar == "x");
  REQUIRE(back.find("list")->items.size() == 3);
  CHECK(back.find("list")->items[1].scalar == "two");
  CHECK(back.find("nested")->find("a")->find("b")->scalar == "c");
  CHECK(back.find("nested")->find("with space")->scalar == "q: v");
  CHECK(back.find("empty")->kind == DocNode::Kind::null);
}
