#include "sim/labour_market.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sim/model.hpp"
#include "sim/parallel.hpp"
#include "sim/prefetch.hpp"
#include "sim/sampling.hpp"

namespace regio::labour_market {

// Why tightness: with more vacancies per unemployed each post draws fewer applicants and
// takes longer to fill (the matching function); the outside workers would otherwise fill
// any post at the same pace however tight the region's market. Relative to the first
// year, as for wages and in-migration: the rate is calibrated to the start.
double fill_rate(const Model& m) {
  const auto& lm = m.scenario().labour_market;
  const double base = lm.fill_rate;
  const double ref = m.tightness_reference;
  if (!(ref > 0.0) || !(lm.fill_tightness > 0.0)) return base;
  const double relative = std::max(m.tightness, 1e-6) / ref;
  const double factor = std::clamp(std::pow(relative, -lm.fill_tightness), 0.5, 2.0);
  return std::min(1.0, base * factor);
}

namespace {

/// Openings per month per job in an external zone: labour turnover (estimate). The
/// openings an outside worker weighs against the region's.
constexpr double k_external_turnover = 0.01;
/// Initial matching: openings offered to residents by each external zone, as a share of
/// its jobs. Tuned (with labour_market.time_sensitivity) so that the initial commuting
/// pattern matches the region's: an average home-work distance of about 20 km and about
/// 30 % of Leiden's jobs held by Leiden residents (27 % in the model).
constexpr double k_initial_external_share = 0.22;
/// Initial matching: rounds are repeated while anyone is hired, at most this many.
constexpr int k_initial_max_rounds = 200;
/// Longest drawn job of an outside worker (months); the exponential tail is cut there.
constexpr double k_max_job_months = 600.0;
/// Person ids per block of the on-the-job search draws.
constexpr std::uint32_t k_id_block = 1024;
/// Seekers per parallel work item (results do not depend on it).
constexpr size_t k_grain = 256;

// Keys of the counter-based draws: agent = purpose << 56 | round << 48 | who, with `who`
// a person id, an id block, an outside-seeker key or an outside worker id (< 2^48).
enum Purpose : std::uint64_t {
  k_apply = 1,            ///< a seeker's applications in one round
  k_on_the_job = 2,       ///< which employed residents of an id block search this month
  k_outside_seekers = 4,  ///< rounding of an external zone's seekers
  k_job_length = 5,       ///< an outside worker's job duration (and origin, education)
  k_screening = 6,        ///< how many of a seeker's applications pass, every round of a month
  k_outside_fields = 7,   ///< fields of an external zone's seekers of one level
  k_initial = 0x80,       ///< or-ed into the purpose during the initial matching
};
constexpr std::uint64_t k_outside_seeker_key = std::uint64_t{1} << 40;
/// Mode draws (commuting stream) of outside workers: their id with this bit, or the
/// seeker key with k_seeker_mode_bit; never equal to a person id.
constexpr std::uint64_t k_outside_worker_bit = std::uint64_t{1} << 40;
constexpr std::uint64_t k_seeker_mode_bit = std::uint64_t{1} << 44;
/// Mode draws of the initial matching carry this bit (the first month's matching uses
/// the same month).
constexpr std::uint64_t k_initial_mode_bit = std::uint64_t{1} << 45;
/// The draws of the positions open at the start (vacancies stream) carry this bit; the
/// monthly draws are keyed by the level (bits 32-33) and the firm id.
constexpr std::uint64_t k_initial_vacancies_bit = std::uint64_t{1} << 40;
static_assert(k_initial_vacancies_bit > (std::uint64_t{k_education_levels} << 32));

std::uint64_t agent_key(std::uint64_t purpose, std::uint64_t who, int round) {
  return (purpose << 56) | (static_cast<std::uint64_t>(round) << 48) | who;
}

Rng draw(const Model& m, std::uint64_t purpose, std::uint64_t who, int round, std::int32_t now) {
  return m.rng(Stream::labour_market, agent_key(purpose, who, round), now);
}

/// A well-mixed 32-bit number from a uniform draw's bits: the applicant's lottery
/// ticket, a keyed random number for ties that costs no further draw.
std::uint32_t ticket(double u) {
  std::uint64_t z = std::bit_cast<std::uint64_t>(u) + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

enum class Kind : std::uint8_t {
  unemployed,  ///< resident without a job, looking
  on_the_job,  ///< employed resident looking for a better job
  outside,     ///< worker from an external zone (becomes an outside worker when hired)
  placing,     ///< employed resident without a job yet (initial matching; else a safety net)
};

struct Seeker {
  std::uint64_t key = 0;           ///< person id, or k_outside_seeker_key | zone | level | k
  std::uint32_t person = k_none;   ///< person index (residents)
  std::uint32_t current = k_none;  ///< firm index of the current job (on the job)
  double current_value = 0.0;      ///< wage minus commuting cost of the current job
  std::uint16_t origin = 0;        ///< home zone (external zones after the internal ones)
  std::uint8_t education = 0;
  Kind kind = Kind::unemployed;
  std::uint8_t field = 0;  ///< field of education
};

/// Open positions of one level at one employer: a regional firm or an external zone.
struct Opening {
  std::uint32_t firm = k_none;  ///< firm index, k_none for an external zone's openings
  std::uint64_t tie = 0;        ///< firm id, or 2^32 + external zone (ties between offers)
  double wage = 0.0;
  std::int32_t vacancies = 0;
  std::uint16_t zone = 0;  ///< job zone (external zones after the internal ones)
  std::uint8_t level = 0;
  std::int8_t field = -1;  ///< the field the post asks for (sector's, mbo and up), or -1
};

struct Application {
  std::uint32_t opening = k_none;
  std::uint32_t ticket = 0;
  double score = 0.0;        ///< the employer's view: the applicant's fit (level and field)
  std::uint32_t seeker = 0;  ///< position among the round's active seekers
};

/// An application as the employer ranks it.
struct Rank {
  double score;
  std::uint32_t ticket;
  std::uint32_t app;     ///< application number (see Market::apply_all)
  std::uint32_t seeker;  ///< position among the round's active seekers
};

/// One slot of an alias table: the slot's own item below the threshold, else its alias.
struct Alias {
  double threshold = 1.0;
  std::uint32_t self = 0, alias = 0;
};

/// The item an alias table's slot gives for `f` (the draw's fraction within the slot).
/// Branch-free: which of the two it is is a coin toss a branch would often mispredict,
/// after a load from the table.
std::uint32_t alias_pick(const Alias& a, double f) {
  const std::uint32_t own = 0u - static_cast<std::uint32_t>(f < a.threshold);
  return (a.self & own) | (a.alias & ~own);
}

/// Where a cell's openings with vacancies sit in the openings' alias table, and what a
/// seeker needs to know of the cell.
struct CellSlots {
  std::uint32_t begin = 0, count = 0;
  std::uint16_t zone = 0;
  std::uint8_t level = 0;
};

/// Bytes of `x` that are zero, as their high bits (exact, no carries between bytes).
std::uint64_t zero_bytes(std::uint64_t x) {
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
  return ~(((x & low7) + low7) | x) & ~low7;
}

/// Appends the indices in [b, e) of alive unemployed persons to `out` (in order) and
/// returns the number of alive employed ones; sixteen (SSE2) or eight persons per step.
std::int64_t scan_statuses(const PersonStore& ps, size_t b, size_t e,
                           std::vector<std::uint32_t>& out) {
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  const auto unemployed = static_cast<std::uint64_t>(Status::unemployed);
  const auto employed = static_cast<std::uint64_t>(Status::employed);
  std::int64_t working = 0;
  size_t i = b;
#if defined(__SSE2__)
  // Sixteen persons per step: byte compares, the unemployed as a bit mask, the employed
  // counted per byte lane (flushed before a lane can overflow).
  {
    const __m128i want_idle = _mm_set1_epi8(static_cast<char>(unemployed));
    const __m128i want_work = _mm_set1_epi8(static_cast<char>(employed));
    const __m128i zero = _mm_setzero_si128();
    __m128i lanes = zero;
    int steps = 0;
    for (; i + 16 <= e; i += 16) {
      const __m128i st = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&ps.status[i]));
      const __m128i dead =
          _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&ps.alive[i])), zero);
      auto idle = static_cast<std::uint32_t>(
          _mm_movemask_epi8(_mm_andnot_si128(dead, _mm_cmpeq_epi8(st, want_idle))));
      lanes = _mm_sub_epi8(lanes, _mm_andnot_si128(dead, _mm_cmpeq_epi8(st, want_work)));
      if (++steps == 255) {
        const __m128i sums = _mm_sad_epu8(lanes, zero);
        working += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
        lanes = zero;
        steps = 0;
      }
      for (; idle; idle &= idle - 1)
        out.push_back(static_cast<std::uint32_t>(i + std::countr_zero(idle)));
    }
    const __m128i sums = _mm_sad_epu8(lanes, zero);
    working += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
  }
#endif
  for (; i + 8 <= e; i += 8) {
    std::uint64_t status, alive;
    std::memcpy(&status, &ps.status[i], 8);
    std::memcpy(&alive, &ps.alive[i], 8);
    const std::uint64_t live = zero_bytes(alive) ^ (ones << 7);  // alive is 0 or 1
    std::uint64_t idle = zero_bytes(status ^ (ones * unemployed)) & live;
    // Count of the marked bytes (high bits) without a popcount instruction: the bytes of
    // mask >> 7 are 0 or 1, and the product adds them up in the top byte.
    working += static_cast<std::int64_t>(
        (((zero_bytes(status ^ (ones * employed)) & live) >> 7) * ones) >> 56);
    for (; idle; idle &= idle - 1)
      out.push_back(static_cast<std::uint32_t>(i + std::countr_zero(idle) / 8));
  }
  for (; i < e; ++i) {
    if (!ps.alive[i]) continue;
    if (ps.status[i] == unemployed) out.push_back(static_cast<std::uint32_t>(i));
    working += ps.status[i] == employed;
  }
  return working;
}

