// Tests of output/: HDF5 round trip, atomic writing, input validation, reading errors,
// CSV export, and that independent tools (h5py, h5dump) read the files.
#include <hdf5.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "output/hdf5_file.hpp"
#include "output/results.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using regio::output::Axis;
using regio::output::Dataset;
using regio::output::OutputError;
using regio::output::Results;

namespace {

using regio::testing::TempDir;

using regio::testing::read_text;

void write_text(const fs::path& path, const std::string& text) {
  REQUIRE(regio::testing::write_text(path, text));
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

/// Exit status of a shell command, or -1 if it did not exit normally.
int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

/// Random doubles over all bit patterns except NaN: huge, tiny, subnormal, negative,
/// signed zeros and infinities included.
std::vector<double> random_doubles(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> out;
  while (out.size() < n) {
    const double v = std::bit_cast<double>(rng());
    if (!std::isnan(v)) out.push_back(v);
  }
  return out;
}

/// Random integral doubles across the whole int64 range.
std::vector<double> random_integers(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto bits = static_cast<std::int64_t>(rng());
    out.push_back(static_cast<double>(bits >> (rng() % 63)));  // spread over magnitudes
  }
  return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](double x, double y) {
           return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
         });
}

const std::string kScenarioText =
    "name: key-region-leiden\n"
    "extends: base\n"
    "zones: [Leiden, Oegstgeest, \"Katwijk, aan Zee\"]\n"
    "note: ’s-Gravenhage is outside; ümlauts survive\n";

/// A small but complete Results: metadata, four axes, integer and double datasets.
Results small_results() {
  Results r;
  r.meta.program_version = "0.1.0";
  r.meta.git_commit = "0123456789ab";
  r.meta.seed = 0xFEDCBA9876543210ULL;  // above 2^63: needs the full uint64
  r.meta.replication = 3;
  r.meta.scenario_name = "key-region-leiden";
  r.meta.scenario_text = kScenarioText;
  r.meta.scenario_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  r.meta.start_time = "2026-01-05T09:30:00Z";
  r.meta.wall_seconds = 12.5;
  r.meta.threads = 8;
  r.meta.scale = 0.1;
  r.meta.first_month = "2026-01";
  r.meta.last_month = "2027-12";
  r.axes.push_back({"year", {"2026", "2027"}, "calendar year"});
  r.axes.push_back({"zone", {"Leiden", "Katwijk, aan Zee", "’s-Gravenhage"}, "municipality"});
  r.axes.push_back({"age_group", {"0-17", "18-64", "65+"}, "age in years"});
  r.axes.push_back({"unused", {"a"}, "an axis no dataset uses"});
  Dataset pop;
  pop.path = "/demography/population";
  pop.dims = {"year", "zone", "age_group"};
  pop.units = "persons";
  pop.description = "residents on 1 January";
  pop.integer = true;
  for (int i = 0; i < 18; ++i) pop.values.push_back(1000.0 * i - 5000.0);
  r.datasets.push_back(pop);
  Dataset gdp;
  gdp.path = "/economy/gdp";
  gdp.dims = {"year", "zone"};
  gdp.units = "EUR";
  gdp.description = "gross regional product, prices of 2026";
  gdp.values = {1.5e9, -0.0, 0.1, 1e300, -2.5e-310, 42.0};
  r.datasets.push_back(gdp);
  return r;
}

