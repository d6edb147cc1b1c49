// Counter-based random numbers (Random123 Philox4x32-10). A draw is a pure function of
// (seed, replication, stream, agent id, step, draw number): no generator state is shared,
// so results do not depend on threads, chunking or the order agents are visited.
#pragma once
#include <Random123/philox.h>

#include <cmath>
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
    const std::uint64_t hi = block_[used_];
    const std::uint64_t lo = block_[used_ + 1];
    used_ += 2;
    // 52 bits: (bits + 0.5) / 2^52 is exactly representable and strictly inside (0, 1).
    const std::uint64_t bits = ((hi << 32) | lo) >> 12;
    return (static_cast<double>(bits) + 0.5) * 0x1.0p-52;
  }
  bool bernoulli(double p) { return uniform() < p; }
  /// Uniform integer in [0, n).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(uniform() * n) % (n == 0 ? 1 : n);
  }
  /// Exponential waiting time with the given rate (per unit).
  double exponential(double rate) { return -std::log(uniform()) / rate; }
  double normal(double mean, double sd) {
    // Box-Muller; one value per call keeps the draw count independent of history.
    const double u1 = uniform(), u2 = uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
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