/// The market's work buffers. They carry no state from one month to the next, only
/// their memory: a Model keeps them in its labour-market workspace.
struct Buffers {
  std::vector<Seeker> seekers;
  /// P(at most k of a seeker's applications pass the screening), k = 0..applications - 1.
  std::vector<double> passes_cdf_;
  /// Per seeker and round: how many of its applications pass the screening.
  std::vector<std::uint8_t> passes_;
  std::vector<double> decay_;         ///< exp(-time sensitivity x expected minutes) per pair
  std::vector<double> commute_cost_;  ///< generalised commuting cost per month per pair
  std::vector<double> minutes_;       ///< expected minutes per pair
  std::vector<Opening> openings_;
  std::vector<std::uint32_t> cell_of_;  ///< per opening, until index_cells
  std::vector<std::uint32_t> cell_begin_;
  std::vector<std::uint16_t> cell_zone_;
  std::vector<std::uint8_t> cell_level_;
  std::vector<double> cell_wage_;  ///< wage relative to the average position's
  // Per round.
  std::vector<double> cell_total_;  ///< open positions per cell
  std::vector<CellSlots> cell_slots_;
  std::vector<Alias> open_table_;  ///< per cell (cell_slots_): its openings by vacancies
  std::vector<std::uint32_t> row_begin_, row_count_;  ///< per (origin, education): its cells
  std::vector<Alias> row_table_;
  std::vector<double> row_total_;
  std::vector<std::uint32_t> open_cells_;  ///< cells with open positions this round
  /// Per seeker: hired (or placed) this month. Apart from the seekers: each round's
  /// first step reads it for every seeker still looking, and a byte each is a fraction
  /// of the seekers' records to stream.
  std::vector<std::uint8_t> done_;
  std::vector<std::uint32_t> active_;   ///< seekers still looking, in seeker order
  std::vector<std::uint32_t> working_;  ///< of those, the ones applying this round
  /// Per chunk of active seekers: their applications this round, in seeker order.
  std::vector<std::vector<Application>> app_buckets_;
  std::vector<std::uint32_t> app_offset_;  ///< per chunk: number of its first application
  std::vector<std::uint8_t> app_count_;    ///< per active seeker: applications made
  std::vector<std::uint32_t> app_first_;   ///< per active seeker: its first, in its bucket
  std::vector<std::uint32_t> by_opening_begin_, fill_;  ///< the counting sort by opening
  std::vector<Rank> ranks_;
  std::vector<Opening> sorted_;  ///< work list of index_cells
  /// Per chunk of persons: the unemployed, the on-the-job searchers, their seekers.
  struct Part {
    std::vector<std::uint32_t> idle, picked;
    std::vector<Seeker> seekers;
    std::int64_t working = 0;
  };
  std::vector<Part> parts_;
  /// Per chunk of firms: their openings and the openings' cells.
  std::vector<std::pair<std::vector<Opening>, std::vector<std::uint32_t>>> firm_parts_;
  using Levels64 = std::array<std::int64_t, k_education_levels>;
  std::vector<Levels64> firm_positions_;  ///< per chunk of firms: positions by level
  std::vector<std::int64_t> firm_held_;   ///< per chunk of firms: positions not offered
  std::vector<std::uint8_t> offered_;
  /// A hire decided in a round, made by the hiring task (see Market::round), with what
  /// making it needs of the seeker and the opening: the task runs while the next round
  /// marks its own hires in the seekers and openings, and reading those from the other
  /// core would pull their cache lines back and forth between the cores.
  struct Hire {
    std::uint32_t person;  ///< the seeker's person index (residents)
    std::uint32_t firm;    ///< the opening's firm index, k_none for an external zone
    double job_months;     ///< the job's length (outside workers)
    std::uint16_t origin;  ///< the seeker's home zone
    std::uint16_t zone;    ///< the job's zone
    std::uint8_t education, level;
    Kind kind;
    Mode mode;
  };
  /// The hires of the even and the odd rounds: one list is made while the other's hires
  /// are being made.
  std::array<std::vector<Hire>, 2> hires_;
  /// Per chunk of a round's active seekers: its hires in seeker order, the opening of
  /// each, and how many of them were unemployed.
  struct ChunkHires {
    std::vector<Hire> hires;
    std::vector<std::uint32_t> openings;
    std::int64_t unemployed = 0;
    std::int64_t field_posts = 0, field_matched = 0;  ///< see Market::field_posts
  };
  std::vector<ChunkHires> chunk_hires_;

  /// Empties every buffer (keeping its memory); chunk lists keep theirs inside.
  void clear() {
    seekers.clear(), passes_cdf_.clear(), passes_.clear(), decay_.clear(), commute_cost_.clear();
    minutes_.clear(), openings_.clear(), cell_of_.clear(), cell_begin_.clear();
    cell_zone_.clear(), cell_level_.clear(), cell_wage_.clear(), cell_total_.clear();
    firm_positions_.clear(), firm_held_.clear();
    cell_slots_.clear(), open_table_.clear(), row_begin_.clear(), row_count_.clear();
    row_table_.clear(), row_total_.clear(), open_cells_.clear(), active_.clear();
    working_.clear();
    app_offset_.clear(), app_count_.clear(), app_first_.clear(), by_opening_begin_.clear();
    fill_.clear(), ranks_.clear(), sorted_.clear(), offered_.clear();
    hires_[0].clear(), hires_[1].clear();
  }
};

}  // namespace

/// Kept by the Model between months (see Model::labour_workspace).
struct Workspace {
  Buffers buffers;
};

namespace {

void delete_workspace(Workspace* w) {
  delete w;
}

Workspace& workspace(Model& m) {
  if (!m.labour_workspace) m.labour_workspace = {new Workspace, &delete_workspace};
  return *m.labour_workspace;
}

/// One month's (or the initial) market: openings grouped in cells (regional: zone,
/// sector, level; external: zone, level), the seekers, and the rounds.
class Market : public Buffers {
 public:
  /// Takes the workspace's buffers (emptied, capacity kept) and gives them back.
  Market(Model& m, std::int32_t now, bool initial);
  ~Market();
  Market(const Market&) = delete;
  Market& operator=(const Market&) = delete;
  /// The month's resident seekers: every unemployed resident, employed residents
  /// without a job, and the employed who search on the job this month; also counts the
  /// residents' jobs in the external zones.
  void gather_residents();
  /// The employed residents, all to be placed (initial matching).
  void gather_employed();
  /// Every alive firm's vacancies become openings; also sets the level mix of the
  /// region's positions and the wages relative to the average (needed from here on).
  void add_firms();
  /// Initial matching: openings in each external zone for the residents, jobs x scale x
  /// `share` by the region's level mix.
  void add_external_initial(double share);
  /// Monthly: the positions each external zone holds for the region's residents (its
  /// number at the start, growing at labour_market.external_growth) that they do not
  /// hold now, by the level mix of the start.
  void add_external_monthly();
  void add_external_opening(int e, int l, std::int32_t n);
  /// Finishes the cell index (after the add_* calls).
  void index_cells();
  /// Cell weights for every origin and education from the current vacancies.
  void refresh_weights();
  /// Workers of the external zones who apply to the region this month (after
  /// refresh_weights).
  void gather_outside(std::vector<Seeker>& out) const;
  /// How many of each seeker's applications pass the employer's screening, every round
  /// of the month, for the seekers from `from` on (after they are gathered; not needed
  /// without screening).
  void draw_passes(size_t from);
  /// One round of applications, offers and acceptances; returns the hires. The round
  /// settles its hires in the market (vacancies, seekers) and leaves the hires in the
  /// model's records to a task that runs while the next round is decided.
  std::int64_t round(int r);
  /// Waits for the hires of the rounds to be made in the model's records.
  void finish_hires();
  /// Employed residents still without a job take one in the nearest external zone.
  void place_rest_outside();
  /// Creates outside workers for every regional vacancy left (initial matching).
  void fill_with_outside_workers();
  /// Regional vacancies still open: among the openings, and those not offered.
  std::int64_t regional_vacancies_left() const;

  std::int64_t unemployed = 0;  ///< unemployed residents, kept current by the hires
  std::int64_t held_back = 0;   ///< firms' open positions not offered this month
  /// Hires into regional posts that ask for a field, and of those the ones from that field.
  std::int64_t field_posts = 0, field_matched = 0;
  bool placing = false;  ///< some seekers are Kind::placing (see gather_residents)
  /// Whether seeker i was hired or placed this month (after the first round).
  bool done(size_t i) const { return done_[i] != 0; }

 private:
  std::uint64_t purpose(std::uint64_t p) const { return initial_ ? (p | k_initial) : p; }
  size_t zi(int o, int d) const { return static_cast<size_t>(o) * zones_ + d; }
  double screening_ = 1.0;      ///< share of applications passing the employer's screening
  bool weights_fresh_ = false;  ///< the search weights reflect the current vacancies
  double fit(int education, int level) const {
    return education == level ? 1.0 : 1.0 - 0.5 * penalty_;
  }
  /// The employer's fit of an applicant of `field` for a post asking for `wanted` (-1: any).
  double field_fit(int field, int wanted) const {
    return wanted < 0 || field == wanted ? 1.0 : 1.0 - field_penalty_;
  }
  void apply_all(const std::vector<std::uint32_t>& active, int r);
  /// Vose's alias method over the weights of table[b..e) (in `threshold`, summing to
  /// `total`, items in `self`): a draw then takes one comparison.
  static void build_alias(std::vector<Alias>& table, std::uint32_t b, std::uint32_t e, double total,
                          std::vector<std::uint32_t>& small, std::vector<std::uint32_t>& large);
  /// Makes a round's hires in the model's records: the employers' side (staff lists,
  /// counters, a mover's old job) one by one in seeker order, then the hired residents'
  /// own updates (commute mode; status and labour schedule of the formerly unemployed).
  void make_hires(const std::vector<Hire>& hires);
  /// make_hires' employers' side for the initial matching, whose seekers all hold a job
  /// to be placed (Kind::placing: no old job, no outside worker): in parallel by firm.
  void make_initial_hires(const std::vector<Hire>& hires);
  /// The hired residents' own updates (commute mode; status and labour schedule).
  void set_modes_and_status(const std::vector<Hire>& hires);
  /// The employer's side of one hire.
  void hire(const Hire& h);
  /// Creates an outside worker holding a job of `level` at firm f for `months` (drawn
  /// with the quit rate).
  void new_outside_worker(int external, int education, int level, size_t f, double months,
                          Mode mode);
  /// Outside worker index o (a new record) comes from external zone `external` to a job
  /// at firm f; `counted`: with the shared counter (outside_employed_by) and the note of
  /// the job's end (Model::schedule_outside_leave), else the caller makes both.
  void start_outside_worker(size_t o, int external, int education, int level, size_t f,
                            double months, Mode mode, bool counted);
  /// How long a new outside worker's job lasts: exponential with the quit rate, at least
  /// one month (the draw `rng` gives).
  double job_months(Rng& rng) const;

