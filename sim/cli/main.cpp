// `regio`: the command line of the simulator (CLI11).
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>

#include "output/hdf5_file.hpp"
#include "regio/version.hpp"
#include "sim/cli/commands.hpp"
#include "sim/errors.hpp"
#include "sim/model.hpp"

namespace {

constexpr const char* k_examples = R"(Examples:
  regio run                                  the default region (Key Region Leiden), 2026-2046
  regio run my-scenario.yaml -o out.h5 --seed 7
  regio run --scale 0.1 --until 2030         a quick look at a 10 % sample to 2030
  regio run --set demography.total_fertility=1.6
  regio validate my-scenario.yaml            check a scenario without running it
  regio info key-region-leiden.h5            metadata and datasets of a result file
  regio export key-region-leiden.h5 --csv out/
  regio calibrate                            the default region against its calibration targets
  regio multiplier --sector lsh --amount 1e8 output and job multipliers of extra bio-science exports
  regio bench                                speed of the full default region)";

/// Starts the process again, once, with transparent huge pages for malloc's memory, where
/// the kernel gives them only on request (THP mode "madvise", Debian's default).
///
/// Why: the model reads its agents' arrays (about 200 MB) in random order: staff lists,
/// employers, households, supply links. With 4 KB pages nearly every such read also misses
/// the address translation cache; with 2 MB pages the whole working set fits in it. A full
/// run takes 10 % less time with 2 threads and 22 % less with 1 (whole processes, pairs
/// side by side), with the same results. glibc does this when its tunable
/// glibc.malloc.hugetlb=1 is set, and reads tunables only when a process starts.
///
/// Only for the commands that simulate (the exec costs about 25 ms). Not done: where
/// GLIBC_TUNABLES already mentions glibc.malloc.hugetlb (the user's choice,
/// or this function's second time; glibc.malloc.hugetlb=0 turns huge pages off); under a
/// preloaded tool (valgrind, heaptrack: the new process would run without it); in
/// AddressSanitizer builds (their allocator does not use glibc's); where the kernel gives
/// huge pages to every process or to none. If the exec fails, the run goes on as it is.
void use_huge_pages(int argc, char** argv) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && \
    !defined(__SANITIZE_ADDRESS__)
  const std::string command = argc > 1 ? argv[1] : "";
  if (command != "run" && command != "bench" && command != "multiplier" && command != "calibrate")
    return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("LD_PRELOAD") != nullptr ||
      (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr))
    return;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(thp, mode) || mode.find("[madvise]") == std::string::npos) return;
  const std::string old = tunables != nullptr ? tunables : "";
  const std::string value =
      old.empty() ? "glibc.malloc.hugetlb=1" : old + ":glibc.malloc.hugetlb=1";
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // The exec failed (no /proc, say): go on without, with the environment as it was.
  if (tunables != nullptr)
    ::setenv("GLIBC_TUNABLES", old.c_str(), 1);
  else
    ::unsetenv("GLIBC_TUNABLES");
#else
  (void)argc, (void)argv;
#endif
}

std::pair<std::string, std::string> split_override(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    throw regio::InputError("--set", 0, 0, s,
                            "expected key=value, e.g. demography.total_fertility=1.6");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

}  // namespace

