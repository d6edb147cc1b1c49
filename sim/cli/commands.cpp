#include "sim/cli/commands.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>

#include "output/hdf5_file.hpp"
#include "regio/version.hpp"
#include "sim/calibration.hpp"
#include "sim/cli/progress.hpp"
#include "sim/cli/summary.hpp"
#include "sim/errors.hpp"
#include "sim/model.hpp"
#include "sim/multipliers.hpp"
#include "sim/scenario_loader.hpp"

namespace regio::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string scenario_spec(const std::string& s) {
  return s.empty() ? k_default_scenario : s;
}

std::unique_ptr<tbb::global_control> limit_threads(int threads) {
  const int n = threads > 0 ? threads : tbb::info::default_concurrency();
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                               static_cast<size_t>(n));
}

int threads_in_use() {
  return static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

RunConfig config_for(const Scenario& s, std::optional<std::uint64_t> seed, std::uint32_t rep,
                     double scale, int until, bool check) {
  RunConfig c;
  c.seed = seed.value_or(s.seed);
  c.replication = rep;
  c.scale = scale;
  c.until_year = until;
#ifndef NDEBUG
  check = true;  // debug builds check the accounting invariants every step
#endif
  c.check_invariants = check;
  return c;
}

void check_run_arguments(const Scenario& s, double scale, int until) {
  if (!(scale > 0.0 && scale <= 1.0))
    throw InputError("--scale", 0, 0, "scale", fmt::format("{} is not in (0, 1]", scale));
  if (until != 0 && (until < s.start.year() || until > s.end.year()))
    throw InputError("--until", 0, 0, "until",
                     fmt::format("{} is outside the scenario period {}-{}", until, s.start.year(),
                                 s.end.year()));
}

}  // namespace

int run(const RunOptions& opt) {
  const std::string started = utc_now();
  const auto t0 = Clock::now();
  const Scenario scenario = load_scenario(scenario_spec(opt.scenario), opt.overrides);
  check_run_arguments(scenario, opt.scale, opt.until);
  const std::string out = opt.output.empty() ? scenario.name + ".h5" : opt.output;
  // Fail before a long run, not after it, when the result could not be saved.
  output::check_writable(out);

  auto threads = limit_threads(opt.threads);
  Model model(scenario,
              config_for(scenario, opt.seed, opt.replication, opt.scale, opt.until, opt.check));
  {
    Progress bar("simulating", !opt.quiet);
    model.run([&](int done, int total) {
      bar.update(done, total, Month{model.first_month() + done - 1}.str());
    });
  }
  output::Results r = observer::to_results(model);
  r.meta.program_version = k_version;
  r.meta.git_commit = k_git_commit;
  r.meta.seed = model.config().seed;
  r.meta.replication = model.config().replication;
  r.meta.scenario_name = scenario.name;
  r.meta.scenario_text = scenario.text;
  r.meta.scenario_hash = scenario.hash;
  r.meta.start_time = started;
  r.meta.threads = static_cast<std::uint32_t>(threads_in_use());
  r.meta.scale = opt.scale;
  r.meta.first_month = Month{model.first_month()}.str();
  r.meta.last_month = Month{model.last_month()}.str();
  r.meta.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  output::write_hdf5(out, r);
  if (!opt.quiet) {
    fmt::print("{}", summary_table(r));
    fmt::print("\nScenario {} (sha256 {}), seed {}, {} threads, {:.2f} s. Results: {}\n",
               scenario.name, scenario.hash.substr(0, 12), r.meta.seed, r.meta.threads,
               r.meta.wall_seconds, out);
  }
  return 0;
}

int validate(const std::string& spec) {
  const Scenario s = load_scenario(scenario_spec(spec));
  std::int64_t people = 0, homes = 0;
  for (const auto& z : s.zones) people += z.inhabitants, homes += z.dwellings;
  fmt::print("{}: valid scenario '{}'\n", spec.empty() ? k_default_scenario : spec, s.name);
  fmt::print("  period      {} .. {} ({} months)\n", s.start.str(), s.end.str(), s.months());
  fmt::print("  zones       {} ({} inhabitants, {} dwellings)\n", s.zones.size(), people, homes);
  fmt::print("  institutions {}\n", s.institutions.size());
  fmt::print("  seed        {}\n  sha256      {}\n", s.seed, s.hash);
  return 0;
}