  Model& m_;
  std::int32_t now_;
  bool initial_;
  int nz_, ne_, zones_, ns_;
  int applications_;
  int rounds_ = 1;
  double time_sensitivity_, penalty_;
  double field_penalty_ = 0.0;
  std::vector<std::int8_t> field_of_;  ///< per sector: the field its skilled posts ask for
  double mean_wage_all_ = 1.0;
  std::array<double, k_education_levels> level_mix_{}, level_wage_{}, education_mix_{};
  double growth_ = 1.0;  ///< external markets' size relative to the start
  // Cells: regional (zone, sector, level), then external (zone, level).
  int cells_ = 0, regional_cells_ = 0;
  Workspace& ws_;
  /// Runs make_hires for one round at a time, in round order.
  tbb::task_group hiring_;
};

Market::Market(Model& m, std::int32_t now, bool initial)
    : m_(m), now_(now), initial_(initial), ws_(workspace(m)) {
  static_cast<Buffers&>(*this) = std::move(ws_.buffers);
  Buffers::clear();
  const Scenario& sc = m.scenario();
  nz_ = m.internal_zones();
  ne_ = static_cast<int>(sc.external_zones.size());
  zones_ = nz_ + ne_;
  ns_ = static_cast<int>(sc.sectors.size());
  const auto& lm = sc.labour_market;
  applications_ = std::max(1, static_cast<int>(std::lround(lm.applications.value)));
  rounds_ =
      initial ? k_initial_max_rounds : std::max(1, static_cast<int>(std::lround(lm.rounds.value)));
  time_sensitivity_ = lm.time_sensitivity;
  penalty_ = lm.overqualification_penalty;
  field_penalty_ = lm.field_penalty;
  field_of_.resize(static_cast<size_t>(ns_));
  for (int k = 0; k < ns_; ++k)
    field_of_[static_cast<size_t>(k)] =
        static_cast<std::int8_t>(sc.sectors[static_cast<size_t>(k)].field);
  // The initial matching places the employed of the starting state: no screening.
  screening_ = initial ? 1.0 : lm.screening_pass.value;
  {
    // Binomial(applications, screening_) distribution function.
    const int n = applications_;
    const double q = std::clamp(screening_, 0.0, 1.0);
    double pk = std::pow(1.0 - q, n), sum = 0.0;  // P(K = 0)
    for (int k = 0; k < n; ++k) {
      sum += pk;
      passes_cdf_.push_back(sum);
      pk *= q < 1.0 ? static_cast<double>(n - k) / static_cast<double>(k + 1) * q / (1.0 - q) : 0.0;
    }
  }
  const Commuting& c = m.commuting;
  const size_t pairs = static_cast<size_t>(zones_) * zones_;
  decay_.resize(pairs), commute_cost_.resize(pairs), minutes_.resize(pairs);
  const double trips = Commuting::k_trips_per_day * Commuting::k_working_days;
  for (int o = 0; o < zones_; ++o)
    for (int d = 0; d < zones_; ++d) {
      minutes_[zi(o, d)] = c.expected_minutes(o, d);
      decay_[zi(o, d)] = std::exp(-time_sensitivity_ * c.expected_minutes(o, d));
      commute_cost_[zi(o, d)] = trips * c.expected_cost(o, d);
    }
  for (int l = 0; l < k_education_levels; ++l) level_wage_[l] = m.mean_wage(l);
  // Workers of the external zones: the internal zones' average education mix.
  for (const auto& z : sc.zones)
    for (int l = 0; l < k_education_levels; ++l)
      education_mix_[l] += z.education_shares[l] / static_cast<double>(sc.zones.size());

  regional_cells_ = nz_ * ns_ * k_education_levels;
  cells_ = regional_cells_ + ne_ * k_education_levels;
  cell_zone_.resize(static_cast<size_t>(cells_));
  cell_level_.resize(static_cast<size_t>(cells_));
  for (int z = 0; z < nz_; ++z)
    for (int s = 0; s < ns_; ++s)
      for (int l = 0; l < k_education_levels; ++l) {
        const size_t cell = (static_cast<size_t>(z) * ns_ + s) * k_education_levels + l;
        cell_zone_[cell] = static_cast<std::uint16_t>(z);
        cell_level_[cell] = static_cast<std::uint8_t>(l);
      }
  for (int e = 0; e < ne_; ++e)
    for (int l = 0; l < k_education_levels; ++l) {
      const size_t cell = static_cast<size_t>(regional_cells_) + e * k_education_levels + l;
      cell_zone_[cell] = static_cast<std::uint16_t>(nz_ + e);
      cell_level_[cell] = static_cast<std::uint8_t>(l);
    }
  // The external zones' job markets and labour pools grow at a given rate.
  growth_ = std::pow(1.0 + static_cast<double>(lm.external_growth),
                     static_cast<double>(now - m.first_month()) / 12.0);
}

Market::~Market() {
  // Normally finish_hires has waited already (this is for an exception thrown meanwhile).
  try {
    hiring_.wait();
  } catch (...) {
  }
  ws_.buffers = std::move(static_cast<Buffers&>(*this));
}

void Market::gather_residents() {
  const auto& ps = m_.persons;
  const auto& fs = m_.firms;
  std::int64_t with_job = 0;
  for (const Municipality& mu : m_.municipalities)
    for (std::int64_t n : mu.jobs_by_zone) with_job += n;

  const auto k_employed = static_cast<std::uint8_t>(Status::employed);
  auto resident = [&](std::uint32_t i, Kind kind) {
    Seeker s;
    s.key = ps.id[i];
    s.person = i;
    s.origin = ps.zone[i];
    s.education = ps.education[i];
    s.field = ps.field[i];
    s.kind = kind;
    if (kind == Kind::on_the_job) {
      const int level = ps.job_level[i];
      double wage = level_wage_[level];
      if (ps.employer[i] != k_none) {
        s.current = m_.firm_index(ps.employer[i]);
        wage = m_.wage(fs.sector[s.current], level);
      }
      s.current_value = wage - commute_cost_[zi(ps.zone[i], ps.job_zone[i])];
    }
    return s;
  };

  // One pass per chunk of persons, in index order (= id order): the unemployed by a scan
  // of eight persons at a time, the on-the-job searchers of the chunk's ids, and their
  // seekers, merged in id order. On-the-job search: each employed resident searches this
  // month with probability p, independently, drawn as a Bernoulli process over the
  // person ids, block by block: geometric gaps between searchers from the block's own
  // counter-based draw (the same probabilities as one draw per person, at a fraction of
  // the draws). A chunk draws the blocks its ids fall in and keeps its own ids, so the
  // searchers do not depend on the chunking.
  const double p = m_.scenario().labour_market.on_the_job_search;
  const double log_stay = p < 1.0 ? std::log1p(-p) : -1.0;
  const std::uint32_t ids = m_.next_person_id;
  const size_t chunks = m_.chunk_count(ps.size());
  if (parts_.size() < chunks) parts_.resize(chunks);
  m_.for_chunks(ps.size(), [&](size_t c, size_t b, size_t e) {
    // Filled as a local (the parts' vector headers share cache lines), then put back.
    Part part = std::move(parts_[c]);
    part.seekers.clear();
    part.idle.clear();
    part.picked.clear();
    part.working = scan_statuses(ps, b, e, part.idle);
    if (p > 0.0 && b < e) {
      const std::uint32_t lo = ps.id[b], hi = ps.id[e - 1];
      // The searchers' ids first, then their persons: one look-up in the id index each,
      // independent of each other (a walk over the chunk's ids cost a quarter of the
      // gathering). Ids rise with the index, so the chunk's ids [lo, hi] are its persons'.
      for (std::uint64_t blk = lo / k_id_block; blk <= hi / k_id_block; ++blk) {
        Rng rng = draw(m_, k_on_the_job, blk, 0, now_);
        const std::uint64_t first = blk * k_id_block;
        const std::uint64_t last = std::min<std::uint64_t>(first + k_id_block, ids);
        for (std::uint64_t id = first;; ++id) {
          if (p < 1.0)
            id += static_cast<std::uint64_t>(std::floor(std::log(rng.uniform()) / log_stay));
          if (id >= last || id > hi) break;
          if (id < lo) continue;
          part.picked.push_back(static_cast<std::uint32_t>(id));
        }
      }
      // In place: the persons found, alive and employed (branch-free: half of them are).
      size_t n = 0;
      for (const std::uint32_t id : part.picked) {
        const std::uint32_t i = m_.person_index(id);
        if (i == k_none || i < b || i >= e) continue;
        part.picked[n] = i;
        n += ps.alive[i] & (ps.status[i] == k_employed);
      }
      part.picked.resize(n);
      // Their jobs are scattered records: fetched now, used below.
      for (const std::uint32_t i : part.picked)
        prefetch(&ps.job_zone[i], &ps.employer[i], &ps.job_level[i], &ps.zone[i], &ps.education[i]);
      // Employed residents without a job (see below) do not search on the job.
      part.picked.erase(std::remove_if(part.picked.begin(), part.picked.end(),
                                       [&](std::uint32_t i) {
                                         return ps.job_zone[i] == PersonStore::k_no_job_zone;
                                       }),
                        part.picked.end());
      for (std::uint32_t i : part.picked) {
        const std::uint32_t f = m_.firm_index(ps.employer[i]);
        if (f != k_none) __builtin_prefetch(&fs.sector[f]);
      }
    }
    // Both lists are in index order: merge them into the chunk's seekers. The unemployed
    // are some forty persons apart: the records of a few ahead are fetched meanwhile.
    constexpr size_t k_ahead = 16;
    const size_t idle = part.idle.size();
    auto fetch = [&](size_t a) {
      const std::uint32_t i = part.idle[a];
      prefetch(&ps.id[i], &ps.zone[i], &ps.education[i]);
    };
    auto unemployed_seeker = [&](size_t a) {
      if (a + k_ahead < idle) fetch(a + k_ahead);
      part.seekers.push_back(resident(part.idle[a], Kind::unemployed));
    };
    for (size_t a = 0; a < std::min(k_ahead, idle); ++a) fetch(a);
    part.seekers.reserve(idle + part.picked.size());
    size_t a = 0;
    for (std::uint32_t i : part.picked) {
      for (; a < idle && part.idle[a] < i; ++a) unemployed_seeker(a);
      part.seekers.push_back(resident(i, Kind::on_the_job));
    }
    for (; a < idle; ++a) unemployed_seeker(a);
    parts_[c] = std::move(part);
  });
  std::int64_t working = 0;
  size_t total = seekers.size();
  for (size_t c = 0; c < chunks; ++c) {
    working += parts_[c].working;
    unemployed += static_cast<std::int64_t>(parts_[c].idle.size());
    total += parts_[c].seekers.size();
  }
  seekers.reserve(total);
  for (size_t c = 0; c < chunks; ++c)
    seekers.insert(seekers.end(), parts_[c].seekers.begin(), parts_[c].seekers.end());
  if (working > with_job) {
    // Someone is employed without a job (not expected: jobs come from this market);
    // they look for one like the unemployed, in id order among the others. A second scan
    // finds them.
    std::vector<Seeker> without_job;
    for (size_t i = 0; i < ps.size(); ++i)
      if (ps.alive[i] && ps.status[i] == k_employed && ps.job_zone[i] == PersonStore::k_no_job_zone)
        without_job.push_back(resident(static_cast<std::uint32_t>(i), Kind::placing));
    placing = !without_job.empty();
    std::vector<Seeker> merged(seekers.size() + without_job.size());
    std::merge(seekers.begin(), seekers.end(), without_job.begin(), without_job.end(),
               merged.begin(), [](const Seeker& x, const Seeker& y) { return x.key < y.key; });
    seekers.swap(merged);
  }
}

void Market::gather_employed() {
  const auto& ps = m_.persons;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (!ps.alive[i]) continue;
    if (ps.status[i] == idx(Status::unemployed)) ++unemployed;
    if (ps.status[i] != idx(Status::employed) || ps.job_zone[i] != PersonStore::k_no_job_zone)
      continue;
    Seeker s;
    s.key = ps.id[i];
    s.person = static_cast<std::uint32_t>(i);
    s.origin = ps.zone[i];
    s.education = ps.education[i];
    s.field = ps.field[i];
    s.kind = Kind::placing;
    seekers.push_back(s);
    placing = true;
  }
}

