// The labour market of model.md section 3, every month: vacancies by level, seekers
// (unemployed residents, new graduates, some employed, outside workers from external
// zones), search weighted by travel time and wage, firms ranking applicants, several
// rounds, separations. Deterministic and parallel: seekers apply in parallel with
// counter-based random numbers; firms decide in id order.
#pragma once
#include <cstdint>

namespace regio {

class Model;

namespace labour_market {

/// Month 0: fills the positions of the initial firms with the residents whose status is
/// employed (and the working students' side jobs are not modelled as positions), then
/// with outside workers from the external zones, until every position is filled or the
/// pools are exhausted. Also places residents who work outside the region: the external
/// zones offer a share of their jobs; whoever is still unplaced when no round hires
/// anyone takes a job in the nearest external zone.
/// Needs m.commuting built and the firms built (all positions vacant). At the end it
/// recalibrates the mode constants on the resulting commuting pattern
/// (m.commuting.calibrate) and draws every commuter's mode; the caller then runs
/// m.commuting.update(m) to store the capacities and congestion of the start, and
/// open_initial_positions (which sets m.tightness).
void initial_matching(Model& m);

/// After the initial matching: opens labour_market.vacancy_rate of all positions (each
/// filled position brings an open one with probability rate / (1 - rate), drawn per
/// firm), raising the firm's expected and current demand to its positions, so that the
/// start has the open posts a labour market with a time to fill holds. Sets m.tightness.
void open_initial_positions(Model& m);

/// This month's fill rate, the chance that an open position is offered to the applicants
/// (its selection ends): labour_market.fill_rate, times (last month's tightness / the
/// first year's)^-fill_tightness, bounded to 0.5-2 times the rate and at most 1; the rate
/// itself in the first year.
double fill_rate(const Model& m);

/// One month of matching: separations already applied by the persons phase; seekers
/// apply, firms offer, seekers accept, for the scenario's number of rounds.
/// Seekers: every unemployed resident, each employed resident with probability
/// on_the_job_search, and workers of the external zones who turn to the region. Residents
/// may also take the external zones' open positions: each zone employs as many residents
/// as at the start, growing at labour_market.external_growth; the positions they leave
/// are reopened. Employers rank applicants by fit; the commute weighs on the workers'
/// side (search and the choice between offers).
/// Hires take firms' vacancies (never reopened for movers this month), set the worker's
/// job and commute mode (m.commuting.choose_mode); hired unemployed residents go through
/// persons::on_hired. Sets m.tightness = regional vacancies left / unemployed residents.
/// Bit-identical for any number of threads and any chunk size.
void match(Model& m, std::int32_t now);

}  // namespace labour_market
}  // namespace regio