void require_same(const Results& got, const Results& want) {
  const auto& a = got.meta;
  const auto& b = want.meta;
  CHECK(a.program_version == b.program_version);
  CHECK(a.git_commit == b.git_commit);
  CHECK(a.seed == b.seed);
  CHECK(a.replication == b.replication);
  CHECK(a.scenario_name == b.scenario_name);
  CHECK(a.scenario_text == b.scenario_text);
  CHECK(a.scenario_hash == b.scenario_hash);
  CHECK(a.start_time == b.start_time);
  CHECK(std::bit_cast<std::uint64_t>(a.wall_seconds) ==
        std::bit_cast<std::uint64_t>(b.wall_seconds));
  CHECK(a.threads == b.threads);
  CHECK(std::bit_cast<std::uint64_t>(a.scale) == std::bit_cast<std::uint64_t>(b.scale));
  CHECK(a.first_month == b.first_month);
  CHECK(a.last_month == b.last_month);

  REQUIRE(got.axes.size() == want.axes.size());
  for (std::size_t i = 0; i < want.axes.size(); ++i) {
    INFO("axis " << want.axes[i].name);
    CHECK(got.axes[i].name == want.axes[i].name);
    CHECK(got.axes[i].labels == want.axes[i].labels);
    CHECK(got.axes[i].description == want.axes[i].description);
  }
  REQUIRE(got.datasets.size() == want.datasets.size());
  for (std::size_t i = 0; i < want.datasets.size(); ++i) {
    const Dataset& g = got.datasets[i];
    const Dataset& w = want.datasets[i];
    INFO("dataset " << w.path);
    CHECK(g.path == w.path);
    CHECK(g.dims == w.dims);
    CHECK(g.units == w.units);
    CHECK(g.description == w.description);
    CHECK(g.integer == w.integer);
    CHECK(g.values.size() == w.values.size());
    CHECK(same_bits(g.values, w.values));
  }
}

/// Writes a minimal HDF5 file that is not a Regio results file (or is one of another version).
void write_foreign_hdf5(const fs::path& path, const char* format, int format_version) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(file >= 0);
  const hid_t space = H5Screate(H5S_SCALAR);
  if (format != nullptr) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t attr = H5Acreate2(file, "format", type, space, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Awrite(attr, type, &format) >= 0);
    H5Aclose(attr);
    H5Tclose(type);
  }
  if (format_version != 0) {
    const hid_t attr =
        H5Acreate2(file, "format_version", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Awrite(attr, H5T_NATIVE_INT, &format_version) >= 0);
    H5Aclose(attr);
  }
  H5Sclose(space);
  REQUIRE(H5Fclose(file) >= 0);
}

}  // namespace

TEST_CASE("Results::axis and Results::dataset find entries by name", "[output]") {
  const Results r = small_results();
  REQUIRE(r.axis("zone") != nullptr);
  CHECK(r.axis("zone")->labels.size() == 3);
  CHECK(r.axis("month") == nullptr);
  REQUIRE(r.dataset("/economy/gdp") != nullptr);
  CHECK(r.dataset("/economy/gdp")->units == "EUR");
  CHECK(r.dataset("economy/gdp") == nullptr);
}

TEST_CASE("write_hdf5 then read_hdf5 returns the same results bit for bit", "[output]") {
  TempDir dir;
  const fs::path file = dir / "run.h5";
  Results r = small_results();
  r.meta.scenario_text = kScenarioText + std::string(200000, 'x') + "\nend, \"done\"\n";

  // Large enough to be chunked and compressed.
  r.axes.push_back({"cell", numbered("c", 5000), ""});
  r.axes.push_back({"nothing", {}, "an empty axis"});
  Dataset random;
  random.path = "/stress/random_doubles";
  random.dims = {"year", "cell"};
  random.units = "1";
  random.values = random_doubles(2 * 5000, 42);
  r.datasets.push_back(random);
  Dataset ints;
  ints.path = "/stress/random_integers";
  ints.dims = {"cell"};
  ints.integer = true;
  ints.values = random_integers(5000, 7);
  ints.values[0] = -9223372036854775808.0;  // int64 minimum
  ints.values[1] = 9223372036854774784.0;   // largest double below 2^63
  ints.values[2] = -1.0;
  ints.values[3] = 0.0;
  r.datasets.push_back(ints);
  Dataset deep;
  deep.path = "/stress/deeper/still/deeper";
  deep.dims = {"zone", "zone"};  // one axis on two dimensions, as for flows between zones
  deep.integer = true;
  deep.values = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  r.datasets.push_back(deep);
  Dataset scalar;
  scalar.path = "/summary/total";
  scalar.description = "a scalar: no dims";
  scalar.values = {-123.456};
  r.datasets.push_back(scalar);
  Dataset empty;
  empty.path = "/summary/empty";
  empty.dims = {"year", "nothing"};
  r.datasets.push_back(empty);

  write_hdf5(file, r);
  CHECK(names_in(dir.path()) == std::set<std::string>{"run.h5"});
  const Results back = regio::output::read_hdf5(file);
  // Groups keep creation order, so the order written (grouped by group) is the order read.
  require_same(back, r);

  SECTION("writing again replaces the file") {
    Results other = small_results();
    other.meta.seed = 1;
    other.datasets.pop_back();
    write_hdf5(file, other);
    require_same(regio::output::read_hdf5(file), other);
    CHECK(names_in(dir.path()) == std::set<std::string>{"run.h5"});
  }
}