void Market::add_firms() {
  static_assert(sizeof(FirmStore::Levels) == 2 * sizeof(std::uint64_t));
  const auto& fs = m_.firms;
  // Chunks of firms in parallel, then appended in firm order.
  const size_t chunks = m_.firm_chunk_count(fs.size());
  if (firm_parts_.size() < chunks) firm_parts_.resize(chunks);
  if (firm_positions_.size() < chunks) firm_positions_.resize(chunks);
  if (firm_held_.size() < chunks) firm_held_.resize(chunks);
  // Filling a post takes time (the employer's selection, the applicants' notice): each
  // month an open position is offered, its selection ending, with probability fill_rate,
  // drawn per position from the firm's own stream (the same draws for any chunking). The
  // others stay open and count as vacancies. Without it nearly every opening was filled
  // within its month (the outside workers apply for what the residents leave) and the
  // region had some ten vacancies left at a time. The initial matching fills all.
  const double fill = initial_ ? 1.0 : fill_rate(m_);
  m_.for_firm_chunks(fs.size(), [&](size_t c, size_t b, size_t e) {
    // Filled as locals (the chunks' vector headers share cache lines), then put back.
    auto [opens, cells] = std::move(firm_parts_[c]);
    opens.clear();
    cells.clear();
    Levels64 positions{};
    std::int64_t held = 0;
    for (size_t f = b; f < e; ++f) {
      if (!fs.alive[f]) continue;
      for (int l = 0; l < k_education_levels; ++l)
        positions[l] += fs.employees[f][l] + fs.vacancies[f][l];
      // Most firms have nothing open: one test of the four levels at once.
      std::uint64_t v[2];
      std::memcpy(v, fs.vacancies[f].data(), sizeof v);
      if ((v[0] | v[1]) == 0) continue;
      for (int l = 0; l < k_education_levels; ++l) {
        if (fs.vacancies[f][l] <= 0) continue;
        std::int32_t offered = fs.vacancies[f][l];
        if (fill < 1.0) {
          // A stream per level: one more post at one level changes no other level's draws
          // (paired runs, as for the multipliers, stay paired).
          Rng rng = m_.rng(Stream::vacancies,
                           (std::uint64_t{static_cast<unsigned>(l)} << 32) | fs.id[f], now_);
          offered = 0;
          for (std::int32_t j = 0; j < fs.vacancies[f][l]; ++j) offered += rng.bernoulli(fill);
          held += fs.vacancies[f][l] - offered;
          if (offered == 0) continue;
        }
        Opening o;
        o.firm = static_cast<std::uint32_t>(f);
        o.tie = fs.id[f];
        o.wage = m_.wage(fs.sector[f], l);
        o.vacancies = offered;
        o.zone = fs.zone[f];
        o.level = static_cast<std::uint8_t>(l);
        o.field = l >= idx(Education::mbo) ? field_of_[fs.sector[f]] : std::int8_t{-1};
        opens.push_back(o);
        cells.push_back(static_cast<std::uint32_t>(
            (static_cast<size_t>(fs.zone[f]) * ns_ + fs.sector[f]) * k_education_levels + l));
      }
    }
    firm_parts_[c] = {std::move(opens), std::move(cells)};
    firm_positions_[c] = positions;
    firm_held_[c] = held;
  });
  Levels64 positions{};
  held_back = 0;
  for (size_t c = 0; c < chunks; ++c) {
    held_back += firm_held_[c];
    openings_.insert(openings_.end(), firm_parts_[c].first.begin(), firm_parts_[c].first.end());
    cell_of_.insert(cell_of_.end(), firm_parts_[c].second.begin(), firm_parts_[c].second.end());
    for (int l = 0; l < k_education_levels; ++l) positions[l] += firm_positions_[c][l];
  }
  // The region's positions by level (filled and open) give the level mix of the
  // external openings; wages are relative to the average position's wage.
  double total = 0.0;
  for (std::int64_t x : positions) total += static_cast<double>(x);
  mean_wage_all_ = 0.0;
  for (int l = 0; l < k_education_levels; ++l) {
    level_mix_[l] =
        total > 0.0 ? static_cast<double>(positions[l]) / total : 1.0 / k_education_levels;
    mean_wage_all_ += level_mix_[l] * level_wage_[l];
  }
  if (!(mean_wage_all_ > 0.0)) mean_wage_all_ = 1.0;
  cell_wage_.resize(static_cast<size_t>(cells_));
  for (int z = 0; z < nz_; ++z)
    for (int s = 0; s < ns_; ++s)
      for (int l = 0; l < k_education_levels; ++l)
        cell_wage_[(static_cast<size_t>(z) * ns_ + s) * k_education_levels + l] =
            m_.wage(s, l) / mean_wage_all_;
  for (int e = 0; e < ne_; ++e)
    for (int l = 0; l < k_education_levels; ++l)
      cell_wage_[static_cast<size_t>(regional_cells_) + e * k_education_levels + l] =
          level_wage_[l] / mean_wage_all_;
}

void Market::add_external_initial(double share) {
  const Scenario& sc = m_.scenario();
  const double scale = m_.config().scale;
  for (int e = 0; e < ne_; ++e)
    for (int l = 0; l < k_education_levels; ++l) {
      const auto n = static_cast<std::int32_t>(
          std::floor(sc.external_zones[e].jobs * scale * share * level_mix_[l] + 0.5));
      add_external_opening(e, l, n);
    }
}

void Market::add_external_monthly() {
  // The outside job markets are given, not simulated: each external zone employs a
  // number of the region's residents (those it employed at the start, growing with the
  // zone's market). Positions they leave are reopened (replacement hiring) and growth
  // adds more; open positions wait for a resident who prefers them, like a firm's
  // vacancies. Without this, out-commuting drained away: residents who quit or retire
  // were not replaced, and on-the-job search moves people to nearer jobs.
  std::vector<std::int64_t> held(static_cast<size_t>(ne_), 0);
  for (const Municipality& mu : m_.municipalities)
    for (int e = 0; e < ne_; ++e) held[static_cast<size_t>(e)] += mu.jobs_by_zone[nz_ + e];
  for (int e = 0; e < ne_; ++e) {
    const double* base = &m_.external_jobs_base[static_cast<size_t>(e) * k_education_levels];
    double positions = 0.0;
    for (int l = 0; l < k_education_levels; ++l) positions += base[l];
    const long long open =
        std::llround(positions * growth_) - static_cast<long long>(held[static_cast<size_t>(e)]);
    if (open <= 0) continue;
    long long by_level[k_education_levels];
    apportion(base, open, by_level, k_education_levels);
    for (int l = 0; l < k_education_levels; ++l)
      add_external_opening(e, l, static_cast<std::int32_t>(by_level[l]));
  }
}

void Market::add_external_opening(int e, int l, std::int32_t n) {
  if (n <= 0) return;
  Opening o;
  o.tie = (std::uint64_t{1} << 32) + static_cast<std::uint64_t>(e);
  o.wage = level_wage_[l];
  o.vacancies = n;
  o.zone = static_cast<std::uint16_t>(nz_ + e);
  o.level = static_cast<std::uint8_t>(l);
  openings_.push_back(o);
  cell_of_.push_back(static_cast<std::uint32_t>(regional_cells_ + e * k_education_levels + l));
}

void Market::index_cells() {
  // Counting sort of the openings by cell; within a cell they keep their order (firm
  // index, then external zone).
  cell_begin_.assign(static_cast<size_t>(cells_) + 1, 0);
  for (std::uint32_t c : cell_of_) ++cell_begin_[c + 1];
  for (int c = 0; c < cells_; ++c) cell_begin_[c + 1] += cell_begin_[c];
  std::vector<std::uint32_t> fill(cell_begin_.begin(), cell_begin_.end() - 1);
  sorted_.resize(openings_.size());
  for (size_t k = 0; k < openings_.size(); ++k) sorted_[fill[cell_of_[k]]++] = openings_[k];
  openings_.swap(sorted_);
  cell_of_.clear();
}

