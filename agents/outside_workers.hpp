// Workers living outside the region who hold a job in it (in-commuters). They are not
// simulated person by person in their home areas: each is a lightweight record created
// when hired from an external zone's labour pool and removed when the job ends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "sim/types.hpp"

namespace regio {

struct OutsideWorkerStore {
  std::vector<std::uint32_t> id;
  std::vector<std::uint16_t> home;  ///< external zone index (0-based among external zones)
  std::vector<std::uint8_t> education;
  std::vector<std::uint32_t> employer;  ///< firm id
  std::vector<std::uint16_t> job_zone;  ///< internal zone of the job
  std::vector<std::uint8_t> job_level;
  std::vector<std::uint8_t> mode;
  std::vector<std::int32_t> leave;      ///< Month::index the job ends (quit or retirement)
  std::vector<std::uint32_t> job_slot;  ///< position in the employer's staff list
  std::vector<std::uint8_t> alive;

  size_t size() const { return id.size(); }
  size_t append(std::uint32_t new_id) { return append_n(new_id, 1); }
  /// Appends n records with ids first_id, first_id + 1, ... (alive, without a job);
  /// returns the index of the first.
  size_t append_n(std::uint32_t first_id, size_t n) {
    const size_t first = id.size(), size = first + n;
    id.resize(size);
    std::iota(id.begin() + static_cast<std::ptrdiff_t>(first), id.end(), first_id);
    home.resize(size, 0);
    education.resize(size, 0);
    employer.resize(size, k_none);
    job_zone.resize(size, 0);
    job_level.resize(size, 0);
    mode.resize(size, 0);
    leave.resize(size, 0);
    job_slot.resize(size, 0);
    alive.resize(size, 1);
    return first;
  }
  void compact();
};

}  // namespace regio