TEST_CASE("write_hdf5 rejects inconsistent results and creates nothing", "[output]") {
  TempDir dir;
  const fs::path file = dir / "run.h5";
  Results r = small_results();
  std::string expected;  // part of the message

  SECTION("values do not match the axes") {
    r.datasets[0].values.pop_back();
    expected = "has 17 values but its axes (year=2 x zone=3 x age_group=3) need 18";
  }
  SECTION("unknown axis") {
    r.datasets[1].dims[1] = "province";
    expected = "axis 'province', which is not defined";
  }
  SECTION("duplicate dataset path") {
    r.datasets.push_back(r.datasets[1]);
    expected = "'/economy/gdp' appears twice";
  }
  SECTION("duplicate axis") {
    r.axes.push_back(r.axes[0]);
    expected = "axis 'year' is defined twice";
  }
  SECTION("relative path") {
    r.datasets[1].path = "economy/gdp";
    expected = "must start with '/'";
  }
  SECTION("empty path component") {
    r.datasets[1].path = "/economy//gdp";
    expected = "empty, '.' or '..' component";
  }
  SECTION("dataset under /axes") {
    r.datasets[1].path = "/axes/gdp";
    expected = "reserved for the axes";
  }
  SECTION("a dataset is also a group") {
    r.datasets[1].path = "/demography/population/by_zone";
    expected = "'/demography/population' is a dataset but also the group";
  }
  SECTION("axis name with a comma") {
    r.axes[3].name = "a,b";
    expected = "axis name 'a,b'";
  }
  SECTION("fractional value in an integer dataset") {
    r.datasets[0].values[4] = 2.5;
    expected = "value 2.5 at index 4";
  }
  SECTION("NaN in an integer dataset") {
    r.datasets[0].values[0] = std::numeric_limits<double>::quiet_NaN();
    expected = "at index 0, not an int64";
  }
  SECTION("integer beyond int64") {
    r.datasets[0].values[0] = 9223372036854775808.0;
    expected = "at index 0, not an int64";
  }
  try {
    write_hdf5(file, r);
    FAIL("write_hdf5 accepted invalid results");
  } catch (const OutputError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(contains(message, file.string()));
    CHECK(contains(message, expected));
  }
  CHECK(names_in(dir.path()).empty());
}