void Market::build_alias(std::vector<Alias>& table, std::uint32_t b, std::uint32_t e, double total,
                         std::vector<std::uint32_t>& small, std::vector<std::uint32_t>& large) {
  const double n = static_cast<double>(e - b);
  small.clear();
  large.clear();
  for (std::uint32_t k = b; k < e; ++k) {
    Alias& a = table[k];
    a.threshold *= n / total;
    a.alias = a.self;
    (a.threshold < 1.0 ? small : large).push_back(k);
  }
  while (!small.empty() && !large.empty()) {
    const std::uint32_t lo = small.back(), hi = large.back();
    small.pop_back();
    table[lo].alias = table[hi].self;
    table[hi].threshold = (table[hi].threshold + table[lo].threshold) - 1.0;
    if (table[hi].threshold < 1.0) {
      large.pop_back();
      small.push_back(hi);
    }
  }
  // What is left is 1 up to rounding.
  for (std::uint32_t k : large) table[k].threshold = 1.0;
  for (std::uint32_t k : small) table[k].threshold = 1.0;
}

void Market::refresh_weights() {
  weights_fresh_ = true;
  // Each cell's openings with vacancies, weighted by them: a cell's table sits where its
  // openings do (cells are independent, built in parallel).
  cell_total_.resize(static_cast<size_t>(cells_));
  cell_slots_.resize(static_cast<size_t>(cells_));
  open_table_.resize(openings_.size());
  tbb::parallel_for(
      tbb::blocked_range<size_t>(0, static_cast<size_t>(cells_), 64), [&](const auto& range) {
        thread_local std::vector<std::uint32_t> small, large;
        for (size_t c = range.begin(); c < range.end(); ++c) {
          CellSlots& slots = cell_slots_[c];
          slots.begin = cell_begin_[c];
          slots.zone = cell_zone_[c];
          slots.level = cell_level_[c];
          double sum = 0.0;
          std::uint32_t at = slots.begin;
          for (std::uint32_t k = cell_begin_[c]; k < cell_begin_[c + 1]; ++k)
            if (openings_[k].vacancies > 0) {
              open_table_[at++] = Alias{static_cast<double>(openings_[k].vacancies), k, k};
              sum += openings_[k].vacancies;
            }
          slots.count = at - slots.begin;
          cell_total_[c] = sum;
          if (sum > 0.0) build_alias(open_table_, slots.begin, at, sum, small, large);
        }
      });
  open_cells_.clear();
  for (int c = 0; c < cells_; ++c)
    if (cell_total_[c] > 0.0) open_cells_.push_back(static_cast<std::uint32_t>(c));

  // For each origin and education, the cells it may apply to, weighted by vacancies x
  // travel decay x relative wage, over-qualified jobs at a penalty, none above one's
  // level. Workers from external zones see only the regional cells. Rows are
  // independent and built in parallel, each in its own stretch of row_table_.
  const size_t rows = static_cast<size_t>(zones_) * k_education_levels;
  const size_t stride = open_cells_.size();
  row_begin_.resize(rows);
  row_count_.resize(rows);
  row_total_.resize(rows);
  row_table_.resize(rows * stride);
  tbb::parallel_for(tbb::blocked_range<size_t>(0, rows, 8), [&](const auto& range) {
    for (size_t row = range.begin(); row < range.end(); ++row) {
      thread_local std::vector<std::uint32_t> small, large;
      const int o = static_cast<int>(row / k_education_levels);
      const int k = static_cast<int>(row % k_education_levels);
      const int last = o < nz_ ? cells_ : regional_cells_;
      const auto first = static_cast<std::uint32_t>(row * stride);
      std::uint32_t at = first;
      double sum = 0.0;
      for (std::uint32_t c : open_cells_) {
        const int l = cell_level_[c];
        if (static_cast<int>(c) >= last || l > k) continue;
        const double w = cell_total_[c] * decay_[zi(o, cell_zone_[c])] * cell_wage_[c] *
                         (l < k ? 1.0 - penalty_ : 1.0);
        if (!(w > 0.0)) continue;
        sum += w;
        row_table_[at++] = Alias{w, c, c};
      }
      row_begin_[row] = first;
      row_count_[row] = at - first;
      row_total_[row] = sum;
      if (sum > 0.0) build_alias(row_table_, first, at, sum, small, large);
    }
  });
}

void Market::gather_outside(std::vector<Seeker>& out) const {
  // Each external zone's searching workers weigh the region's openings against the
  // openings at home (the zone's turnover); those who turn to the region apply there.
  // The number per zone and education is the expectation, rounded with a draw.
  const Scenario& sc = m_.scenario();
  const auto& lm = sc.labour_market;
  const double scale = m_.config().scale;
  for (int e = 0; e < ne_; ++e) {
    const int origin = nz_ + e;
    const double searching = sc.external_zones[e].workers * scale * growth_ * lm.external_search;
    Rng rng = draw(m_, purpose(k_outside_seekers), static_cast<std::uint64_t>(e), 0, now_);
    for (int k = 0; k < k_education_levels; ++k) {
      const size_t row = static_cast<size_t>(origin) * k_education_levels + k;
      const double regional = row_total_[row];
      double home = 0.0;
      for (int l = 0; l <= k; ++l)
        home += sc.external_zones[e].jobs * scale * growth_ * k_external_turnover * level_mix_[l] *
                decay_[zi(origin, origin)] * (level_wage_[l] / mean_wage_all_) *
                (l < k ? 1.0 - penalty_ : 1.0);
      const double share = regional + home > 0.0 ? regional / (regional + home) : 0.0;
      const auto n = static_cast<std::int64_t>(
          std::floor(searching * education_mix_[k] * share + rng.uniform()));
      // Their fields by the level's mix, from a stream of their own.
      Rng fields = draw(m_, purpose(k_outside_fields), static_cast<std::uint64_t>(e), k, now_);
      for (std::int64_t j = 0; j < n; ++j) {
        Seeker s;
        s.key = k_outside_seeker_key | (static_cast<std::uint64_t>(e) << 24) |
                (static_cast<std::uint64_t>(k) << 20) | static_cast<std::uint64_t>(j);
        s.origin = static_cast<std::uint16_t>(origin);
        s.education = static_cast<std::uint8_t>(k);
        s.kind = Kind::outside;
        s.field = static_cast<std::uint8_t>(
            fields.categorical(sc.field_by_education[static_cast<size_t>(k)].data(), k_fields));
        out.push_back(s);
      }
    }
  }
}

void Market::draw_passes(size_t from) {
  // Most applications fail the employer's first screening (a match of skills and person
  // that the model does not represent otherwise): each application passes with
  // probability screening_, independently, so the number that pass in a round is
  // binomial(applications, screening_). One uniform draw gives a seeker's numbers for
  // all rounds of the month: the inverse distribution function gives the first, and
  // where the draw fell within that number's interval, rescaled, is again uniform and
  // gives the next (a fresh draw once the intervals get narrow). Drawn for every seeker
  // so that the numbers do not depend on who was hired in an earlier round.
  const size_t a = static_cast<size_t>(applications_);
  const size_t rounds = static_cast<size_t>(rounds_);
  passes_.resize(seekers.size() * rounds);
  // Per number k: the lower end of its interval and the interval's width.
  std::array<double, 64> low{}, width_of{};
  for (size_t k = 0; k <= a && k < low.size(); ++k) {
    low[k] = k == 0 ? 0.0 : passes_cdf_[k - 1];
    width_of[k] = (k == a ? 1.0 : passes_cdf_[k]) - low[k];
  }
  constexpr double below_one = 1.0 - 0x1.0p-53;
  tbb::parallel_for(
      tbb::blocked_range<size_t>(from, seekers.size(), k_grain), [&](const auto& range) {
        // The seekers' first draws together (Rng::first_uniforms: their generators side by
        // side instead of each waiting for the previous seeker's numbers).
        thread_local std::vector<std::uint64_t> agents;
        thread_local std::vector<double> first;
        agents.resize(range.size());
        first.resize(range.size());
        for (size_t i = range.begin(); i < range.end(); ++i)
          agents[i - range.begin()] = agent_key(purpose(k_screening), seekers[i].key, 0);
        Rng::first_uniforms(m_.config().seed, m_.config().replication, Stream::labour_market,
                            agents.data(), static_cast<std::uint32_t>(now_), first.data(),
                            range.size());
        for (size_t i = range.begin(); i < range.end(); ++i) {
          double u = first[i - range.begin()], width = 1.0;
          std::optional<Rng> rng;  // the seeker's generator again, for a fresh draw (rare)
          std::uint8_t* out = &passes_[i * rounds];
          for (size_t r = 0; r < rounds; ++r) {
            if (width < 0x1.0p-20) {
              if (!rng) {
                rng.emplace(draw(m_, purpose(k_screening), seekers[i].key, 0, now_));
                rng->uniform();  // the first number, used above
              }
              u = rng->uniform();
              width = 1.0;
            }
            size_t k = 0;
            for (size_t n = 0; n < a; ++n) k += u >= passes_cdf_[n] ? 1 : 0;
            u = std::min((u - low[k]) / width_of[k], below_one);
            width *= width_of[k];
            out[r] = static_cast<std::uint8_t>(k);
          }
        }
      });
}

