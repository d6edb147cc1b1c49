// Tests of the `regio` command line: the real binary is run with its standard output and
// error captured to files, and exit codes, messages and written files are checked.
// Runs are small (--scale 0.02 --until 2027) so that the whole file takes seconds.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "output/hdf5_file.hpp"
#include "output/results.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string k_small = " --scale 0.02 --until 2027";
const char* const k_python = "/usr/bin/python3";
const std::vector<std::string> k_municipalities = {
    "Leiden", "Katwijk", "Noordwijk", "Leiderdorp", "Oegstgeest", "Voorschoten", "Zoeterwoude"};

using regio::testing::TempDir;

using regio::testing::read_text;

void write_text(const fs::path& path, const std::string& text) {
  REQUIRE(regio::testing::write_text(path, text));
}

/// `s` quoted for the POSIX shell.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
std::string quote(const fs::path& p) {
  return quote(p.string());
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

struct Run {
  int code = -1;  ///< exit code, or -1 if the process did not exit normally
  std::string out;
  std::string err;
};

/// A temporary working directory in which `regio` is run; its output is captured in a
/// sibling directory so that the working directory holds only what regio wrote.
class Sandbox {
 public:
  Sandbox() {
    fs::create_directories(work());
    fs::create_directories(dir_ / "capture");
  }
  fs::path work() const { return dir_ / "work"; }
  fs::path operator/(const std::string& name) const { return work() / name; }

  /// Runs `regio <args>` (args already quoted as needed) in work().
  Run regio(const std::string& args) {
    const int n = count_++;
    const fs::path out = dir_ / "capture" / ("stdout-" + std::to_string(n));
    const fs::path err = dir_ / "capture" / ("stderr-" + std::to_string(n));
    const std::string cmd = "cd " + quote(work()) + " && " + quote(std::string(REGIO_BINARY)) +
                            " " + args + " >" + quote(out) + " 2>" + quote(err) + " </dev/null";
    const int status = std::system(cmd.c_str());
    Run r;
    r.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(out);
    r.err = read_text(err);
    UNSCOPED_INFO("regio " << args << "\nexit code " << r.code << "\nstdout:\n"
                           << r.out << "\nstderr:\n"
                           << r.err);
    return r;
  }

  /// Runs a shell command (not regio) in work(); returns its exit code and output.
  Run shell(const std::string& cmd) {
    const int n = count_++;
    const fs::path out = dir_ / "capture" / ("stdout-" + std::to_string(n));
    const fs::path err = dir_ / "capture" / ("stderr-" + std::to_string(n));
    const std::string full =
        "cd " + quote(work()) + " && " + cmd + " >" + quote(out) + " 2>" + quote(err);
    const int status = std::system(full.c_str());
    Run r;
    r.code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
  }

 private:
  TempDir dir_;
  int count_ = 0;
};

/// A scenario that extends the default and has one unknown key (line 3).
const char* const k_bad_scenario =
    "# extends the default with a misspelt key\n"
    "extends: key-region-leiden\n"
    "sede: 7\n";

bool h5py_available() {
  const std::string cmd = std::string(k_python) + " -c 'import h5py' >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// True if the two results hold the same axes and datasets, values compared bit for bit.
bool same_data(const regio::output::Results& a, const regio::output::Results& b,
               std::string& first_difference) {
  if (a.axes.size() != b.axes.size()) return first_difference = "number of axes", false;
  for (size_t i = 0; i < a.axes.size(); ++i)
    if (a.axes[i].name != b.axes[i].name || a.axes[i].labels != b.axes[i].labels)
      return first_difference = "axis " + a.axes[i].name, false;
  if (a.datasets.size() != b.datasets.size()) return first_difference = "number of datasets", false;
  for (size_t i = 0; i < a.datasets.size(); ++i) {
    const auto& x = a.datasets[i];
    const auto& y = b.datasets[i];
    if (x.path != y.path || x.dims != y.dims || x.units != y.units || x.integer != y.integer ||
        x.values.size() != y.values.size())
      return first_difference = "dataset " + x.path + " (shape or attributes)", false;
    if (!x.values.empty() &&
        std::memcmp(x.values.data(), y.values.data(), x.values.size() * sizeof(double)) != 0)
      return first_difference = "dataset " + x.path + " (values)", false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Arguments

TEST_CASE("regio --version", "[cli]") {
  Sandbox box;
  const Run r = box.regio("--version");
  CHECK(r.code == 0);
  CHECK_THAT(r.out, StartsWith("regio "));
}

TEST_CASE("regio --help", "[cli]") {
  Sandbox box;
  const Run r = box.regio("--help");
  CHECK(r.code == 0);
  for (const char* word : {"run", "validate", "info", "export", "bench"})
    CHECK_THAT(r.out, Contains(word));
  CHECK_THAT(r.out, Contains("Examples:"));
  CHECK_THAT(r.out, Contains("regio run --scale 0.1 --until 2030"));
}

TEST_CASE("regio without a subcommand or with an unknown option exits with 2", "[cli]") {
  Sandbox box;
  SECTION("no subcommand") {
    const Run r = box.regio("");
    CHECK(r.code == 2);
    CHECK_FALSE(r.err.empty());
  }
  SECTION("an unknown option alone") {
    const Run r = box.regio("--frobnicate");
    CHECK(r.code == 2);
    CHECK_FALSE(r.err.empty());
  }
  SECTION("an unknown option before a subcommand") {
    const Run r = box.regio("--frobnicate validate key-region-leiden");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("--frobnicate"));
    CHECK(r.out.empty());
  }
  SECTION("an unknown option of run") {
    const Run r = box.regio("run --frobnicate -o x.h5");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("frobnicate"));
    CHECK(names_in(box.work()).empty());
  }
  SECTION("an unknown subcommand") {
    const Run r = box.regio("frobnicate");
    CHECK(r.code == 2);
  }
  SECTION("a run count of 0 for bench") {
    const Run r = box.regio("bench --runs 0");
    CHECK(r.code == 2);
  }
}

// ---------------------------------------------------------------------------------------------
// validate

TEST_CASE("regio validate", "[cli]") {
  Sandbox box;
  SECTION("the default scenario") {
    const Run r = box.regio("validate key-region-leiden");
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Contains("valid scenario 'key-region-leiden'"));
    CHECK_THAT(r.out, Contains("7 (331849 inhabitants"));
  }
  SECTION("a scenario with an unknown key") {
    write_text(box / "bad.yaml", k_bad_scenario);
    const Run r = box.regio("validate bad.yaml");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("bad.yaml:3:"));
    CHECK_THAT(r.err, Contains("key 'sede'"));
    CHECK_THAT(r.err, Contains("did you mean 'seed'"));
    CHECK(r.out.empty());
  }
  SECTION("a missing scenario") {
    const Run r = box.regio("validate no-such-scenario.yaml");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("no-such-scenario.yaml"));
  }
}

