// What a run records: monthly flows and stocks per zone, yearly snapshots (1 January)
// by age group, status, education and level, institution figures; and the conversion of
// those series into labelled datasets for the HDF5 file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "output/results.hpp"

namespace regio {

class Model;

struct Series {
  std::vector<std::string> months;  ///< labels of recorded months
  std::vector<std::string> dates;   ///< labels of 1 January snapshots
  std::vector<std::string> years;   ///< labels of completed years
  // [month][zone]
  std::vector<double> population, households, dwellings, pressure, births, deaths, in_migrants,
      out_migrants, capped, blocked_leavers;
  // [date][zone][age_group][status]
  std::vector<double> by_age_status;
  // [date][zone][sex]
  std::vector<double> by_sex;
  // [date][zone][level]: residents aged 25-64 by completed level; resident students by level
  std::vector<double> adults_by_education, students_by_level;
  // [year][zone][level] and [year][zone]
  std::vector<double> graduates, graduates_leaving;
  // [date][institution]
  std::vector<double> inst_students, inst_resident_students, inst_staff;
  // [date][institution][field]
  std::vector<double> inst_students_by_field;
  // [year][institution]
  std::vector<double> inst_intake, inst_graduates, inst_in_migrant_students;
  // The economy. [month][zone] by job zone unless said otherwise.
  std::vector<double> jobs, vacancies, value_added, output, exports, wage_bill, firm_entries,
      firm_exits;
  // [month][zone] by home zone: unemployed residents and unemployment rate
  std::vector<double> unemployed, unemployment_rate, employed_residents;
  // [month]: region-wide
  std::vector<double> tightness, regional_sourcing, in_commuters, out_commuters, supply_links;
  std::vector<double> field_match;
  // [month][sector]
  std::vector<double> average_wage;
  // [date][zone][sector]: jobs, establishments and open positions on 1 January
  std::vector<double> jobs_by_sector, establishments, vacancies_by_sector;
  // [month][account]: net lending
  std::vector<double> net_lending;
  // [date][origin][destination] (all zones): commuters on 1 January
  std::vector<double> commuting_matrix;
  // [date][zone] (home zone): average commute minutes and km of employed residents
  std::vector<double> commute_minutes, commute_km;
  // [date]: commuting car-km per month and average congestion delay per car commute
  std::vector<double> car_km, congestion_delay;
};

namespace observer {

/// Records the starting snapshot (1 January of the first year).
void start(Model& m);
/// Records this month's flows and stocks, then resets the monthly counters.
void record_month(Model& m);
/// After December: yearly counters and the 1 January snapshot of the next year.
void record_year_end(Model& m);
/// Person accounting per zone: stock now = stock at month start + births + in-migrants
/// - deaths - out-migrants. Throws InvariantError on a mismatch.
void check_flows(const Model& m);
/// The run's datasets, labelled with axes (metadata is filled by the caller).
output::Results to_results(const Model& m);

}  // namespace observer
}  // namespace regio