TEST_CASE("a failed write leaves the existing file untouched and no temporary file", "[output]") {
  TempDir dir;
  const fs::path file = dir / "run.h5";
  write_hdf5(file, small_results());
  const std::string before = read_text(file);
  REQUIRE(!before.empty());

  SECTION("invalid dataset size") {
    Results bad = small_results();
    bad.meta.seed = 99;
    bad.datasets[1].values.push_back(1.0);
    CHECK_THROWS_AS(write_hdf5(file, bad), OutputError);
  }

  SECTION("the disk fills up in the middle of writing") {
    // A child process limited to 64 KiB per file writes ~1.6 MB: the write fails midway.
    Results big = small_results();
    big.axes.push_back({"cell", numbered("c", 100000), ""});
    Dataset random;
    random.path = "/stress/random";
    random.dims = {"year", "cell"};
    random.values = random_doubles(200000, 3);
    big.datasets.push_back(random);

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      ::signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{64 * 1024, 64 * 1024};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      int code = 3;
      std::string message;
      try {
        write_hdf5(file, big);
        code = 1;
      } catch (const OutputError& e) {
        message = e.what();
        code = 0;
      } catch (...) {
        code = 2;
      }
      const ssize_t written = ::write(fds[1], message.data(), message.size());
      static_cast<void>(written);
      ::_exit(code);
    }
    ::close(fds[1]);
    std::string message;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, n);
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("child message: " << message);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);  // 0: OutputError, 1: no error, 2: another exception
    CHECK(contains(message, file.string()));
    CHECK(contains(message, std::strerror(EFBIG)));
  }

  CHECK(read_text(file) == before);
  CHECK(names_in(dir.path()) == std::set<std::string>{"run.h5"});
  CHECK(regio::output::read_hdf5(file).meta.seed == small_results().meta.seed);
}

TEST_CASE("check_writable finds unwritable paths without creating anything", "[output]") {
  TempDir dir;
  using regio::output::check_writable;

  CHECK_NOTHROW(check_writable(dir / "new.h5"));
  write_text(dir / "old.h5", "old");
  CHECK_NOTHROW(check_writable(dir / "old.h5"));
  CHECK(read_text(dir / "old.h5") == "old");

  const fs::path missing = dir / "missing" / "run.h5";
  CHECK_THROWS_WITH(check_writable(missing),
                    Catch::Contains("does not exist") && Catch::Contains(missing.string()));
  CHECK_THROWS_AS(check_writable(missing), OutputError);

  fs::create_directory(dir / "sub");
  CHECK_THROWS_WITH(check_writable(dir / "sub"), Catch::Contains("is a directory"));
  CHECK_THROWS_AS(check_writable(dir / "sub"), OutputError);

  write_text(dir / "plain", "x");
  CHECK_THROWS_WITH(check_writable(dir / "plain" / "run.h5"), Catch::Contains("not a directory"));

  if (::geteuid() != 0) {  // root may write anywhere
    const fs::path locked = dir / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH(check_writable(locked / "run.h5"), Catch::Contains("not writable"));
    fs::permissions(locked, fs::perms::owner_all);
  }
  std::set<std::string> names = names_in(dir.path());
  names.erase("locked");
  CHECK(names == std::set<std::string>{"old.h5", "plain", "sub"});
}

TEST_CASE("read_hdf5 rejects missing, non-HDF5 and foreign files", "[output]") {
  TempDir dir;
  using regio::output::read_hdf5;

  CHECK_THROWS_WITH(read_hdf5(dir / "missing.h5"),
                    Catch::Contains("does not exist") && Catch::Contains("missing.h5"));
  CHECK_THROWS_WITH(read_hdf5(dir.path()), Catch::Contains("is a directory"));

  write_text(dir / "text.h5", "year,value\n2026,1\n");
  CHECK_THROWS_WITH(read_hdf5(dir / "text.h5"),
                    Catch::Contains("not an HDF5 file") && Catch::Contains("text.h5"));
  write_text(dir / "empty.h5", "");
  CHECK_THROWS_AS(read_hdf5(dir / "empty.h5"), OutputError);

  write_hdf5(dir / "good.h5", small_results());
  const std::string good = read_text(dir / "good.h5");
  write_text(dir / "truncated.h5", good.substr(0, good.size() / 2));
  CHECK_THROWS_WITH(read_hdf5(dir / "truncated.h5"), Catch::Contains("truncated.h5"));
  CHECK_THROWS_AS(read_hdf5(dir / "truncated.h5"), OutputError);

  write_foreign_hdf5(dir / "plain.h5", nullptr, 0);
  CHECK_THROWS_WITH(read_hdf5(dir / "plain.h5"), Catch::Contains("no 'format' attribute"));
  write_foreign_hdf5(dir / "other.h5", "netcdf-like", 1);
  CHECK_THROWS_WITH(read_hdf5(dir / "other.h5"), Catch::Contains("format is 'netcdf-like'"));
  write_foreign_hdf5(dir / "future.h5", "regio-results", 2);
  CHECK_THROWS_WITH(read_hdf5(dir / "future.h5"), Catch::Contains("format_version 2"));
  CHECK_THROWS_AS(read_hdf5(dir / "future.h5"), OutputError);
}