int info(const std::string& file) {
  const output::Results r = output::read_hdf5(file);
  const auto& m = r.meta;
  fmt::print("{}\n", file);
  fmt::print("  program      regio {} (commit {})\n", m.program_version, m.git_commit);
  fmt::print("  scenario     {} (sha256 {})\n", m.scenario_name, m.scenario_hash);
  fmt::print("  period       {} .. {}\n", m.first_month, m.last_month);
  fmt::print("  seed         {} (replication {}), scale {}, threads {}\n", m.seed, m.replication,
             m.scale, m.threads);
  fmt::print("  started      {} ({:.2f} s)\n", m.start_time, m.wall_seconds);
  fmt::print("datasets:\n");
  for (const auto& d : r.datasets) {
    std::vector<std::string> shape;
    for (const auto& dim : d.dims)
      shape.push_back(fmt::format("{}={}", dim, r.axis(dim)->labels.size()));
    fmt::print("  {:<44} [{}] {}\n      {}\n", d.path, fmt::join(shape, ", "), d.units,
               d.description);
  }
  return 0;
}

int export_csv(const std::string& file, const std::string& dir) {
  const output::Results r = output::read_hdf5(file);
  const int n = output::export_csv(r, dir);
  fmt::print("wrote {} CSV files and metadata.csv to {}\n", n, dir);
  return 0;
}