void Market::apply_all(const std::vector<std::uint32_t>& active, int r) {
  // The active seekers in chunks of k_grain; a chunk's applications are listed in its
  // bucket in seeker order, seeker q's from app_first_[q] (within the bucket) on.
  // Application numbers run over the buckets in chunk order (app_offset_).
  const size_t a = static_cast<size_t>(applications_);
  const size_t chunks = (active.size() + k_grain - 1) / k_grain;
  if (app_buckets_.size() < chunks) app_buckets_.resize(chunks);
  app_count_.resize(active.size());
  app_first_.resize(active.size());
  tbb::parallel_for(size_t{0}, chunks, [&](size_t chunk) {
    // Filled as a local vector (its header would share a cache line with the
    // neighbouring chunks' otherwise), then put back.
    std::vector<Application> bucket;
    bucket.swap(app_buckets_[chunk]);
    bucket.clear();
    // A batch of seekers at a time, in stages over all the batch's applications: each
    // application is a chain of dependent loads from tables larger than the processor's
    // closer caches (the row's cell, the cell's slots, the opening), and only side by
    // side do their latencies overlap (each stage fetches what the next one reads). Each
    // application takes the same two draws from the seeker's own generator, in the same
    // order, as when they were made one after the other.
    constexpr size_t k_batch = 8;
    struct Pick {
      double u, v;         // the draws: a cell of the row, then an opening of the cell
      double f;            // the draw's fraction within the table slot read next
      std::uint32_t at;    // the table slot read next
      std::uint32_t item;  // the cell, then the opening
      std::uint8_t level;
    };
    thread_local std::vector<Pick> picks;
    picks.resize(k_batch * a);
    std::array<std::uint8_t, k_batch> made{};  // per seeker of the batch: its picks
    const size_t begin = chunk * k_grain, end = std::min(active.size(), (chunk + 1) * k_grain);
    // The chunk's first application draws together (Rng::first_uniforms: the seekers'
    // generators side by side; every active seeker applies at least once): the first two
    // numbers of each seeker's generator, as uniform() gives them.
    thread_local std::vector<std::uint64_t> keys;
    thread_local std::vector<double> first_u, first_v;
    keys.resize(end - begin);
    first_u.resize(end - begin);
    first_v.resize(end - begin);
    for (size_t q = begin; q < end; ++q)
      keys[q - begin] = agent_key(purpose(k_apply), seekers[active[q]].key, r);
    Rng::first_uniforms(m_.config().seed, m_.config().replication, Stream::labour_market,
                        keys.data(), static_cast<std::uint32_t>(now_), first_u.data(), end - begin,
                        first_v.data());
    for (size_t q0 = begin; q0 < end; q0 += k_batch) {
      const size_t batch = std::min(k_batch, end - q0);
      size_t np = 0;
      for (size_t j = 0; j < batch; ++j) {
        const size_t q = q0 + j;
        made[j] = 0;
        // Only the applications that pass the employer's first screening are made
        // (their number was drawn for the month, see draw_passes).
        const size_t passing =
            screening_ < 1.0 ? passes_[static_cast<size_t>(active[q]) * rounds_ + r] : a;
        if (passing == 0) continue;
        const Seeker& s = seekers[active[q]];
        const size_t row = static_cast<size_t>(s.origin) * k_education_levels + s.education;
        const std::uint32_t rb = row_begin_[row];
        const std::uint32_t n = row_count_[row];
        if (n == 0) continue;
        std::optional<Rng> rng;  // for the applications after the first
        for (size_t k = 0; k < passing; ++k, ++np) {
          Pick& p = picks[np];
          if (k == 0) {
            p.u = first_u[q - begin];
            p.v = first_v[q - begin];
          } else {
            if (!rng) {
              rng.emplace(draw(m_, purpose(k_apply), s.key, r, now_));
              rng->uniform();  // the first two numbers, drawn above
              rng->uniform();
            }
            p.u = rng->uniform();
            p.v = rng->uniform();
          }
          const double x = p.u * n;
          p.at = rb + std::min(n - 1, static_cast<std::uint32_t>(x));
          p.f = x - static_cast<double>(p.at - rb);
          __builtin_prefetch(&row_table_[p.at]);
        }
        made[j] = static_cast<std::uint8_t>(passing);
      }
      // A cell by the row's weights, then an opening of the cell by its vacancies (alias
      // tables: one comparison each).
      for (size_t i = 0; i < np; ++i) {
        picks[i].item = alias_pick(row_table_[picks[i].at], picks[i].f);
        __builtin_prefetch(&cell_slots_[picks[i].item]);
      }
      for (size_t i = 0; i < np; ++i) {
        Pick& p = picks[i];
        const CellSlots cell = cell_slots_[p.item];
        const double y = p.v * cell.count;
        p.at = cell.begin + std::min(cell.count - 1, static_cast<std::uint32_t>(y));
        p.f = y - static_cast<double>(p.at - cell.begin);
        p.level = cell.level;
        __builtin_prefetch(&open_table_[p.at]);
      }
      for (size_t i = 0; i < np; ++i) {
        picks[i].item = alias_pick(open_table_[picks[i].at], picks[i].f);
        __builtin_prefetch(&openings_[picks[i].item]);
      }
      // The applications, in seeker order.
      for (size_t j = 0, i = 0; j < batch; ++j) {
        const size_t q = q0 + j;
        app_first_[q] = static_cast<std::uint32_t>(bucket.size());
        const Seeker& s = seekers[active[q]];
        const size_t first = bucket.size();
        for (const size_t e = i + made[j]; i < e; ++i) {
          const std::uint32_t o = picks[i].item;
          if (s.current != k_none && openings_[o].firm == s.current) continue;
          bool repeat = false;
          for (size_t b = first; b < bucket.size(); ++b) repeat |= bucket[b].opening == o;
          if (repeat) continue;
          bucket.push_back(
              Application{o, ticket(picks[i].u),
                          fit(s.education, picks[i].level) * field_fit(s.field, openings_[o].field),
                          static_cast<std::uint32_t>(q)});
        }
        app_count_[q] = static_cast<std::uint8_t>(bucket.size() - first);
      }
    }
    app_buckets_[chunk].swap(bucket);
  });
  app_offset_.resize(chunks + 1);
  app_offset_[0] = 0;
  for (size_t c = 0; c < chunks; ++c)
    app_offset_[c + 1] = app_offset_[c] + static_cast<std::uint32_t>(app_buckets_[c].size());
}

std::int64_t Market::round(int r) {
  // The seekers still looking, in seeker order (those hired leave the list), and of
  // those the ones with applications that pass the screening this round: the others can
  // neither apply nor be hired in it.
  if (r == 0) {
    active_.resize(seekers.size());
    for (size_t i = 0; i < seekers.size(); ++i) active_[i] = static_cast<std::uint32_t>(i);
    done_.assign(seekers.size(), 0);
  }
  // (Branch-free appends: whether a seeker applies is random.)
  working_.resize(active_.size());
  size_t kept = 0, applying = 0;
  const bool all = screening_ >= 1.0;
  for (const std::uint32_t i : active_) {
    if (done_[i]) continue;
    active_[kept++] = i;
    working_[applying] = i;
    applying += all || passes_[static_cast<size_t>(i) * rounds_ + r] > 0 ? 1 : 0;
  }
  active_.resize(kept);
  working_.resize(applying);
  const std::vector<std::uint32_t>& active = working_;
  if (active.empty()) return 0;
  if (!weights_fresh_) refresh_weights();
  apply_all(active, r);

  // Applications grouped by opening, in seeker order, as the employers see them: a
  // counting sort over the buckets (serial: it reads each application once, in order).
  const size_t chunks = app_offset_.size() - 1;
  const size_t n_open = openings_.size();
  by_opening_begin_.assign(n_open + 1, 0);
  for (size_t c = 0; c < chunks; ++c)
    for (const Application& ap : app_buckets_[c]) ++by_opening_begin_[ap.opening + 1];
  for (size_t k = 0; k < n_open; ++k) by_opening_begin_[k + 1] += by_opening_begin_[k];
  ranks_.resize(by_opening_begin_[n_open]);
  fill_.assign(by_opening_begin_.begin(), by_opening_begin_.end() - 1);
  for (size_t c = 0; c < chunks; ++c) {
    std::uint32_t i = app_offset_[c];
    for (const Application& ap : app_buckets_[c])
      ranks_[fill_[ap.opening]++] = Rank{ap.score, ap.ticket, i++, ap.seeker};
  }

  // Employers rank their applicants by fit (ties by ticket, then seeker key) and offer
  // their open positions of the level to the best. The commute is the worker's affair:
  // it weighs in the search and in the choice between offers, not in the employer's
  // ranking (which would bar workers from outside the region whenever a resident
  // applies).
  offered_.assign(app_offset_[chunks], 0);
  const auto better = [&](const Rank& x, const Rank& y) {
    if (x.score != y.score) return x.score > y.score;
    if (x.ticket != y.ticket) return x.ticket < y.ticket;
    return seekers[active[x.seeker]].key < seekers[active[y.seeker]].key;
  };
  tbb::parallel_for(tbb::blocked_range<size_t>(0, n_open, 64), [&](const auto& range) {
    for (size_t k = range.begin(); k < range.end(); ++k) {
      const std::uint32_t b = by_opening_begin_[k], e = by_opening_begin_[k + 1];
      const std::int32_t vacancies = openings_[k].vacancies;
      if (b == e || vacancies <= 0) continue;
      Rank* first = ranks_.data() + b;
      const size_t n = std::min<size_t>(static_cast<size_t>(vacancies), e - b);
      if (n < e - b) std::partial_sort(first, first + n, ranks_.data() + e, better);
      for (size_t i = 0; i < n; ++i) offered_[first[i].app] = 1;
    }
  });

  // Seekers take their best offer (wage minus commuting cost; ties by employer id); a
  // seeker with a job moves only to a better one. The commute mode (and an outside
  // worker's job length) is drawn here. Each chunk of seekers lists its hires in seeker
  // order, with what making them needs (see Hire): the chunks in order give the round's
  // hires in seeker order, and the serial step below only gathers them.
  const size_t seeker_chunks = (active.size() + k_grain - 1) / k_grain;
  if (chunk_hires_.size() < seeker_chunks) chunk_hires_.resize(seeker_chunks);
  tbb::parallel_for(size_t{0}, seeker_chunks, [&](size_t c) {
    // Filled as a local (the chunks' vector headers share cache lines), then put back.
    ChunkHires part = std::move(chunk_hires_[c]);
    part.hires.clear();
    part.openings.clear();
    part.unemployed = 0;
    part.field_posts = part.field_matched = 0;
    for (size_t q = c * k_grain; q < std::min(active.size(), (c + 1) * k_grain); ++q) {
      if (app_count_[q] == 0) continue;
      const Seeker& s = seekers[active[q]];
      double best = -std::numeric_limits<double>::infinity();
      std::uint64_t best_tie = 0;
      std::uint32_t choice = k_none;
      const std::vector<Application>& bucket = app_buckets_[q / k_grain];
      const std::uint32_t number = app_offset_[q / k_grain] + app_first_[q];
      for (size_t j = 0; j < app_count_[q]; ++j) {
        if (!offered_[number + j]) continue;
        const Application& ap = bucket[app_first_[q] + j];
        const Opening& o = openings_[ap.opening];
        const double value = o.wage - commute_cost_[zi(s.origin, o.zone)];
        if (s.kind == Kind::on_the_job && !(value > s.current_value)) continue;
        if (choice == k_none || value > best || (value == best && o.tie < best_tie)) {
          best = value;
          best_tie = o.tie;
          choice = ap.opening;
        }
      }
      if (choice == k_none) continue;
      const Opening& o = openings_[choice];
      Mode mode = Mode::car;
      if (!initial_) {
        const std::uint64_t who = s.kind == Kind::outside ? (s.key | k_seeker_mode_bit) : s.key;
        Rng rng = m_.rng(Stream::commuting, who, now_);
        mode = m_.commuting.choose_mode(s.origin, o.zone, rng.uniform());
      }
      double months = 0.0;  // (read for outside workers only)
      if (s.kind == Kind::outside) {
        Rng rng = draw(m_, purpose(k_job_length), s.key, 0, now_);
        months = job_months(rng);
      }
      part.hires.push_back(
          Hire{s.person, o.firm, months, s.origin, o.zone, s.education, o.level, s.kind, mode});
      part.openings.push_back(choice);
      part.unemployed += s.kind == Kind::unemployed ? 1 : 0;
      if (o.firm != k_none && o.field >= 0) {
        ++part.field_posts;
        part.field_matched += s.field == o.field ? 1 : 0;
      }
      done_[active[q]] = 1;
    }
    chunk_hires_[c] = std::move(part);
  });
  // The hires, in seeker order (each opening was offered at most its vacancies). What
  // the next round reads (the vacancies, who is still looking) is settled here; the hires
  // in the model's records (staff lists, counters, the persons' jobs: scattered records,
  // one by one in order) are made by a task meanwhile, after the previous round's. Nothing
  // the rounds read is written by it: the market works on its own copies (seekers,
  // openings); nor does it read them (each hire carries what it needs: see Hire).
  // The previous round's hires are made first: wait for them before this list is filled.
  // (Waiting only when this round has hires, as before, let a round without hires skip the
  // wait; the round after it then refilled the list that the task of two rounds before
  // could still be reading: a rare race, seen as a person left unemployed with a job.)
  // The wait costs little: a list per round and a queue that let the rounds run ahead of
  // the hiring task gave the labour market the same time with 2 threads.
  hiring_.wait();
  std::vector<Hire>& hires = hires_[static_cast<size_t>(r) & 1];
  hires.clear();
  for (size_t c = 0; c < seeker_chunks; ++c) {
    const ChunkHires& part = chunk_hires_[c];
    for (const std::uint32_t o : part.openings) --openings_[o].vacancies;
    hires.insert(hires.end(), part.hires.begin(), part.hires.end());
    unemployed -= part.unemployed;
    field_posts += part.field_posts;
    field_matched += part.field_matched;
  }
  if (hires.empty()) return 0;
  weights_fresh_ = false;
  hiring_.run([this, &hires] { make_hires(hires); });
  return static_cast<std::int64_t>(hires.size());
}

