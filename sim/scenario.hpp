// The immutable, validated scenario: everything a run needs to know before any agent
// exists. Built by load_scenario() (sim/scenario_loader.cpp); the model never reads YAML.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/calendar.hpp"
#include "sim/types.hpp"

namespace regio {

/// A behavioural parameter: its value, the plausible range for sweeps, and its source
/// (a citation or the word "estimate").
struct Param {
  double value = 0.0;
  double lo = 0.0;
  double hi = 0.0;
  std::string source;
  operator double() const { return value; }
};

/// One simulated municipality (internal zone), as in the zones table.
struct ZoneSpec {
  std::string code;
  std::string name;
  std::int64_t inhabitants = 0;
  std::int64_t men = 0;
  std::int64_t women = 0;
  std::int64_t dwellings = 0;
  double area_land_ha = 0.0;
  double lat = 0.0;
  double lon = 0.0;
  std::string source;
  /// Age structure: share of inhabitants per five-year band (k_age_bands bands, sums to 1).
  std::array<double, k_age_bands> age_shares{};
  std::string age_source;
  /// Education of residents aged 25-64: shares of basic, mbo, hbo, wo (sums to 1).
  std::array<double, k_education_levels> education_shares{};
  std::string education_source;
  /// Gross in-migration, households per 1,000 inhabitants per year (before the dwelling cap).
  double in_migration_per_1000 = 0.0;
  /// Homes completed per year on top of the plan table (regular construction).
  double construction_per_year = 0.0;
};

/// Planned dwellings: `homes` completed spread evenly over [first_year, last_year].
struct ConstructionPlan {
  std::string zone;  ///< zone code
  std::string name;  ///< e.g. "Valkenburg"
  int first_year = 0;
  int last_year = 0;
  std::int64_t homes = 0;
  std::string source;
};

/// A knowledge institution (default: Leiden University, LUMC, Hogeschool Leiden, ...).
struct InstitutionSpec {
  std::string name;
  std::string zone;                 ///< zone code
  int sector = 0;                   ///< sector its staff count in
  Education level = Education::wo;  ///< level of its programmes (students); research-only: none
  bool teaches = true;
  double students = 0.0;                                     ///< enrolled students at the start
  double programme_years = 0.0;                              ///< nominal programme length
  double staff = 0.0;                                        ///< staff (all levels) at the start
  std::array<double, k_education_levels> staff_education{};  ///< staff shares by level
  std::array<double, k_fields> field_shares{};               ///< students by field, sums to 1
  std::string cluster;  ///< "bio science", "space tech and data", ... or ""
  std::string source;
};

/// A sector of the economy (sectors table); money in euros at 2026 prices per worker-month.
struct SectorSpec {
  std::string key;  ///< short name used in tables ("lsh", "care", ...)
  std::string name;
  double va = 0.0;                   ///< value added per worker-month
  double wage = 0.0;                 ///< employer wage cost per worker-month
  double input_share = 0.0;          ///< intermediate inputs / output
  double regional_sourcing = 0.0;    ///< share of inputs bought from regional firms
  double household_share = 0.0;      ///< share of household consumption spent on the sector
  double public_share = 0.0;         ///< share of output bought by the public sector
  double export_growth = 0.0;        ///< per year
  double productivity_growth = 0.0;  ///< per year
  std::array<double, k_education_levels> education{};  ///< education mix of its jobs
  double mean_size = 1.0;                              ///< jobs per establishment
  double space_per_job = 0.0;                          ///< m2 floor space
  /// The field of education its posts at mbo level and above ask for (an index of
  /// k_field_names), or -1 where any field will do.
  int field = -1;
  std::string source;
};

/// Jobs and their sector mix in one internal zone at the start.
struct ZoneEconomy {
  double jobs = 0.0;
  std::vector<double> sector_shares;  ///< per sector, sums to 1
  std::string source;
};

/// Companies of a knowledge cluster at a site.
struct ClusterSite {
  std::string cluster;
  std::string zone;  ///< zone code
  int sector = 0;
  std::string site;
  int companies = 0;
  double jobs = 0.0;
  std::string source;
};

/// An area outside the region exchanging commuters (not simulated agent by agent).
struct ExternalZone {
  std::string name;
  double lat = 0.0, lon = 0.0;
  double workers = 0.0;
  double jobs = 0.0;
  std::string source;
};

struct EconomyParams {
  Param income_tax_rate, propensity_to_consume, consumption_leakage, consumption_in_job_zone;
  Param unemployment_benefit, pension_income, student_income, inactive_income;
  Param expectation_adjustment, layoff_threshold, layoff_notice, bankruptcy_months, cash_months;
  Param startup_rate, spinoff_rate, inward_investment, spillover, digital_gain, digital_adoption,
      succession_rate, solo_closure;
  /// Firm-level demand shocks: the log of each firm's share of its markets follows an
  /// AR(1) with this monthly standard deviation and persistence.
  Param demand_shock_sd, demand_shock_persistence;
};

struct LabourMarketParams {
  Param rounds, applications, time_sensitivity, overqualification_penalty, quit_rate,
      on_the_job_search, wage_tightness, external_search, graduate_leave_base;
  /// Yearly growth of the external zones' job markets and labour pools (their jobs held
  /// by the region's residents, their workers and their own openings).
  Param external_growth;
  Param wage_factor_basic, wage_factor_mbo, wage_factor_hbo, wage_factor_wo;
  Param screening_pass;
  /// Time to fill a post: the share of a month's open positions whose selection ends this
  /// month (offered to the applicants); and the share of positions open at the start.
  Param fill_rate, vacancy_rate;
  /// Elasticity of the fill rate to tightness relative to the first year.
  Param fill_tightness;
  /// Lower fit of an applicant from another field for a post that asks for one.
  Param field_penalty;
};

struct CommutingParams {
  Param detour_factor, speed_car, speed_bike, speed_pt, wait_pt, speed_walk, cost_car, cost_pt,
      value_of_time, share_car, share_bike, share_pt, share_walk, bpr_alpha, bpr_beta,
      capacity_factor;
};

/// A kind of household moving into the region (the in-migration mix).
struct InMigrantType {
  std::string name;
  double share = 0.0;  ///< of in-migrant households
  int adults = 1;
  int children_min = 0;
  int children_max = 0;
  int age_min = 18;  ///< adults' age range (years)
  int age_max = 30;
  std::array<double, k_education_levels> education{};  ///< adults' highest level
  std::string source;
  double mean_size() const { return adults + 0.5 * (children_min + children_max); }
};

/// Year-dependent state pension age.
struct PensionStep {
  int from_year = 0;
  int age_months = 0;
};

struct DemographyParams {
  Param life_expectancy_at_birth;    ///< years; the Gompertz level is solved to match it
  Param gompertz_slope;              ///< per year of age
  Param total_fertility;             ///< children per woman
  Param mean_age_at_birth;           ///< years
  Param sd_age_at_birth;             ///< years
  Param share_boys;                  ///< of births
  Param leave_home_median_age;       ///< years
  Param leave_home_spread;           ///< years (logistic scale)
  Param leave_home_out_of_region;    ///< share of home-leavers who leave the region
  Param union_peak_rate;             ///< yearly probability of forming a couple at the peak age
  Param union_peak_age;              ///< years
  Param union_age_spread;            ///< years
  Param out_migration_young;         ///< households per year, reference person 18-29
  Param out_migration_mid;           ///< per year, 30-64
  Param out_migration_old;           ///< per year, 65+
  Param occupancy;                   ///< households per dwelling at the start
  Param frictional_vacancy;          ///< share of dwellings never filled (moves, repairs)
  Param in_migration_tightness;      ///< elasticity of in-migration to labour-market tightness
  std::vector<PensionStep> pension;  ///< state pension age by year (sorted)
};

struct EducationParams {
  /// Track choice at 16 by parents' highest level: [parent level][track basic,mbo,hbo,wo].
  std::array<std::array<double, k_education_levels>, k_education_levels> track_by_parent{};
  Param completion_mbo;
  Param completion_hbo;
  Param completion_wo;
  Param enrolled_in_region_mbo;  ///< share of resident students studying at a regional institution
  Param enrolled_in_region_hbo;
  Param enrolled_in_region_wo;
  Param outside_students_moving_in;  ///< share of outside intake that moves into the region
  Param graduate_leave_hbo;          ///< probability that a new graduate leaves the region
  Param graduate_leave_wo;
};

struct LabourParams {
  /// Participation (labour force / persons) by education, for adults not in school or retired.
  std::array<Param, k_education_levels> participation;
  Param unemployment_rate;  ///< target rate until the labour market exists
  Param inactivity_exit;    ///< per month, inactive -> labour force (re-entry)
  Param student_job_share;  ///< students with a paid side job (counted as employed by CBS)
};

struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  Month start;
  Month end;  ///< last simulated month (inclusive)
  std::vector<ZoneSpec> zones;
  std::vector<ConstructionPlan> construction;
  std::vector<InstitutionSpec> institutions;
  std::vector<InMigrantType> in_migrant_types;
  std::vector<SectorSpec> sectors;
  /// input_coefficients[customer][supplier]: composition of intermediate inputs (rows sum to 1).
  std::vector<std::vector<double>> input_coefficients;
  std::vector<ZoneEconomy> zone_economy;  ///< per internal zone, same order as zones
  std::vector<ClusterSite> clusters;
  std::vector<ExternalZone> external_zones;
  EconomyParams economy;
  LabourMarketParams labour_market;
  CommutingParams commuting;
  DemographyParams demography;
  EducationParams education;
  LabourParams labour;
  /// Field mix of adults by education level (estimate): [level][field].
  std::array<std::array<double, k_fields>, k_education_levels> field_by_education{};

  std::string text;  ///< every file the scenario was read from, concatenated
  std::string hash;  ///< SHA-256 of text, hex

  int months() const { return end.index - start.index + 1; }
  int zone_index(const std::string& code) const;
  int sector_index(const std::string& key) const;
};

}  // namespace regio
