#include "agents/outside_workers.hpp"

#include "sim/compaction.hpp"

namespace regio {

void OutsideWorkerStore::compact() {
  const std::vector<std::uint32_t> keep = kept_rows(alive);
  if (keep.size() == alive.size()) return;
  gather_fields(keep, id, home, education, employer, job_zone, job_level, mode, leave, job_slot,
                alive);
}

}  // namespace regio