int main(int argc, char** argv) {
  use_huge_pages(argc, argv);
  // The monthly phases build and drop vectors of a few MB (per-person and per-firm
  // scratch). Above glibc's default mmap threshold each of those is a fresh mapping whose
  // pages fault in again every month (about 5 % of a run); served from the heap and not
  // trimmed, they reuse memory that is already mapped. Peak memory is unchanged. One
  // arena for all threads: what a worker thread allocates (the firms, built beside the
  // persons at the start; scratch of parallel loops) then comes from the same heap, with
  // its huge pages, and is reused; a worker's own arena is given back to the system
  // whenever all of it is free, and its pages fault in again when next used (some 60 %
  // more page faults in a `regio bench`).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_ARENA_MAX, 1);
  CLI::App app{"Regio: an agent-based regional economy simulator"};
  app.footer(k_examples);
  app.set_version_flag("--version",
                       fmt::format("regio {} (commit {})", regio::k_version, regio::k_git_commit));
  app.require_subcommand(1);

  regio::cli::RunOptions run_opt;
  std::vector<std::string> sets;
  std::uint64_t seed = 0;
  auto* run = app.add_subcommand("run", "Run a scenario and write an HDF5 file of results");
  run->add_option("scenario", run_opt.scenario,
                  "scenario file or built-in name (default: key-region-leiden)");
  run->add_option("-o,--output", run_opt.output, "output file (default: <scenario name>.h5)");
  auto* seed_opt = run->add_option("--seed", seed, "random seed (default: the scenario's)")
                       ->check(CLI::NonNegativeNumber);
  run->add_option("--replication", run_opt.replication,
                  "replication number (a separate random stream)");
  run->add_option("--threads", run_opt.threads, "worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--until", run_opt.until, "last year to simulate (default: the scenario's end)");
  run->add_option("--scale", run_opt.scale,
                  "share of the population to simulate, in (0, 1] (default 1)");
  run->add_option("--set", sets, "override a scenario value: section.key=value (repeatable)");
  run->add_flag("-q,--quiet", run_opt.quiet, "no progress bar and no table");
  run->add_flag("--check", run_opt.check, "check accounting invariants every step");

  std::string validate_path;
  auto* validate =
      app.add_subcommand("validate", "Check a scenario (YAML and tables) without running it");
  validate->add_option("scenario", validate_path, "scenario file or built-in name")->required();

  std::string info_path;
  auto* info = app.add_subcommand("info", "Show the metadata and datasets of a result file");
  info->add_option("file", info_path, "HDF5 file written by regio run")->required();

  std::string export_path, export_dir;
  auto* exp = app.add_subcommand("export", "Export the datasets of a result file as CSV");
  exp->add_option("file", export_path, "HDF5 file written by regio run")->required();
  exp->add_option("--csv", export_dir, "directory for the CSV files")->required();

  regio::cli::BenchOptions bench_opt;
  auto* bench =
      app.add_subcommand("bench", "Time the full default region (medians of several runs)");
  bench->add_option("scenario", bench_opt.scenario, "scenario (default: key-region-leiden)");
  bench->add_option("--runs", bench_opt.runs, "runs per thread count (default 5)")
      ->check(CLI::PositiveNumber);
  bench->add_option("--threads", bench_opt.threads,
                    "threads of the parallel runs (default: all cores)");
  bench->add_option("--scale", bench_opt.scale, "population share (default 1)");
  bench->add_option("--until", bench_opt.until, "last year (default: the scenario's end)");

  regio::cli::MultiplierOptions mult_opt;
  std::uint64_t mult_seed = 0;
  auto* mult = app.add_subcommand(
      "multiplier", "Regional output, value added and employment multipliers of extra exports");
  mult->add_option("scenario", mult_opt.scenario, "scenario (default: key-region-leiden)");
  mult->add_option("--sector", mult_opt.sector,
                   "sector receiving the extra export demand (e.g. lsh)")
      ->required();
  mult->add_option("--amount", mult_opt.amount,
                   "extra export demand in EUR per year (default 100,000,000)");
  mult->add_option("--years", mult_opt.years, "years to simulate (default 5)");
  mult->add_option("--scale", mult_opt.scale, "population share (default 1)");
  mult->add_option("--replications", mult_opt.replications,
                   "paired runs with different random streams, for the standard error (default 3)");
  mult->add_option("--threads", mult_opt.threads, "worker threads (default: all cores)");
  auto* mult_seed_opt =
      mult->add_option("--seed", mult_seed, "random seed (default: the scenario's)")
          ->check(CLI::NonNegativeNumber);

  std::string calibrate_path;
  double calibrate_scale = 1.0;
  auto* cal =
      app.add_subcommand("calibrate", "Compare the model with the region's calibration targets");
  cal->add_option("scenario", calibrate_path, "scenario (default: key-region-leiden)");
  cal->add_option("--scale", calibrate_scale, "population share (default 1)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*run) {
      if (*seed_opt) run_opt.seed = seed;
      for (const auto& s : sets) run_opt.overrides.push_back(split_override(s));
      return regio::cli::run(run_opt);
    }
    if (*validate) return regio::cli::validate(validate_path);
    if (*info) return regio::cli::info(info_path);
    if (*exp) return regio::cli::export_csv(export_path, export_dir);
    if (*bench) return regio::cli::bench(bench_opt);
    if (*cal) return regio::cli::calibrate(calibrate_path, calibrate_scale);
    if (*mult) {
      if (*mult_seed_opt) mult_opt.seed = mult_seed;
      return regio::cli::multiplier(mult_opt);
    }
  } catch (const regio::InputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const regio::output::OutputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error: {}\n", e.what());
    return 1;
  }
  return 1;
}
