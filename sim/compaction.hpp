// Removing dead agents from struct-of-arrays storage while keeping id order: the kept
// indices are computed once, then every field is gathered in place (branch-free).
#pragma once
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace regio {

/// Indices of the rows whose `alive` flag is set, in increasing order: counted per block
/// of rows, then each block writes its own stretch (in parallel; the same list for any
/// number of threads).
inline std::vector<std::uint32_t> kept_rows(const std::vector<std::uint8_t>& alive) {
  constexpr size_t k_block = size_t{1} << 16;
  const size_t blocks = (alive.size() + k_block - 1) / k_block;
  std::vector<size_t> first(blocks + 1, 0);
  tbb::parallel_for(size_t{0}, blocks, [&](size_t b) {
    size_t n = 0;
    for (size_t r = b * k_block; r < std::min(alive.size(), (b + 1) * k_block); ++r)
      n += alive[r] != 0 ? 1 : 0;
    first[b + 1] = n;
  });
  for (size_t b = 0; b < blocks; ++b) first[b + 1] += first[b];
  std::vector<std::uint32_t> keep(first[blocks]);
  tbb::parallel_for(size_t{0}, blocks, [&](size_t b) {
    size_t at = first[b];
    for (size_t r = b * k_block; r < std::min(alive.size(), (b + 1) * k_block); ++r)
      if (alive[r]) keep[at++] = static_cast<std::uint32_t>(r);
  });
  return keep;
}

/// Moves rows `keep[k]` to position k (safe in place because keep[k] >= k).
template <class T>
void gather_rows(std::vector<T>& v, const std::vector<std::uint32_t>& keep) {
  for (size_t k = 0; k < keep.size(); ++k) v[k] = v[keep[k]];
  v.resize(keep.size());
}

/// gather_rows for fields that own memory (moves instead of copies).
template <class T>
void gather_rows_move(std::vector<T>& v, const std::vector<std::uint32_t>& keep) {
  for (size_t k = 0; k < keep.size(); ++k)
    if (keep[k] != k) v[k] = std::move(v[keep[k]]);
  v.resize(keep.size());
}

/// gather_rows (gather_rows_move for fields that own memory) of every field, fields in
/// parallel: each is its own pass over memory, and they share nothing.
template <class... V>
void gather_fields(const std::vector<std::uint32_t>& keep, V&... fields) {
  tbb::task_group tasks;
  (tasks.run([&keep, &fields] {
    if constexpr (std::is_trivially_copyable_v<typename V::value_type>)
      gather_rows(fields, keep);
    else
      gather_rows_move(fields, keep);
  }),
   ...);
  tasks.wait();
}

}  // namespace regio
