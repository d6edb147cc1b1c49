#include "agents/outside_workers.hpp"

#include "sim/compaction.hpp"

namespace regio {

void OutsideWorkerStore::compact() {
  const std::vector<std::uint32_t> keep = kept_rows(alive);
  if (keep.size() == alive.size()) return;
  gather_rows(id, keep), gather_rows(home, keep), gather_rows(education, keep);
  gather_rows(employer, keep), gather_rows(job_zone, keep), gather_rows(job_level, keep);
  gather_rows(mode, keep), gather_rows(leave, keep), gather_rows(job_slot, keep);
  gather_rows(alive, keep);
}

}  // namespace regio