int bench(const BenchOptions& opt) {
  const Scenario scenario = load_scenario(scenario_spec(opt.scenario));
  check_run_arguments(scenario, opt.scale, opt.until);
  const int max_threads = opt.threads > 0 ? opt.threads : tbb::info::default_concurrency();
  std::vector<int> configs{max_threads};
  if (max_threads > 1) configs.insert(configs.begin(), 1);
  fmt::print("regio bench: {} at scale {}, {} runs per thread count, threads {}\n", scenario.name,
             opt.scale, opt.runs, fmt::join(configs, " and "));

  struct Sample {
    double wall = 0, init = 0, steps = 0, order_flow = 0;
    int months = 0;
    std::int64_t person_steps = 0;
    size_t persons = 0, state_bytes = 0;
    std::vector<double> phases;
    std::vector<std::string> phase_names;
  };
  std::vector<std::vector<Sample>> samples(configs.size());
  // Alternate the configurations run by run so that drifts of machine speed hit both.
  for (int r = 0; r < opt.runs; ++r) {
    for (size_t c = 0; c < configs.size(); ++c) {
      auto limit = limit_threads(configs[c]);
      const auto t0 = Clock::now();
      Model model(scenario, config_for(scenario, std::nullopt, 0, opt.scale, opt.until, false));
      const auto t1 = Clock::now();
      const size_t persons0 = model.persons.size();
      model.run();
      const auto t2 = Clock::now();
      Sample s;
      s.init = std::chrono::duration<double>(t1 - t0).count();
      s.steps = std::chrono::duration<double>(t2 - t1).count();
      s.wall = s.init + s.steps;
      s.person_steps = model.person_steps;
      s.months = model.months_total();
      s.persons = persons0;
      s.state_bytes = model.persons.bytes() + model.households.bytes();
      s.phases = model.phase_times.seconds;
      s.phase_names = model.phase_times.names;
      s.order_flow = model.order_flow_seconds;
      samples[c].push_back(s);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  std::vector<double> walls_by_config;
  for (size_t c = 0; c < configs.size(); ++c) {
    const auto& ss = samples[c];
    std::vector<double> wall, init, steps, rate;
    for (const auto& s : ss) {
      wall.push_back(s.wall), init.push_back(s.init), steps.push_back(s.steps);
      rate.push_back(static_cast<double>(s.person_steps) / s.steps);
    }
    const double w = median(wall);
    walls_by_config.push_back(w);
    fmt::print("\nthreads {}: median of {} runs\n", configs[c], ss.size());
    fmt::print("  wall time          {:8.3f} s (min {:.3f}, max {:.3f})\n", w,
               *std::min_element(wall.begin(), wall.end()),
               *std::max_element(wall.begin(), wall.end()));
    fmt::print("  initial population {:8.3f} s\n", median(init));
    fmt::print("  {:<18} {:8.3f} s\n", fmt::format("{} monthly steps", ss[0].months),
               median(steps));
    fmt::print("  person-steps/s     {:8.1f} million\n", median(rate) / 1e6);
  }
  // The phases side by side: where the time goes, and which phases do not scale.
  fmt::print("\nphases (median s)");
  for (int t : configs) fmt::print("  {:>9}", fmt::format("{} thr", t));
  if (configs.size() == 2) fmt::print("  speed-up");
  fmt::print("\n");
  // Per thread count, the median over its runs of get(sample).
  auto medians = [&](const auto& get) {
    std::vector<double> med;
    for (const auto& ss : samples) {
      std::vector<double> v;
      for (const auto& s : ss) v.push_back(get(s));
      med.push_back(median(v));
    }
    return med;
  };
  const auto& names = samples[0][0].phase_names;
  for (size_t p = 0; p < names.size(); ++p) {
    const std::vector<double> med = medians([p](const Sample& s) { return s.phases[p]; });
    if (std::all_of(med.begin(), med.end(), [](double v) { return v == 0.0; })) continue;
    fmt::print("  {:<15}", names[p]);
    for (double v : med) fmt::print("  {:9.3f}", v);
    if (med.size() == 2 && med[1] > 0.0) fmt::print("  {:7.2f}x", med[0] / med[1]);
    fmt::print("\n");
  }
  // Most months' order flows run alongside the next month's phases (Model::run): their
  // time is not in the phases above, except where production waits for them.
  fmt::print("  {:<15}", "(order flows)");
  for (double v : medians([](const Sample& s) { return s.order_flow; })) fmt::print("  {:9.3f}", v);
  fmt::print("  alongside the next month's phases up to production\n");
  // (Model::step_month runs the quarterly rewiring and the goods market side by side.)
  fmt::print("  (supply_chain and goods_market run side by side: their times overlap)\n");
  const auto& s0 = samples.back().front();
  const double rss = peak_rss_mb();
  fmt::print("\npersons at start    {}\n", s0.persons);
  fmt::print("agent state         {:.1f} MB at the end ({:.0f} bytes per starting person)\n",
             s0.state_bytes / 1e6,
             static_cast<double>(s0.state_bytes) / static_cast<double>(s0.persons));
  fmt::print("peak memory (RSS)   {:.1f} MB ({:.0f} bytes per person, whole process)\n", rss,
             rss * 1024 * 1024 / static_cast<double>(s0.persons));
  if (configs.size() == 2)
    fmt::print("speed-up {} vs 1 thread: {:.2f}x (median of per-run pairs)\n", configs[1], [&] {
      std::vector<double> ratio;
      for (size_t r = 0; r < samples[0].size(); ++r)
        ratio.push_back(samples[0][r].wall / samples[1][r].wall);
      return median(ratio);
    }());
  return 0;
}

int multiplier(const MultiplierOptions& opt) {
  const Scenario scenario = load_scenario(scenario_spec(opt.scenario));
  const int sector = scenario.sector_index(opt.sector);
  if (sector < 0) {
    std::vector<std::string> keys;
    for (const auto& s : scenario.sectors) keys.push_back(s.key);
    const std::string hint = nearest_name(opt.sector, keys);
    throw InputError("--sector", 0, 0, "sector",
                     fmt::format("unknown sector '{}'{} (sectors: {})", opt.sector,
                                 hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint),
                                 fmt::join(keys, ", ")));
  }
  if (!(opt.amount > 0.0) || !std::isfinite(opt.amount))
    throw InputError("--amount", 0, 0, "amount", "must be a positive number of euros per year");
  if (opt.years < 2 || scenario.start.year() + opt.years - 1 > scenario.end.year())
    throw InputError("--years", 0, 0, "years",
                     fmt::format("must be at least 2 and fit in the scenario period {}-{}",
                                 scenario.start.year(), scenario.end.year()));
  check_run_arguments(scenario, opt.scale, 0);
  if (opt.replications < 1 || opt.replications > 1000)
    throw InputError("--replications", 0, 0, "replications", "must be between 1 and 1000");
  auto threads = limit_threads(opt.threads);
  const int until = scenario.start.year() + opt.years - 1;
  struct Totals {
    double output = 0, value_added = 0, jobs = 0, exports = 0, unemployed = 0;
  };
  // Figures over the last 12 months of a run, so the shock has worked through.
  auto run_one = [&](std::uint32_t replication, bool feedback, bool shocked) {
    Model model(scenario, config_for(scenario, opt.seed, replication, opt.scale, until, false));
    model.household_feedback = feedback;
    if (shocked) {
      // The extra demand starts in the second year: the first year sets the labour
      // market's reference tightness for wages (Model::phase_finance), which must be the
      // same in both runs of a pair, or the shock would lower its own wage pressure.
      model.extra_exports_sector = sector;
      model.extra_exports = opt.amount / 12.0 * opt.scale;
      model.extra_exports_from = model.first_month() + 12;
    }
    model.run();
    const auto& s = model.series;
    const size_t nz = model.municipalities.size(), nm = s.months.size();
    Totals t;
    for (size_t mth = nm - 12; mth < nm; ++mth)
      for (size_t z = 0; z < nz; ++z) {
        t.output += s.output[mth * nz + z];
        t.value_added += s.value_added[mth * nz + z];
        t.exports += s.exports[mth * nz + z];
      }
    for (size_t z = 0; z < nz; ++z) {
      t.jobs += s.jobs[(nm - 1) * nz + z];
      t.unemployed += s.unemployed[(nm - 1) * nz + z];
    }
    return t;
  };
  fmt::print("Multipliers of {} EUR/year extra export demand for {} ({}), {} years, scale {}\n",
             opt.amount, scenario.sectors[static_cast<size_t>(sector)].name, opt.sector, opt.years,
             opt.scale);
  // The input-output view of the model's own economy in its first month.
  IoMultipliers io[2];
  {
    const Model start(scenario, config_for(scenario, opt.seed, 0, opt.scale, until, false));
    const IoTable table = io_table(start);
    io[0] = io_multipliers(table, sector, false);
    io[1] = io_multipliers(table, sector, true);
  }
  // Paired runs per replication (common random numbers): the difference of a pair is the
  // effect; its spread over replications is the simulation noise.
  const int reps = opt.replications;
  std::vector<Totals> effect[2];  // [type II?][replication], per euro (jobs per EUR 1m)
  const double extra = opt.amount * opt.scale;  // extra export demand over the last 12 months
  {
    Progress bar("multiplier runs", true);
    int done = 0;
    for (int r = 0; r < reps; ++r)
      for (int feedback = 0; feedback < 2; ++feedback) {
        const Totals base = run_one(static_cast<std::uint32_t>(r), feedback == 1, false);
        bar.update(++done, 4 * reps);
        const Totals shock = run_one(static_cast<std::uint32_t>(r), feedback == 1, true);
        bar.update(++done, 4 * reps);
        effect[feedback].push_back(
            {(shock.output - base.output) / extra, (shock.value_added - base.value_added) / extra,
             (shock.jobs - base.jobs) / (extra / 1e6), (shock.exports - base.exports) / extra,
             (shock.unemployed - base.unemployed) / (extra / 1e6)});
      }
  }
  // Mean and standard error over the replications.
  auto stat = [&](const std::vector<Totals>& v, double Totals::*field) {
    double mean = 0.0;
    for (const auto& t : v) mean += t.*field;
    mean /= static_cast<double>(v.size());
    if (v.size() < 2) return fmt::format("{:>8.3f}        ", mean);
    double ss = 0.0;
    for (const auto& t : v) ss += (t.*field - mean) * (t.*field - mean);
    const double se =
        std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
    return fmt::format("{:>8.3f} +-{:<6.3f}", mean, se);
  };
  fmt::print("\n{:<26} {:>16} {:>16} {:>16} {:>16} {:>18}\n", "multiplier", "output", "value added",
             "jobs per EUR 1m", "exports served", "unemployed per 1m");
  for (int feedback = 0; feedback < 2; ++feedback)
    fmt::print("{:<26} {:>16.3f} {:>16.3f} {:>16.2f} {:>16} {:>18}\n",
               fmt::format("input-output, type {}", feedback ? "II" : "I"), io[feedback].output,
               io[feedback].value_added, io[feedback].jobs_per_million, "", "");
  for (int feedback = 0; feedback < 2; ++feedback) {
    const auto& v = effect[feedback];
    fmt::print("{:<26} {:>16} {:>16} {:>16} {:>16} {:>18}\n",
               fmt::format("agent-based, type {}", feedback ? "II" : "I"), stat(v, &Totals::output),
               stat(v, &Totals::value_added), stat(v, &Totals::jobs), stat(v, &Totals::exports),
               stat(v, &Totals::unemployed));
  }
  fmt::print(
      "\ntype I: household spending fixed at its starting level; type II: it follows income.\n"
      "input-output: the Leontief multipliers of the model's own regional input coefficients,\n"
      "  value-added and job ratios and household spending in the first month (no shortages).\n"
      "agent-based: changes over the last simulated year of paired runs (same seed and\n"
      "  replication, with and without the extra demand from the second year on), divided by\n"
      "  the extra demand; mean +- standard error over {} replication(s). They fall below\n"
      "  the input-output values where firms lack staff or capacity (exports served below 1)\n"
      "  or hire staff away from other regional firms; type II also moves with benefits that\n"
      "  new jobs replace (down) and with wages that a tighter labour market raises (up).\n",
      reps);
  return 0;
}

int calibrate(const std::string& spec, double scale) {
  const Scenario scenario = load_scenario(scenario_spec(spec));
  check_run_arguments(scenario, scale, 0);
  const Model model(scenario, config_for(scenario, std::nullopt, 0, scale, 0, false));
  const auto rows = calibrate(model);
  fmt::print("Calibration of {} (initial state {}, scale {})\n", scenario.name,
             scenario.start.str(), scale);
  fmt::print("{:<46} {:>12} {:>12} {:>10} {:>8}  {}\n", "target", "target", "model", "difference",
             "ok", "source");
  int missed = 0;
  for (const auto& r : rows) {
    fmt::print("{:<46} {:>12.2f} {:>12.2f} {:>+10.2f} {:>8}  {}\n", r.name, r.target, r.model,
               r.model - r.target, r.ok() ? "yes" : "MISSED", r.source);
    if (!r.ok()) ++missed;
  }
  fmt::print("{} targets, {} missed\n", rows.size(), missed);
  return missed ? 3 : 0;
}

}  // namespace regio::cli