void Market::finish_hires() {
  hiring_.wait();
}

void Market::make_initial_hires(const std::vector<Hire>& hires) {
  // The starting state's employed take their jobs: no movers, no outside workers. Hires
  // at different firms touch different staff lists and persons, and only the
  // municipalities' counters are shared: so they are made in firm groups in parallel,
  // each group in list order (the order that matters: a firm's staff list), and the
  // counters are added up after, in one pass (integer counts). Made one by one, these
  // some 160,000 hires were one of the longest serial stretches of the start.
  auto& fs = m_.firms;
  const size_t per_group = firms::release_group_size(m_);
  std::vector<std::vector<std::uint32_t>> members(firms::k_release_groups);
  for (size_t k = 0; k < hires.size(); ++k) {
    const Hire& h = hires[k];
    members[firms::release_group(h.firm, h.person, per_group)].push_back(
        static_cast<std::uint32_t>(k));
  }
  tbb::parallel_for(size_t{0}, firms::k_release_groups, [&](size_t g) {
    for (const std::uint32_t k : members[g]) {
      const Hire& h = hires[k];
      if (h.firm != k_none) {
        --fs.vacancies[h.firm][h.level];
        firms::hire_uncounted(m_, h.firm, h.person, h.level);
      } else {
        firms::take_outside_job_uncounted(m_, h.person, h.zone - nz_, h.level);
      }
    }
  });
  for (const Hire& h : hires) firms::count_hire(m_, h.origin, h.firm, h.level, h.zone);
}

void Market::make_hires(const std::vector<Hire>& hires) {
  if (initial_ && std::all_of(hires.begin(), hires.end(),
                              [](const Hire& h) { return h.kind == Kind::placing; })) {
    make_initial_hires(hires);
    set_modes_and_status(hires);
    return;
  }
  // The hires touch scattered worker and firm records: those of hires ahead are fetched
  // while the current one is made, in two steps for what is found through them (the end
  // of the staff list; a mover's old employer and the end of its staff list).
  auto& ps = m_.persons;
  const auto& fs = m_.firms;
  auto prefetch_first = [&](const Hire& h) {
    const std::uint32_t f = h.firm;
    if (f != k_none)
      prefetch(&fs.staff[f], &fs.employees[f], &fs.outside_staff[f], &fs.vacancies[f], &fs.id[f],
               &fs.zone[f], &fs.kind[f], &fs.sector[f]);
    const std::uint32_t p = h.person;
    if (h.kind != Kind::outside)
      prefetch(&ps.employer[p], &ps.job_zone[p], &ps.job_slot[p], &ps.job_level[p], &ps.zone[p]);
  };
  auto prefetch_second = [&](const Hire& h) {
    const std::uint32_t f = h.firm;
    if (f != k_none) __builtin_prefetch(fs.staff[f].data() + fs.staff[f].size());
    if (h.kind == Kind::on_the_job && ps.employer[h.person] != k_none) {
      const std::uint32_t old = m_.firm_index(ps.employer[h.person]);
      if (old != k_none) prefetch(&fs.staff[old], &fs.employees[old]);
    }
  };
  auto prefetch_third = [&](const Hire& h) {
    if (h.kind == Kind::on_the_job && ps.employer[h.person] != k_none) {
      const std::uint32_t old = m_.firm_index(ps.employer[h.person]);
      if (old != k_none && !fs.staff[old].empty()) __builtin_prefetch(&fs.staff[old].back());
    }
  };
  constexpr size_t k_first = 16, k_second = 8, k_third = 4;
  const size_t n = hires.size();
  for (size_t k = 0; k < std::min(k_first, n); ++k) prefetch_first(hires[k]);
  for (size_t k = 0; k < std::min(k_second, n); ++k) prefetch_second(hires[k]);
  for (size_t k = 0; k < std::min(k_third, n); ++k) prefetch_third(hires[k]);
  for (size_t k = 0; k < n; ++k) {
    if (k + k_first < n) prefetch_first(hires[k + k_first]);
    if (k + k_second < n) prefetch_second(hires[k + k_second]);
    if (k + k_third < n) prefetch_third(hires[k + k_third]);
    hire(hires[k]);
  }
  set_modes_and_status(hires);
}

void Market::set_modes_and_status(const std::vector<Hire>& hires) {
  // Each hired resident's own records only: in parallel, with the records of a few
  // persons ahead fetched (scattered, as are the hires).
  auto& ps = m_.persons;
  // The statuses changed, for the model's counts: handed in by the ranges as they end.
  std::vector<StatusMove> all_moves;
  std::mutex moves_mutex;
  tbb::parallel_for(tbb::blocked_range<size_t>(0, hires.size(), k_grain), [&](const auto& range) {
    std::vector<StatusMove> moves;
    for (size_t k = range.begin(); k < range.end(); ++k) {
      if (k + 16 < range.end() && hires[k + 16].kind != Kind::outside) {
        const std::uint32_t a = hires[k + 16].person;
        prefetch(&ps.mode[a], &ps.status[a], &ps.status_since[a], &ps.next_labour[a],
                 &ps.education[a], &ps.death[a], &ps.next_birth[a], &ps.next_life[a],
                 &ps.leave_home[a], &ps.next_union[a], &ps.next_due[a], &ps.id[a]);
      }
      const Hire& h = hires[k];
      if (h.kind == Kind::outside) continue;
      ps.mode[h.person] = static_cast<std::uint8_t>(h.mode);
      if (h.kind == Kind::unemployed) {
        const std::uint8_t before = ps.status[h.person];
        persons::on_hired(m_, h.person, now_);
        if (ps.status[h.person] != before)
          moves.push_back({ps.zone[h.person], before, ps.status[h.person]});
      }
    }
    if (moves.empty()) return;
    const std::lock_guard<std::mutex> lock(moves_mutex);
    all_moves.insert(all_moves.end(), moves.begin(), moves.end());
  });
  // (Integer counts: the order in which the ranges handed theirs in does not matter.)
  m_.note_statuses(all_moves);
}

double Market::job_months(Rng& rng) const {
  const double quit = m_.scenario().labour_market.quit_rate;
  return quit > 0.0 ? std::min(k_max_job_months, rng.exponential(quit)) : k_max_job_months;
}

void Market::new_outside_worker(int external, int education, int level, size_t f, double months,
                                Mode mode) {
  auto& ow = m_.outside_workers;
  const std::uint32_t id = m_.next_outside_id++;
  const size_t o = ow.append(id);
  m_.index_outside(id, o);
  start_outside_worker(o, external, education, level, f, months, mode, true);
}

void Market::start_outside_worker(size_t o, int external, int education, int level, size_t f,
                                  double months, Mode mode, bool counted) {
  auto& ow = m_.outside_workers;
  ow.home[o] = static_cast<std::uint16_t>(external);
  ow.education[o] = static_cast<std::uint8_t>(education);
  ow.mode[o] = static_cast<std::uint8_t>(mode);
  if (counted)
    firms::hire(m_, f, o, true, level);
  else
    firms::hire_outside_uncounted(m_, f, o, level);
  // The job lasts an exponential time with the quit rate (at least one month).
  ow.leave[o] = now_ + 1 + static_cast<std::int32_t>(months);
  if (counted) m_.schedule_outside_leave(ow.id[o], ow.leave[o]);
}

void Market::hire(const Hire& h) {
  if (h.firm != k_none) --m_.firms.vacancies[h.firm][h.level];
  if (h.kind == Kind::outside) {
    new_outside_worker(h.origin - nz_, h.education, h.level, h.firm, h.job_months, h.mode);
    return;
  }
  const size_t p = h.person;
  auto& ps = m_.persons;
  // A mover leaves the old job; the position is not reopened this month.
  if (ps.job_zone[p] != PersonStore::k_no_job_zone) firms::release(m_, p, false);
  if (h.firm != k_none)
    firms::hire(m_, h.firm, p, false, h.level);
  else
    firms::take_outside_job(m_, p, h.zone - nz_, h.level);
}

