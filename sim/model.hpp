// The Model: all state of one run (no globals), the clock, and the step pipeline.
// A step is a fixed list of named phases; data-parallel phases read the state as it was
// and write only their own agent's state, cross-agent effects are applied by `commit`
// in id order, so results do not depend on the number of threads.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agents/households.hpp"
#include "agents/institutions.hpp"
#include "agents/municipalities.hpp"
#include "agents/persons.hpp"
#include "sim/calendar.hpp"
#include "sim/observer.hpp"
#include "sim/rng.hpp"
#include "sim/scenario.hpp"

namespace regio {

struct RunConfig {
  std::uint64_t seed = 0;
  std::uint32_t replication = 0;
  double scale = 1.0;             ///< share of the population simulated (1 = every person)
  int until_year = 0;             ///< 0: the scenario's end
  bool check_invariants = false;  ///< recount stocks every step (tests, debug builds)
  size_t chunk_size = 8192;       ///< agents per parallel work item (results do not depend on it)
};

/// Raised when an accounting invariant fails (a bug, not bad input).
class InvariantError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Wall time per phase, summed over the run (for `regio bench`).
struct PhaseTimes {
  std::vector<std::string> names;
  std::vector<double> seconds;
};

class Model {
 public:
  Model(const Scenario& scenario, const RunConfig& config);

  /// Advances one month.
  void step();
  /// Runs to the end (scenario end or config.until_year); `progress(done, total)` is
  /// called after every step.
  void run(const std::function<void(int, int)>& progress = {});

  bool finished() const { return now_ > last_; }
  std::int32_t now() const { return now_; }
  std::int32_t first_month() const { return first_; }
  std::int32_t last_month() const { return last_; }
  int months_total() const { return last_ - first_ + 1; }

  const Scenario& scenario() const { return scenario_; }
  const RunConfig& config() const { return config_; }
  Rng rng(Stream stream, std::uint64_t agent, std::int32_t step) const {
    return Rng(config_.seed, config_.replication, stream, agent, static_cast<std::uint32_t>(step));
  }

  // State. Public for the agent rules and tests; the Model owns it all.
  PersonStore persons;
  HouseholdStore households;
  std::vector<Institution> institutions;
  std::vector<Municipality> municipalities;
  Schedules schedules;
  Series series;
  PhaseTimes phase_times;
  std::uint32_t next_person_id = 0;
  std::uint32_t next_household_id = 0;
  std::int64_t person_steps = 0;  ///< persons alive summed over steps (for throughput)

  /// Index of a person or household by id (k_none if gone).
  std::uint32_t person_index(std::uint32_t id) const {
    return id < person_index_.size() ? person_index_[id] : k_none;
  }
  std::uint32_t household_index(std::uint32_t id) const {
    return id < household_index_.size() ? household_index_[id] : k_none;
  }
  /// Registers an appended person/household in the id maps.
  void index_person(std::uint32_t id, size_t index);
  void index_household(std::uint32_t id, size_t index);
  void rebuild_indices();

  int age_years(size_t person, std::int32_t month) const {
    return (month - persons.birth_month[person]) / 12;
  }

  /// Parallel loop over [0, n) in fixed-size chunks; fn(chunk, begin, end).
  void for_chunks(size_t n, const std::function<void(size_t, size_t, size_t)>& fn) const;
  size_t chunk_count(size_t n) const { return (n + config_.chunk_size - 1) / config_.chunk_size; }

  /// Recounts persons and households per zone from the stores and compares them with
  /// the running stocks; throws InvariantError on a mismatch.
  void check_accounting() const;

 private:
  void run_phase(size_t index, const std::function<void()>& fn);
  void phase_housing();
  void phase_persons();
  void phase_households();
  void phase_institutions();
  void phase_commit();
  void phase_observe();

  Scenario scenario_;
  RunConfig config_;
  std::int32_t first_ = 0, last_ = 0, now_ = 0;
  std::vector<PersonEvents> chunk_events_;
  std::vector<std::vector<std::uint32_t>> chunk_moves_;
  std::vector<std::uint32_t> person_index_, household_index_;
};

}  // namespace regio