// ---------------------------------------------------------------------------------------------
// run, info, export

TEST_CASE("regio run --quiet writes one HDF5 file that info and export read", "[cli]") {
  Sandbox box;
  const Run r = box.regio("run" + k_small + " -o X.h5 --quiet");
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());
  CHECK(fs::is_regular_file(box / "X.h5"));
  CHECK(names_in(box.work()) == std::set<std::string>{"X.h5"});  // no temporary files left

  const Run info = box.regio("info X.h5");
  CHECK(info.code == 0);
  CHECK_THAT(info.out, Contains("datasets:"));
  CHECK_THAT(info.out, Contains("/demography/population"));
  CHECK_THAT(info.out, Contains("[month=24, zone=7] persons"));
  CHECK_THAT(info.out, Contains("key-region-leiden (sha256 "));
  CHECK_THAT(info.out, Contains("2026-01 .. 2027-12"));
  CHECK_THAT(info.out, Contains("seed         20260101"));
  CHECK_THAT(info.out, Contains("scale 0.02"));

  const Run exp = box.regio("export X.h5 --csv csv");
  CHECK(exp.code == 0);
  CHECK_THAT(exp.out, Contains("CSV files"));
  REQUIRE(fs::is_directory(box / "csv"));
  const auto files = names_in(box / "csv");
  CHECK(files.count("demography__population.csv") == 1);
  CHECK(files.count("metadata.csv") == 1);
  CHECK(files.size() > 2);
  const std::string pop = read_text(box / "csv" / "demography__population.csv");
  CHECK_THAT(pop, StartsWith("month,zone,value\n"));
  CHECK_THAT(pop, Contains("\n2026-01,Leiden,"));
  CHECK_THAT(pop, Contains("\n2027-12,Zoeterwoude,"));
  // 24 months x 7 zones and the header.
  CHECK(std::count(pop.begin(), pop.end(), '\n') == 24 * 7 + 1);
}