void Market::place_rest_outside() {
  for (size_t i = 0; i < seekers.size(); ++i) {
    if (done_[i]) continue;
    const Seeker& s = seekers[i];
    if (ne_ == 0) {
      // No external zones: the resident is unemployed after all.
      m_.set_status(s.person, Status::unemployed);
      ++unemployed;
      continue;
    }
    int best = 0;
    for (int e = 1; e < ne_; ++e)
      if (minutes_[zi(s.origin, nz_ + e)] < minutes_[zi(s.origin, nz_ + best)]) best = e;
    firms::take_outside_job(m_, s.person, best, s.education);
    done_[i] = 1;
  }
}

void Market::fill_with_outside_workers() {
  // Origins in proportion to workers x travel decay to the job's zone; education drawn
  // from the zones' average mix among the levels that qualify for the job.
  if (ne_ == 0) return;
  const Scenario& sc = m_.scenario();
  std::vector<double> origin(static_cast<size_t>(nz_) * ne_);
  for (int z = 0; z < nz_; ++z)
    for (int e = 0; e < ne_; ++e)
      origin[static_cast<size_t>(z) * ne_ + e] =
          sc.external_zones[e].workers * decay_[zi(nz_ + e, z)];
  // Every open position is filled, firm after firm and level after level, each by a new
  // worker whose id (and so whose draws) follows from the positions before it. The
  // firms' workers are made in parallel: each firm's staff list is its own, and the
  // shared counter of outside workers by sector and level is added up after.
  auto& fs = m_.firms;
  const size_t n = fs.size();
  std::vector<FirmStore::Levels> open(n, FirmStore::Levels{0, 0, 0, 0});
  std::vector<std::uint32_t> first(n + 1, 0);  // workers of the firms before f
  for (size_t f = 0; f < n; ++f) {
    std::uint32_t all = 0;
    if (fs.alive[f])
      for (int l = 0; l < k_education_levels; ++l)
        all += static_cast<std::uint32_t>(open[f][l] = std::max(0, fs.vacancies[f][l]));
    first[f + 1] = first[f] + all;
  }
  if (first[n] == 0) return;
  const std::uint32_t id0 = m_.next_outside_id;
  const size_t o0 = m_.outside_workers.append_n(id0, first[n]);
  m_.next_outside_id += first[n];
  for (std::uint32_t k = 0; k < first[n]; ++k) m_.index_outside(id0 + k, o0 + k);
  parallel_each(n, 256, [&](size_t f) {
    if (first[f] == first[f + 1]) return;
    const double* w = &origin[static_cast<size_t>(fs.zone[f]) * ne_];
    std::uint32_t k = first[f];
    for (int l = 0; l < k_education_levels; ++l) {
      std::array<double, k_education_levels> qualified{};
      for (int q = l; q < k_education_levels; ++q) qualified[q] = education_mix_[q];
      for (; fs.vacancies[f][l] > 0; --fs.vacancies[f][l], ++k) {
        Rng rng = draw(m_, purpose(k_job_length), id0 + k, 0, now_);
        const int e = rng.categorical(w, ne_);
        const int education = rng.categorical(qualified, k_education_levels);
        start_outside_worker(o0 + k, e, education, l, f, job_months(rng), Mode::car, false);
      }
    }
  });
  for (size_t f = 0; f < n; ++f)
    for (int l = 0; l < k_education_levels; ++l)
      m_.outside_employed_by[m_.employment_cell(f, l)] += open[f][l];
  for (std::uint32_t k = 0; k < first[n]; ++k)
    m_.schedule_outside_leave(id0 + k, m_.outside_workers.leave[o0 + k]);
}

std::int64_t Market::regional_vacancies_left() const {
  std::int64_t v = held_back;
  for (const Opening& o : openings_)
    if (o.firm != k_none) v += std::max(0, o.vacancies);
  return v;
}

/// Modes of every commuter, drawn with the current probabilities (initial matching).
void draw_all_modes(Model& m, std::int32_t now) {
  auto& ps = m.persons;
  const Commuting& c = m.commuting;
  m.for_chunks(ps.size(), [&](size_t, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      if (!ps.alive[i] || ps.job_zone[i] == PersonStore::k_no_job_zone) continue;
      Rng rng = m.rng(Stream::commuting, k_initial_mode_bit | ps.id[i], now);
      ps.mode[i] =
          static_cast<std::uint8_t>(c.choose_mode(ps.zone[i], ps.job_zone[i], rng.uniform()));
    }
  });
  auto& ow = m.outside_workers;
  const int nz = m.internal_zones();
  m.for_chunks(ow.size(), [&](size_t, size_t b, size_t e) {
    for (size_t o = b; o < e; ++o) {
      if (!ow.alive[o] || ow.employer[o] == k_none) continue;
      Rng rng = m.rng(Stream::commuting, k_initial_mode_bit | k_outside_worker_bit | ow.id[o], now);
      ow.mode[o] =
          static_cast<std::uint8_t>(c.choose_mode(nz + ow.home[o], ow.job_zone[o], rng.uniform()));
    }
  });
}

}  // namespace

void initial_matching(Model& m) {
  const std::int32_t now = m.first_month();
  {
    Market market(m, now, true);
    market.gather_employed();
    market.add_firms();
    market.add_external_initial(k_initial_external_share);
    market.index_cells();
    for (int r = 0; r < k_initial_max_rounds; ++r)
      if (market.round(r) == 0) break;
    market.finish_hires();
    market.place_rest_outside();
    market.fill_with_outside_workers();
  }
  // This market's buffers are sized for every employed resident: not kept for the
  // monthly markets, which are far smaller.
  m.labour_workspace.reset();
  // The mode constants are fitted to this pattern, then every commuter draws a mode.
  m.commuting.calibrate(m);
  draw_all_modes(m, now);
  // The residents' jobs outside the region at the start set the size of the outside job
  // markets they can turn to later.
  const size_t ne = m.scenario().external_zones.size();
  m.external_jobs_base.assign(ne * k_education_levels, 0.0);
  for (const auto& mu : m.municipalities) {
    double out_total = 0.0;
    for (auto v : mu.out_commuters) out_total += static_cast<double>(v);
    if (out_total <= 0.0) continue;
    for (size_t e = 0; e < ne; ++e)
      for (int l = 0; l < k_education_levels; ++l)
        m.external_jobs_base[e * k_education_levels + static_cast<size_t>(l)] +=
            static_cast<double>(mu.jobs_by_zone[static_cast<size_t>(m.internal_zones()) + e]) *
            static_cast<double>(mu.out_commuters[static_cast<size_t>(l)]) / out_total;
  }
  // (The tightness of the start is set by open_initial_positions: every position is
  // filled here.)
}

void open_initial_positions(Model& m) {
  const double rate = m.scenario().labour_market.vacancy_rate;
  const double per_filled = rate > 0.0 ? rate / (1.0 - rate) : 0.0;  // open per filled post
  const std::int32_t now = m.first_month();
  auto& fs = m.firms;
  std::int64_t open = 0;
  for (size_t f = 0; f < fs.size(); ++f) {
    if (!fs.alive[f]) continue;
    std::int32_t filled = 0, opened = 0;
    Rng rng = m.rng(Stream::vacancies, k_initial_vacancies_bit | fs.id[f], now);
    for (int l = 0; l < k_education_levels; ++l) {
      std::int32_t o = 0;
      if (per_filled > 0.0)
        for (std::int32_t j = 0; j < fs.employees[f][l]; ++j) o += rng.bernoulli(per_filled);
      fs.vacancies[f][l] += o;
      filled += fs.employees[f][l];
      opened += fs.vacancies[f][l];
    }
    if (opened == 0) continue;
    open += opened;
    // The firm plans for its positions: demand at the start was set to its staff's output.
    if (filled > 0) {
      const double up = static_cast<double>(filled + opened) / filled;
      fs.expected[f] *= up;
      fs.demand[f] *= up;
    }
  }
  // The unemployed as counted at the start (the initial matching changes no one's status).
  std::int64_t unemployed = 0;
  for (const Municipality& mu : m.municipalities)
    unemployed += mu.status_count[idx(Status::unemployed)];
  m.tightness =
      static_cast<double>(open) / static_cast<double>(std::max<std::int64_t>(1, unemployed));
}

void match(Model& m, std::int32_t now) {
  Market market(m, now, false);
  // The residents (seekers and their screening draws) and the openings are independent:
  // gathered at the same time, so that each side's serial steps overlap the other's work.
  tbb::task_group residents;
  residents.run([&] {
    market.gather_residents();
    market.draw_passes(0);
  });
  // (Should this throw, the task group waits for the residents' task as it is destroyed.)
  market.add_firms();
  market.add_external_monthly();
  market.index_cells();
  market.refresh_weights();
  // The outside workers who turn to the region (by the weights just made) are listed
  // while the residents are still being gathered, and follow them.
  std::vector<Seeker> outside;
  market.gather_outside(outside);
  residents.wait();
  const size_t outside_from = market.seekers.size();
  market.seekers.insert(market.seekers.end(), outside.begin(), outside.end());
  market.draw_passes(outside_from);
  const int rounds =
      std::max(1, static_cast<int>(std::lround(m.scenario().labour_market.rounds.value)));
  for (int r = 0; r < rounds; ++r) market.round(r);
  market.finish_hires();
  // Employed residents left without a job (none unless a rule elsewhere made someone
  // employed without one) are unemployed. (The seekers are scanned only when
  // gather_residents found such residents.)
  if (market.placing)
    for (size_t i = 0; i < market.seekers.size(); ++i) {
      const auto& s = market.seekers[i];
      if (market.done(i) || s.kind != Kind::placing) continue;
      m.set_status(s.person, Status::unemployed);
      m.persons.status_since[s.person] = now;
      Rng rng = m.rng(Stream::labour_market, m.persons.id[s.person], now);
      persons::schedule_labour(m, s.person, now, rng);
      ++market.unemployed;
    }
  m.tightness = static_cast<double>(market.regional_vacancies_left()) /
                static_cast<double>(std::max<std::int64_t>(1, market.unemployed));
  m.field_match = market.field_posts > 0 ? static_cast<double>(market.field_matched) /
                                               static_cast<double>(market.field_posts)
                                         : 0.0;
}

}  // namespace regio::labour_market
