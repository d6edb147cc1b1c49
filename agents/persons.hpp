// Persons: storage (struct of arrays, stable ids) and their monthly life-course rules:
// ageing, mortality, births, education, labour-force status, retirement, leaving home.
// Household-level moves are in agents/households.*; the commit of cross-agent effects
// (births, deaths, moves) is done by the Model in id order.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/hazard.hpp"
#include "sim/rng.hpp"
#include "sim/types.hpp"

namespace regio {

class Model;

/// Role of a person in its household.
enum class Role : std::uint8_t { head = 0, partner, child, other };

/// The next scheduled life-course event of a person (besides death, births, labour moves).
enum class LifeEvent : std::uint8_t {
  none = 0,
  choose_track,       ///< at 16: basic, mbo, hbo or wo track
  start_study,        ///< in September: enrol at an institution
  graduate,           ///< in July after the programme
  enter_labour,       ///< school leavers without a programme
  retire,             ///< at the state pension age
  graduate_decision,  ///< a new graduate without a job decides whether to leave
};

struct PersonStore {
  // Identity and household.
  std::vector<std::uint32_t> id;
  std::vector<std::uint32_t> household;    ///< household id
  std::vector<std::uint32_t> next_member;  ///< next person id in the household list, k_none ends
  std::vector<std::int32_t> birth_month;   ///< Month::index of birth
  std::vector<std::uint8_t> sex;
  std::vector<std::uint8_t> role;
  std::vector<std::uint16_t> zone;  ///< home zone
  // Education and work.
  std::vector<std::uint8_t> education;  ///< highest completed level
  std::vector<std::uint8_t> track;      ///< level being studied for (students)
  std::vector<std::uint8_t> parent_education;
  std::vector<std::uint8_t> field;
  std::vector<std::uint8_t> status;
  std::vector<std::int32_t> status_since;  ///< Month::index when the status began
  std::vector<std::uint16_t> institution;  ///< enrolled institution, k_outside if elsewhere
  // Scheduled events (Month::index, k_never when none).
  std::vector<std::int32_t> death;
  std::vector<std::int32_t> next_birth;
  std::vector<std::int32_t> next_life;
  std::vector<std::uint8_t> life_event;
  std::vector<std::int32_t> next_labour;
  std::vector<std::int32_t> leave_home;
  std::vector<std::int32_t> next_union;  ///< month of looking for a partner
  std::vector<std::uint8_t> partnered;   ///< 1 while living with a partner
  std::vector<std::uint8_t> side_job;    ///< 1 for a student with a paid side job
  // The job (employed persons): employer firm id (k_none for a job outside the region),
  // job zone (internal zones first, then external zones), job level, commute mode.
  std::vector<std::uint32_t> employer;
  std::vector<std::uint16_t> job_zone;
  std::vector<std::uint8_t> job_level;
  std::vector<std::uint8_t> mode;
  std::vector<std::uint32_t> job_slot;  ///< position in the employer's staff list
  std::vector<std::int32_t> next_due;   ///< min of the above: the only field the scan reads
  std::vector<std::uint8_t> alive;      ///< 0 once dead or moved out (removed at compaction)

  static constexpr std::uint16_t k_outside = 0xFFFF;
  static constexpr std::uint16_t k_no_job_zone = 0xFFFF;  ///< job_zone of persons without a job

  size_t size() const { return id.size(); }
  /// Appends a person with every field defaulted; returns its index.
  size_t append(std::uint32_t new_id);
  /// Appends n such persons with ids first_id, first_id + 1, ...; returns the first index.
  size_t append_n(std::uint32_t first_id, size_t n);
  /// Removes persons with alive == 0, keeping id order.
  void compact();
  size_t bytes() const;
  void refresh_due(size_t i) {
    std::int32_t d = death[i];
    if (next_birth[i] < d) d = next_birth[i];
    if (next_life[i] < d) d = next_life[i];
    if (next_labour[i] < d) d = next_labour[i];
    if (leave_home[i] < d) d = leave_home[i];
    if (next_union[i] < d) d = next_union[i];
    next_due[i] = d;
  }
};

/// Demographic schedules derived once from the scenario.
struct Schedules {
  AgeHazard mortality;
  AgeHazard fertility;
  AgeHazard leave_home;
  AgeHazard out_migration;
  AgeHazard union_formation;
};

/// Cross-agent effects of one month's person events, gathered per chunk in index order
/// and applied by the commit phase.
struct PersonEvents {
  std::vector<std::uint32_t> deaths;        ///< person ids
  std::vector<std::uint32_t> births;        ///< mother ids
  std::vector<std::uint32_t> leavers;       ///< person ids leaving the parental home
  std::vector<std::uint32_t> emigrants;     ///< person ids leaving the region alone
  std::vector<std::uint32_t> study_starts;  ///< person ids that enrolled this month
  std::vector<std::uint32_t> graduations;   ///< person ids that finished (or dropped out)
  std::vector<std::uint32_t> job_leavers;   ///< person ids whose job ended (quit, exit, retirement)
  std::vector<std::uint32_t> unions;        ///< person ids looking for a partner this month
  std::vector<StatusMove> status_moves;     ///< the statuses changed this month
  void clear();
  void append(const PersonEvents& other);
};

namespace persons {

/// Month in which someone born at `birth` reaches the state pension age.
std::int32_t retirement_month(const Model& m, std::int32_t birth);
/// Nominal programme length (years) at institutions outside the region.
int outside_programme_years(Education level);
/// First September at or after the month in which someone born at `birth` turns `age`.
std::int32_t september_at_age(std::int32_t birth, int age_years);

/// Draws the initial schedule of a person (death, births, life event, labour moves,
/// leaving home) given its state at `now`; used at creation and after a status change.
void schedule_person(Model& m, size_t i, std::int32_t now);
/// Schedules the next labour-market transition for someone in the labour force or inactive,
/// drawing from `rng` (the caller's labour stream for this person and month).
void schedule_labour(Model& m, size_t i, std::int32_t now, Rng& rng);
/// Draws when an unpartnered adult next looks for a partner (k_never when partnered).
void schedule_union(Model& m, size_t i, std::int32_t now);
/// Sets the person's next life event to retirement at the state pension age.
void set_retirement(Model& m, size_t i, std::int32_t now);
/// A hired person: status employed since now, labour moves rescheduled.
void on_hired(Model& m, size_t i, std::int32_t now);
/// Decides the labour status of someone entering the labour market now.
void enter_labour_market(Model& m, size_t i, std::int32_t now);
/// The chance that a new graduate still without a job leaves the region this month:
/// labour_market.graduate_leave_base at the first year's tightness (and during the first
/// year), times (1 + that tightness) / (1 + last month's), at most 1.
double graduate_leave_probability(const Model& m);

/// The monthly rule: every person whose next_due is `now` acts; own-state changes are
/// made directly, cross-agent effects go to `out`. Runs in parallel over index chunks.
void step_chunk(Model& m, size_t begin, size_t end, std::int32_t now, PersonEvents& out);

}  // namespace persons
}  // namespace regio
