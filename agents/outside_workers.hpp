// Workers living outside the region who hold a job in it (in-commuters). They are not
// simulated person by person in their home areas: each is a lightweight record created
// when hired from an external zone's labour pool and removed when the job ends.
#pragma once
#include <cstdint>
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
  size_t append(std::uint32_t new_id) {
    id.push_back(new_id);
    home.push_back(0);
    education.push_back(0);
    employer.push_back(k_none);
    job_zone.push_back(0);
    job_level.push_back(0);
    mode.push_back(0);
    leave.push_back(0);
    job_slot.push_back(0);
    alive.push_back(1);
    return id.size() - 1;
  }
  void compact();
};

}  // namespace regio