TEST_CASE("export_csv writes one long-format file per dataset and the metadata", "[output]") {
  TempDir dir;
  const fs::path out = dir / "csv" / "nested";  // created by export_csv
  Results r;
  r.meta = small_results().meta;
  r.axes.push_back({"year", {"2026", "2027"}, ""});
  r.axes.push_back({"zone", {"Leiden", "Katwijk, aan Zee", "De \"Kaag\""}, ""});
  Dataset pop;
  pop.path = "/demography/population";
  pop.dims = {"year", "zone"};
  pop.integer = true;
  pop.values = {1, 2, 3, -4, 5, 9007199254740992.0};
  r.datasets.push_back(pop);
  Dataset rate;
  rate.path = "/rate";
  rate.dims = {"zone"};
  rate.values = {0.1, -2.5, 1e+20};
  r.datasets.push_back(rate);

  CHECK(regio::output::export_csv(r, out) == 2);
  CHECK(names_in(out) ==
        std::set<std::string>{"demography__population.csv", "metadata.csv", "rate.csv"});
  CHECK(read_text(out / "demography__population.csv") ==
        "year,zone,value\n"
        "2026,Leiden,1\n"
        "2026,\"Katwijk, aan Zee\",2\n"
        "2026,\"De \"\"Kaag\"\"\",3\n"
        "2027,Leiden,-4\n"
        "2027,\"Katwijk, aan Zee\",5\n"
        "2027,\"De \"\"Kaag\"\"\",9007199254740992\n");
  CHECK(read_text(out / "rate.csv") ==
        "zone,value\n"
        "Leiden,0.1\n"
        "\"Katwijk, aan Zee\",-2.5\n"
        "\"De \"\"Kaag\"\"\",1e+20\n");
  CHECK(read_text(out / "metadata.csv") ==
        "key,value\n"
        "format,regio-results\n"
        "format_version,1\n"
        "program_version,0.1.0\n"
        "git_commit,0123456789ab\n"
        "seed,18364758544493064720\n"
        "replication,3\n"
        "scenario_name,key-region-leiden\n"
        "scenario_hash,9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
        "start_time,2026-01-05T09:30:00Z\n"
        "wall_seconds,12.5\n"
        "threads,8\n"
        "scale,0.1\n"
        "first_month,2026-01\n"
        "last_month,2027-12\n"
        "scenario,\"name: key-region-leiden\n"
        "extends: base\n"
        "zones: [Leiden, Oegstgeest, \"\"Katwijk, aan Zee\"\"]\n"
        "note: ’s-Gravenhage is outside; ümlauts survive\n"
        "\"\n");
}

TEST_CASE("export_csv writes doubles that read back exactly", "[output]") {
  TempDir dir;
  Results r;
  r.axes.push_back({"i", numbered("", 2000), ""});
  Dataset d;
  d.path = "/x";
  d.dims = {"i"};
  d.values = random_doubles(2000, 11);
  r.datasets.push_back(d);
  REQUIRE(regio::output::export_csv(r, dir.path()) == 1);
  std::istringstream in(read_text(dir / "x.csv"));
  std::string line;
  std::getline(in, line);
  CHECK(line == "i,value");
  std::vector<double> back;
  while (std::getline(in, line)) {
    back.push_back(std::strtod(line.substr(line.find(',') + 1).c_str(), nullptr));
  }
  CHECK(same_bits(back, d.values));
}

