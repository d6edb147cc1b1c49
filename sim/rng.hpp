// Counter-based random numbers (Random123 Philox4x32-10). A draw is a pure function of
// (seed, replication, stream, agent id, step, draw number): no generator state is shared,
// so results do not depend on threads, chunking or the order agents are visited.
#pragma once
#include <Random123/philox.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace regio {

/// One named stream per kind of decision, so that adding draws to one rule never shifts
/// the numbers another rule sees.
enum class Stream : std::uint32_t {
  population_init = 1,
  household_init,
  mortality,
  fertility,
  education,
  labour,
  leave_home,
  out_migration,
  in_migration,
  institutions,
  unions,
  firms,
  labour_market,
  commuting,
  supply_chain,
  hiring,
  birth_sex,
  layoffs,
  firm_demand,
  vacancies,
};

class Rng {
 public:
  /// Replications are numbered 0..k_max_replication (16 bits of the counter).
  static constexpr std::uint32_t k_max_replication = 0xFFFF;

  /// `agent` is the agent's stable id (or a zone/institution index for aggregate draws);
  /// `step` the model month index (or any other fixed counter).
  Rng(std::uint64_t seed, std::uint32_t replication, Stream stream, std::uint64_t agent,
      std::uint32_t step)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        ctr_{{static_cast<std::uint32_t>(agent), static_cast<std::uint32_t>(agent >> 32),
              (static_cast<std::uint32_t>(stream) << 24) ^ step, replication << 16}} {
    if (replication > k_max_replication)
      throw std::invalid_argument("replication numbers go from 0 to 65535");
  }

  /// A uniform double in the open interval (0, 1), 52 random bits.
  double uniform() {
    if (used_ >= 4) refill();
    const std::uint32_t hi = block_[used_];
    const std::uint32_t lo = block_[used_ + 1];
    used_ += 2;
    return to_uniform(hi, lo);
  }
  /// The uniform that uniform() makes of two words of a block: 52 bits, and
  /// (bits + 0.5) / 2^52 is exactly representable and strictly inside (0, 1).
  static double to_uniform(std::uint32_t hi, std::uint32_t lo) {
    const std::uint64_t bits = ((std::uint64_t{hi} << 32) | lo) >> 12;
    return (static_cast<double>(bits) + 0.5) * 0x1.0p-52;
  }
  bool bernoulli(double p) { return uniform() < p; }
  /// Uniform integer in [0, n).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(uniform() * n) % (n == 0 ? 1 : n);
  }
  /// Exponential waiting time with the given rate (per unit).
  double exponential(double rate) { return -std::log(uniform()) / rate; }
  /// Normal draw by inverting the standard normal CDF at one uniform (one value per
  /// call, so the draw count does not depend on history). Inversion instead of
  /// Box-Muller: 95 % of draws need one rational function and no log or cos, about five
  /// times cheaper, and the firms draw one a month each.
  double normal(double mean, double sd) { return mean + sd * normal_quantile(uniform()); }

  /// Standard normal quantile for p in (0, 1): Acklam's rational approximation
  /// (relative error below 1.2e-9 over the whole range).
  static double normal_quantile(double p) {
    return p < k_central_low || p > 1.0 - k_central_low ? tail_quantile(p) : central_quantile(p);
  }
  /// normal_quantile(u[i]) into x[i] for i in [0, n), the same values: the central
  /// formula for all first (a loop without branches, which the compiler vectorises: the
  /// divisions of several values overlap), then the tails where they apply. In a loop of
  /// single calls, the division and the chain of multiplications before it are most of
  /// the cost, one value after the other.
  static void normal_quantiles(const double* u, double* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) x[i] = central_quantile(u[i]);
    for (std::size_t i = 0; i < n; ++i)
      if (u[i] < k_central_low || u[i] > 1.0 - k_central_low) x[i] = tail_quantile(u[i]);
  }
  /// out[i] = Rng(seed, replication, stream, agents[i], step).uniform(), the first number
  /// of each generator, for i in [0, n): the same values, bit for bit, computed for many
  /// generators side by side. One generator's block is ten dependent rounds of
  /// multiplications (about 8 ns a block even when consecutive blocks overlap); with AVX2,
  /// where the processor has it, 32 blocks go through the rounds together, about 2 ns a
  /// block. For rules that draw one number per agent and step (the firms' demand shocks).
  /// With `second`, also second[i] = that generator's second uniform() (the rest of the
  /// same block: no extra rounds).
  static void first_uniforms(std::uint64_t seed, std::uint32_t replication, Stream stream,
                             const std::uint64_t* agents, std::uint32_t step, double* out,
                             std::size_t n, double* second = nullptr);
  /// Index drawn with probability proportional to weights[0..n).
  template <class W>
  int categorical(const W& weights, int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += weights[i];
    double x = uniform() * total;
    for (int i = 0; i < n; ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    for (int i = n - 1; i >= 0; --i)
      if (weights[i] > 0) return i;
    return 0;
  }

 private:
  /// Acklam's approximation switches from the central formula to the tails' below this
  /// probability and above 1 minus it.
  static constexpr double k_central_low = 0.02425;
  static double central_quantile(double p) {
    constexpr double a0 = -3.969683028665376e+01, a1 = 2.209460984245205e+02,
                     a2 = -2.759285104469687e+02, a3 = 1.383577518672690e+02,
                     a4 = -3.066479806614716e+01, a5 = 2.506628277459239e+00;
    constexpr double b0 = -5.447609879822406e+01, b1 = 1.615858368580409e+02,
                     b2 = -1.556989798598866e+02, b3 = 6.680131188771972e+01,
                     b4 = -1.328068155288572e+01;
    const double q = p - 0.5, r = q * q;
    return (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q /
           (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1.0);
  }
  /// The tails: in terms of sqrt(-2 log) of the smaller tail probability.
  static double tail_quantile(double p) {
    constexpr double c0 = -7.784894002430293e-03, c1 = -3.223964580411365e-01,
                     c2 = -2.400758277161838e+00, c3 = -2.549732539343734e+00,
                     c4 = 4.374664141464968e+00, c5 = 2.938163982698783e+00;
    constexpr double d0 = 7.784695709041462e-03, d1 = 3.224671290700398e-01,
                     d2 = 2.445134137142996e+00, d3 = 3.754408661907416e+00;
    const double q = std::sqrt(-2.0 * std::log(p < k_central_low ? p : 1.0 - p));
    const double x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
                     ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0);
    return p < k_central_low ? x : -x;
  }
  void refill() {
    r123::Philox4x32 gen;
    auto out = gen(ctr_, key_);
    for (int i = 0; i < 4; ++i) block_[i] = out[i];
    ctr_[3] += 1;  // the draw-block number within this (agent, step, stream)
    used_ = 0;
  }
  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type ctr_;
  std::uint32_t block_[4] = {0, 0, 0, 0};
  int used_ = 4;
};

}  // namespace regio
