// Travel between zones: distances (great circle x detour factor) between the zones'
// representative points, times and costs by mode, a logit mode choice calibrated to the
// regional split (car, bike, public transport, walking), and car congestion on each
// zone pair rising with the car flow (BPR function).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace regio {

class Model;
struct Scenario;

inline constexpr int k_modes = 4;
enum class Mode : std::uint8_t { car = 0, bike, pt, walk };

/// Commuting figures for the outputs, tallied from the jobs held now (see
/// Commuting::figures). Counts are exact integers; averages are summed in index order.
struct CommutingFigures {
  int zones = 0;                      ///< internal then external zones
  std::vector<std::int64_t> matrix;   ///< commuters [origin * zones + destination], all zones
  std::vector<std::int64_t> workers;  ///< per internal home zone: residents with a job
  std::vector<double> minutes;        ///< per internal home zone: average one-way minutes
  std::vector<double> km;             ///< per internal home zone: average one-way km
  std::array<std::int64_t, k_modes> modes{};  ///< commuters by mode (residents and outside)
  std::int64_t in_commuters = 0;              ///< outside workers with a regional job
  std::int64_t out_commuters = 0;             ///< residents working in an external zone
  double car_km = 0.0;                        ///< per month, both directions, all car commuters
  double delay_minutes = 0.0;                 ///< average one-way congestion delay per car commuter
};

class Commuting {
 public:
  /// Working days per month and commuting trips per working day (estimate).
  static constexpr double k_working_days = 21.0, k_trips_per_day = 2.0;

  /// Zones are the scenario's internal zones followed by its external zones. The mode
  /// constants are calibrated on a gravity pattern of the scenario (workers x jobs x
  /// exp(-0.05 x car minutes), pairs with at least one internal end).
  void build(const Scenario& s);
  int zones() const { return zones_; }
  double km(int o, int d) const { return km_[idx(o, d)]; }
  /// Current door-to-door minutes by mode (car includes congestion).
  double minutes(int o, int d, Mode mode) const;
  /// The time a job seeker weighs: expected minutes over the calibrated mode shares.
  double expected_minutes(int o, int d) const { return expected_[idx(o, d)]; }
  /// Generalised cost of a one-way trip (EUR): value of time x minutes plus money cost,
  /// expected over the mode probabilities.
  double expected_cost(int o, int d) const { return cost_[idx(o, d)]; }
  /// Probability of `mode` for a commuter from o to d now.
  double probability(int o, int d, Mode mode) const {
    return probs_[idx(o, d) * k_modes + static_cast<size_t>(mode)];
  }
  /// Draws a mode for a commuter from o to d with the uniform draw u.
  Mode choose_mode(int o, int d, double u) const;
  /// Recalibrates the mode constants on the model's current commuting pattern (every
  /// resident with a job and every outside worker, weighted one per commuter), so that
  /// the predicted split over that pattern matches the scenario's shares. Called once by
  /// the initial matching, before the modes are drawn.
  void calibrate(const Model& m);
  /// Recomputes congestion from the current car flows of all commuters (persons and
  /// outside workers) and refreshes times and mode probabilities. The first call stores
  /// the pairs' capacities from the state it sees (the start).
  void update(const Model& m);
  /// Minutes of car delay per car commuter on o->d now (congested minus free-flow).
  double car_delay(int o, int d) const;
  /// Mode split predicted by the current probabilities over OD weights [o * zones + d].
  std::array<double, k_modes> mode_split(const std::vector<double>& od) const;
  /// The OD weights of the last calibration (gravity at build, then the model's pattern).
  const std::vector<double>& reference() const { return reference_; }
  double asc(Mode mode) const { return asc_[static_cast<size_t>(mode)]; }
  /// Commuters by origin and destination, average minutes and km per home zone, car-km
  /// per month and the average congestion delay; deterministic (integer tallies).
  CommutingFigures figures(const Model& m) const;

 private:
  size_t idx(int o, int d) const { return static_cast<size_t>(o) * zones_ + d; }
  /// Mode probabilities, expected minutes and costs of every pair from the current
  /// times and constants.
  void refresh();
  /// Utilities of the four modes on pair p with the current times and constants.
  void utilities(size_t p, double* v) const;
  /// Iterates the constants until the split over `od` matches the targets (< 1e-6).
  void calibrate_on(const std::vector<double>& od);
  int zones_ = 0;
  int internal_ = 0;
  std::vector<double> km_, free_car_, car_, bike_, pt_, walk_, cost_car_, cost_pt_;
  std::vector<double> capacity_;  ///< car commuters per pair at which delay is alpha x free
  std::vector<double> expected_;
  std::vector<double> cost_;            ///< expected generalised cost per one-way trip (EUR)
  std::vector<double> probs_;           ///< [pair][mode]
  std::vector<double> reference_;       ///< OD weights of the last calibration
  double asc_[k_modes] = {0, 0, 0, 0};  ///< calibrated alternative-specific constants
  double target_[k_modes] = {0, 0, 0, 0};
  double time_weight_ = 0.0, cost_weight_ = 0.0;
  double value_of_time_ = 0.0;  ///< EUR per hour
  double bpr_alpha_ = 0.0, bpr_beta_ = 0.0, capacity_factor_ = 1.0;
};

}  // namespace regio