TEST_CASE("regio run without --quiet prints a table of the municipalities", "[cli]") {
  Sandbox box;
  const Run r = box.regio("run" + k_small + " -o out.h5");
  REQUIRE(r.code == 0);
  for (const auto& name : k_municipalities) CHECK_THAT(r.out, Contains(name));
  CHECK_THAT(r.out, Contains("2026"));
  CHECK_THAT(r.out, Contains("2027"));
  CHECK_THAT(r.out, Contains("region"));
  CHECK_THAT(r.out, Contains("Jobs (by job zone), unemployment and commuting"));
  CHECK_THAT(r.out, Contains("Firms (by zone): establishments, start-ups and exits, exports"));
  CHECK_THAT(r.out, Contains("average wage (EUR a month"));
  CHECK_THAT(r.out, Contains("regional sourcing"));
  CHECK_THAT(r.out, Contains("Results: out.h5"));
  CHECK(fs::is_regular_file(box / "out.h5"));
}

TEST_CASE("regio run without -o names the file after the scenario", "[cli]") {
  Sandbox box;
  const Run r = box.regio("run" + k_small + " -q");
  REQUIRE(r.code == 0);
  CHECK(names_in(box.work()) == std::set<std::string>{"key-region-leiden.h5"});
}

TEST_CASE("regio run of a bad scenario exits with 2 and writes nothing", "[cli]") {
  Sandbox box;
  write_text(box / "bad.yaml", k_bad_scenario);
  SECTION("no output file is created") {
    const Run r = box.regio("run bad.yaml" + k_small + " -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("bad.yaml:3:"));
    CHECK_THAT(r.err, Contains("key 'sede'"));
    CHECK(names_in(box.work()) == std::set<std::string>{"bad.yaml"});
  }
  SECTION("an existing output file keeps its bytes") {
    const std::string precious = "an earlier result \x01\x02\x03, not to be touched\n";
    write_text(box / "out.h5", precious);
    const Run r = box.regio("run bad.yaml" + k_small + " -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK(read_text(box / "out.h5") == precious);
    CHECK(names_in(box.work()) == std::set<std::string>{"bad.yaml", "out.h5"});
  }
}

TEST_CASE("regio run to an unwritable output exits with 2 before running", "[cli]") {
  Sandbox box;
  SECTION("a directory that does not exist") {
    const Run r = box.regio("run" + k_small + " -o no-such-dir/out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("no-such-dir/out.h5"));
    CHECK(names_in(box.work()).empty());
  }
  SECTION("a path that is a directory") {
    fs::create_directory(box / "results");
    const Run r = box.regio("run" + k_small + " -o results -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("'results'"));
    CHECK(fs::is_directory(box / "results"));
    CHECK(names_in(box / "results").empty());
    CHECK(names_in(box.work()) == std::set<std::string>{"results"});
  }
}

TEST_CASE("regio run rejects bad --scale, --until and --set values with 2", "[cli]") {
  Sandbox box;
  SECTION("--scale 0") {
    const Run r = box.regio("run --scale 0 --until 2027 -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("--scale"));
  }
  SECTION("--scale 2") {
    const Run r = box.regio("run --scale 2 --until 2027 -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("--scale"));
  }
  SECTION("--scale abc") {
    const Run r = box.regio("run --scale abc --until 2027 -o out.h5 -q");
    CHECK(r.code == 2);
  }
  SECTION("--until 1990") {
    const Run r = box.regio("run --scale 0.02 --until 1990 -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("--until"));
    CHECK_THAT(r.err, Contains("1990"));
  }
  SECTION("--until after the scenario's end") {
    const Run r = box.regio("run --scale 0.02 --until 2047 -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("2047"));
  }
  SECTION("--set with a value that is not a number") {
    const Run r = box.regio("run" + k_small + " --set demography.total_fertility=abc -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("demography.total_fertility"));
    CHECK_THAT(r.err, Contains("'abc'"));
  }
  SECTION("--set without '='") {
    const Run r = box.regio("run" + k_small + " --set demography.total_fertility -o out.h5 -q");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("demography.total_fertility"));
  }
  CHECK(names_in(box.work()).empty());
}

TEST_CASE("regio run --set changes the scenario", "[cli]") {
  Sandbox box;
  REQUIRE(box.regio("run" + k_small + " -o base.h5 -q").code == 0);
  REQUIRE(box.regio("run" + k_small + " --set demography.total_fertility=3 -o set.h5 -q").code ==
          0);
  const auto base = regio::output::read_hdf5(box / "base.h5");
  const auto set = regio::output::read_hdf5(box / "set.h5");
  CHECK(base.meta.scenario_hash != set.meta.scenario_hash);
  CHECK_THAT(set.meta.scenario_text, Contains("demography.total_fertility: 3"));
  const auto* b = base.dataset("/demography/births");
  const auto* s = set.dataset("/demography/births");
  REQUIRE(b);
  REQUIRE(s);
  double births_base = 0, births_set = 0;
  for (double v : b->values) births_base += v;
  for (double v : s->values) births_set += v;
  CHECK(births_set > births_base);
}

TEST_CASE("regio info and export of a missing or non-HDF5 file exit with 2", "[cli]") {
  Sandbox box;
  write_text(box / "notes.h5", "this is not an HDF5 file\n");
  SECTION("info of a missing file") {
    const Run r = box.regio("info missing.h5");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("missing.h5"));
  }
  SECTION("info of a file that is not HDF5") {
    const Run r = box.regio("info notes.h5");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("notes.h5"));
  }
  SECTION("export to a path that is a file") {
    REQUIRE(box.regio("run" + k_small + " -o X.h5 -q").code == 0);
    const Run r = box.regio("export X.h5 --csv notes.h5");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("notes.h5"));
    CHECK(read_text(box / "notes.h5") == "this is not an HDF5 file\n");
  }
  SECTION("export of a missing file") {
    const Run r = box.regio("export missing.h5 --csv csv");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("missing.h5"));
    CHECK_FALSE(fs::exists(box / "csv"));
  }
}

TEST_CASE("regio bench", "[cli]") {
  Sandbox box;
  const Run r = box.regio("bench" + k_small + " --runs 1");
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("wall time"));
  CHECK_THAT(r.out, Contains("person-steps/s"));
  CHECK_THAT(r.out, Contains("phases (median s)"));
  CHECK_THAT(r.out, Contains("labour_market"));
  CHECK_THAT(r.out, Contains("supply_chain"));  // the quarterly rewiring, on its own line
  CHECK_THAT(r.out, Contains("(order flows)"));
  CHECK(names_in(box.work()).empty());
}

namespace {

/// Minor page faults of `regio run` (scale 0.3, one month of 2026) in `dir`, with
/// GLIBC_TUNABLES set to `tunables` (or unset: nullptr) and no LD_PRELOAD; the run must
/// succeed.
long run_faults(const fs::path& dir, const char* tunables) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "GLIBC_TUNABLES=", 15) != 0 && std::strncmp(*e, "LD_PRELOAD=", 11) != 0)
      env.emplace_back(*e);
  if (tunables != nullptr) env.push_back(std::string("GLIBC_TUNABLES=") + tunables);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string binary = REGIO_BINARY, out = (dir / "faults.h5").string();
  std::vector<std::string> args = {binary, "run",     "--scale", "0.3", "--until",
                                   "2026", "--quiet", "-o",      out};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &quiet, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&quiet);
  REQUIRE(rc == 0);
  int status = 0;
  rusage usage{};
  REQUIRE(wait4(pid, &status, 0, &usage) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return usage.ru_minflt;
}

}  // namespace