TEST_CASE("export_csv refuses datasets that would share a file", "[output]") {
  TempDir dir;
  Results r = small_results();
  Dataset clash = r.datasets[0];
  clash.path = "/demography__population";
  r.datasets.push_back(clash);
  CHECK_THROWS_WITH(regio::output::export_csv(r, dir / "csv"),
                    Catch::Contains("demography__population.csv"));
  Dataset meta = r.datasets[1];
  meta.path = "/metadata";
  r.datasets.back() = meta;
  CHECK_THROWS_WITH(regio::output::export_csv(r, dir / "csv"), Catch::Contains("metadata.csv"));
  CHECK_FALSE(fs::exists(dir / "csv"));
}

TEST_CASE("concurrent writes from several threads all succeed", "[output]") {
  TempDir dir;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        Results r = small_results();
        r.meta.replication = static_cast<std::uint32_t>(t);
        const fs::path file = dir / ("rep" + std::to_string(t) + ".h5");
        for (int i = 0; i < 5; ++i) write_hdf5(file, r);
        if (regio::output::read_hdf5(file).meta.replication != r.meta.replication) ++failures;
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(names_in(dir.path()).size() == 4);
}

TEST_CASE("h5py reads the attributes and the dimension scales", "[output][external]") {
  if (run("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
    WARN("skipped: /usr/bin/python3 with h5py is not available");
    return;
  }
  TempDir dir;
  const fs::path file = dir / "run.h5";
  write_hdf5(file, small_results());
  write_text(dir / "check.py", R"PY(
import sys
import h5py
import numpy as np

f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert a["format"] == "regio-results", a["format"]
assert int(a["format_version"]) == 1
assert int(a["seed"]) == 0xFEDCBA9876543210, a["seed"]
assert a["seed"].dtype == np.uint64
assert int(a["replication"]) == 3 and int(a["threads"]) == 8
assert a["scenario_name"] == "key-region-leiden"
assert a["scenario"].startswith("name: key-region-leiden\n")
assert "ümlauts" in a["scenario"]
assert float(a["scale"]) == 0.1 and float(a["wall_seconds"]) == 12.5
for key in ("program_version", "git_commit", "scenario_hash", "start_time",
            "first_month", "last_month"):
    assert isinstance(a[key], str), key

pop = f["/demography/population"]
assert pop.dtype == np.int64
assert pop.shape == (2, 3, 3)
assert pop.attrs["dims"] == "year,zone,age_group"
assert pop.attrs["units"] == "persons"
assert pop.attrs["description"] == "residents on 1 January"
assert [d.label for d in pop.dims] == ["year", "zone", "age_group"]
assert pop.dims[0][0].name == "/axes/year"
assert list(pop.dims[1][0].asstr()[()]) == ["Leiden", "Katwijk, aan Zee", "’s-Gravenhage"]
assert pop[1, 2, 2] == 12000
gdp = f["/economy/gdp"]
assert gdp.dtype == np.float64
assert gdp.dims[1][0].name == "/axes/zone"
assert gdp[0, 2] == 0.1 and gdp[1, 2] == 42.0
assert f["/axes/zone"].attrs["description"] == "municipality"
print("ok")
)PY");
  const fs::path log = dir / "python.log";
  const int rc = run("/usr/bin/python3 '" + (dir / "check.py").string() + "' '" + file.string() +
                     "' >'" + log.string() + "' 2>&1");
  INFO(read_text(log));
  CHECK(rc == 0);
}

TEST_CASE("h5dump -H reads the file", "[output][external]") {
  if (run("command -v h5dump >/dev/null 2>&1") != 0) {
    WARN("skipped: h5dump is not available");
    return;
  }
  TempDir dir;
  const fs::path file = dir / "run.h5";
  write_hdf5(file, small_results());
  const fs::path log = dir / "h5dump.log";
  const int rc = run("h5dump -H '" + file.string() + "' >'" + log.string() + "' 2>&1");
  const std::string header = read_text(log);
  INFO(header);
  CHECK(rc == 0);
  CHECK(contains(header, "ATTRIBUTE \"format\""));
  CHECK(contains(header, "GROUP \"axes\""));
  CHECK(contains(header, "DIMENSION_LIST"));
}