TEST_CASE("regio run uses transparent huge pages where the kernel gives them on request", "[cli]") {
  // (sim/cli/main.cpp: the process starts again with glibc.malloc.hugetlb=1.) Each 2 MB
  // page is one page fault instead of 512.
#if defined(__SANITIZE_ADDRESS__)
  WARN("AddressSanitizer build: its allocator does not use glibc's; not tested");
  return;
#endif
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(thp, mode) || mode.find("[madvise]") == std::string::npos) {
    WARN("transparent huge pages are not in madvise mode here (" << mode << "): not tested");
    return;
  }
  TempDir dir;
  const long huge = run_faults(dir.path(), nullptr);
  const long off = run_faults(dir.path(), "glibc.malloc.hugetlb=0");  // the user's choice wins
  const long appended = run_faults(dir.path(), "glibc.malloc.arena_max=8");
  INFO("page faults: default " << huge << ", hugetlb=0 " << off << ", other tunables " << appended);
  CHECK(huge < off / 2);
  CHECK(appended < off / 2);
}

TEST_CASE("regio multiplier", "[cli][multipliers]") {
  Sandbox box;
  SECTION("input-output and agent-based multipliers with standard errors") {
    const Run r =
        box.regio("multiplier --sector lsh --amount 2e7 --years 2 --scale 0.03 --replications 2");
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Contains("input-output, type I"));
    CHECK_THAT(r.out, Contains("input-output, type II"));
    CHECK_THAT(r.out, Contains("agent-based, type II"));
    CHECK_THAT(r.out, Contains("+-"));
    CHECK(names_in(box.work()).empty());
  }
  SECTION("an unknown sector is named with a suggestion") {
    const Run r = box.regio("multiplier --sector lhs --amount 1e7 --scale 0.03");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("unknown sector 'lhs'"));
    CHECK_THAT(r.err, Contains("did you mean 'lsh'"));
  }
  SECTION("bad amounts, years and replications") {
    for (const char* args :
         {"--amount -5", "--amount nan", "--years 1", "--years 40", "--replications 0"}) {
      const Run r = box.regio(std::string("multiplier --sector lsh --scale 0.03 ") + args);
      INFO(args);
      CHECK(r.code == 2);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The result file

TEST_CASE("the result file is readable by h5py", "[cli][h5py]") {
  if (!h5py_available()) {
    WARN("skipped: " << k_python << " cannot import h5py");
    return;
  }
  Sandbox box;
  REQUIRE(box.regio("run" + k_small + " -o X.h5 -q").code == 0);
  const auto results = regio::output::read_hdf5(box / "X.h5");
  write_text(
      box / "check.py",
      "import sys, h5py\n"
      "def text(v):\n"
      "    return v.decode() if isinstance(v, bytes) else str(v)\n"
      "with h5py.File(sys.argv[1], 'r') as f:\n"
      "    for name in ('seed', 'scenario_hash', 'scenario'):\n"
      "        assert name in f.attrs, 'missing root attribute ' + name\n"
      "    d = f['/demography/population']\n"
      "    print('seed=%d' % int(f.attrs['seed']))\n"
      "    print('hash=' + text(f.attrs['scenario_hash']))\n"
      "    print('scenario_has_name=%s' % ('key-region-leiden' in text(f.attrs['scenario'])))\n"
      "    print('units=' + text(d.attrs['units']))\n"
      "    print('dims=' + text(d.attrs['dims']))\n"
      "    print('shape=%s' % (d.shape,))\n"
      "    print('sum=%d' % int(d[0, :].sum()))\n");
  const Run r = box.shell(std::string(k_python) + " check.py X.h5");
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("seed=20260101\n"));
  CHECK_THAT(r.out, Contains("hash=" + results.meta.scenario_hash + "\n"));
  CHECK(results.meta.scenario_hash.size() == 64);
  CHECK_THAT(r.out, Contains("scenario_has_name=True\n"));
  CHECK_THAT(r.out, Contains("units=persons\n"));
  CHECK_THAT(r.out, Contains("dims=month,zone\n"));
  CHECK_THAT(r.out, Contains("shape=(24, 7)\n"));
  const auto* pop = results.dataset("/demography/population");
  REQUIRE(pop);
  double first_month = 0;
  for (size_t z = 0; z < 7; ++z) first_month += pop->values[z];
  CHECK_THAT(r.out, Contains("sum=" + std::to_string(static_cast<long long>(first_month)) + "\n"));
}

TEST_CASE("runs are reproducible across thread counts and differ across seeds", "[cli]") {
  Sandbox box;
  REQUIRE(box.regio("run" + k_small + " --seed 11 --threads 1 -o t1.h5 -q").code == 0);
  REQUIRE(box.regio("run" + k_small + " --seed 11 --threads 2 -o t2.h5 -q").code == 0);
  REQUIRE(box.regio("run" + k_small + " --seed 12 --threads 2 -o s12.h5 -q").code == 0);
  const auto t1 = regio::output::read_hdf5(box / "t1.h5");
  const auto t2 = regio::output::read_hdf5(box / "t2.h5");
  const auto s12 = regio::output::read_hdf5(box / "s12.h5");

  CHECK(t1.meta.seed == 11u);
  CHECK(t2.meta.seed == 11u);
  CHECK(s12.meta.seed == 12u);
  CHECK(t1.meta.threads == 1u);
  CHECK(t2.meta.threads == 2u);
  CHECK(t1.meta.scenario_hash == t2.meta.scenario_hash);
  REQUIRE_FALSE(t1.datasets.empty());

  std::string difference;
  const bool same = same_data(t1, t2, difference);
  INFO("first difference between the thread counts: " << difference);
  CHECK(same);

  std::string seed_difference;
  CHECK_FALSE(same_data(t1, s12, seed_difference));
  CHECK_THAT(seed_difference, Contains("(values)"));
}

// ---------------------------------------------------------------------------------------------
// Edge cases of the command line: tiny samples, negative seeds, short bench runs.

TEST_CASE("regio run at a tiny but valid --scale does not crash", "[cli]") {
  Sandbox box;
  // At this scale some municipalities get no inhabitants at all.
  const Run r = box.regio("run --scale 0.00001 --until 2027 -o tiny.h5 -q");
  CHECK((r.code == 0 || r.code == 2));
  if (r.code == 2) {
    CHECK_THAT(r.err, Contains("--scale"));
    CHECK(names_in(box.work()).empty());
  }
}

TEST_CASE("regio run rejects a negative --seed", "[cli]") {
  Sandbox box;
  const Run r = box.regio("run" + k_small + " --seed -1 -o out.h5 -q");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("--seed"));
  CHECK(names_in(box.work()).empty());
}

TEST_CASE("regio bench reports the number of months actually simulated", "[cli]") {
  Sandbox box;
  const Run r = box.regio("bench" + k_small + " --runs 1");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("24 monthly steps"));  // 2026-01 .. 2027-12
  CHECK_THAT(r.out, !Contains("252 monthly steps"));
}
