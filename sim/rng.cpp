#include "sim/rng.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define REGIO_PHILOX_AVX2 1
#endif

namespace regio {

namespace {

#ifdef REGIO_PHILOX_AVX2
// The key and the counter's words 2 and 3 (stream, step, replication) of the generators'
// first blocks: the same for all agents.
struct Keyed {
  std::uint32_t k0, k1, c2, c3;
};

// Philox4x32-10 (Random123's rounds and constants) on 8 x k_groups counters at once. The
// 32 x 32 -> 64 bit products come from _mm256_mul_epu32, which multiplies the even lanes:
// the odd lanes are shifted down and multiplied apart, and the halves blended back. The
// groups are interleaved so that their rounds' latencies overlap.
constexpr std::size_t k_groups = 4;
constexpr std::size_t k_lanes = 8 * k_groups;

/// out[i] (and second[i], unless null) for the agents of the whole batches, the first
/// n - n % k_lanes; returns how many.
__attribute__((target("avx2"))) std::size_t first_uniforms_avx2(const Keyed& k,
                                                                const std::uint64_t* agents,
                                                                double* out, std::size_t n,
                                                                double* second) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(PHILOX_M4x32_0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(PHILOX_M4x32_1));
  const __m256i w0 = _mm256_set1_epi32(static_cast<int>(PHILOX_W32_0));
  const __m256i w1 = _mm256_set1_epi32(static_cast<int>(PHILOX_W32_1));
  std::size_t i0 = 0;
  for (; i0 + k_lanes <= n; i0 += k_lanes) {
    // The counters' words 0 and 1 (the agent), then the blocks' words 0 and 1.
    alignas(32) std::uint32_t word0[k_lanes], word1[k_lanes];
    for (std::size_t j = 0; j < k_lanes; ++j) {
      word0[j] = static_cast<std::uint32_t>(agents[i0 + j]);
      word1[j] = static_cast<std::uint32_t>(agents[i0 + j] >> 32);
    }
    __m256i a[k_groups], b[k_groups], c[k_groups], d[k_groups];
    for (std::size_t g = 0; g < k_groups; ++g) {
      a[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(word0 + 8 * g));
      b[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(word1 + 8 * g));
      c[g] = _mm256_set1_epi32(static_cast<int>(k.c2));
      d[g] = _mm256_set1_epi32(static_cast<int>(k.c3));
    }
    __m256i x = _mm256_set1_epi32(static_cast<int>(k.k0));
    __m256i y = _mm256_set1_epi32(static_cast<int>(k.k1));
    for (int r = 0; r < 10; ++r) {
      for (std::size_t g = 0; g < k_groups; ++g) {
        const __m256i pe0 = _mm256_mul_epu32(a[g], m0);
        const __m256i po0 = _mm256_mul_epu32(_mm256_srli_epi64(a[g], 32), m0);
        const __m256i pe1 = _mm256_mul_epu32(c[g], m1);
        const __m256i po1 = _mm256_mul_epu32(_mm256_srli_epi64(c[g], 32), m1);
        const __m256i lo0 = _mm256_blend_epi32(pe0, _mm256_slli_epi64(po0, 32), 0xAA);
        const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(pe0, 32), po0, 0xAA);
        const __m256i lo1 = _mm256_blend_epi32(pe1, _mm256_slli_epi64(po1, 32), 0xAA);
        const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(pe1, 32), po1, 0xAA);
        // Random123's round: {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}.
        a[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, b[g]), x);
        b[g] = lo1;
        c[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, d[g]), y);
        d[g] = lo0;
      }
      x = _mm256_add_epi32(x, w0);  // the key bump between rounds
      y = _mm256_add_epi32(y, w1);
    }
    for (std::size_t g = 0; g < k_groups; ++g) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(word0 + 8 * g), a[g]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(word1 + 8 * g), b[g]);
    }
    for (std::size_t j = 0; j < k_lanes; ++j) out[i0 + j] = Rng::to_uniform(word0[j], word1[j]);
    if (second == nullptr) continue;
    for (std::size_t g = 0; g < k_groups; ++g) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(word0 + 8 * g), c[g]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(word1 + 8 * g), d[g]);
    }
    for (std::size_t j = 0; j < k_lanes; ++j) second[i0 + j] = Rng::to_uniform(word0[j], word1[j]);
  }
  return i0;
}
#endif

}  // namespace

void Rng::first_uniforms(std::uint64_t seed, std::uint32_t replication, Stream stream,
                         const std::uint64_t* agents, std::uint32_t step, double* out,
                         std::size_t n, double* second) {
  // The constructor checks the replication and lays out the key and counter.
  const Rng base(seed, replication, stream, 0, step);
  std::size_t done = 0;
#ifdef REGIO_PHILOX_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2)
    done = first_uniforms_avx2({base.key_[0], base.key_[1], base.ctr_[2], base.ctr_[3]}, agents,
                               out, n, second);
#endif
  for (std::size_t i = done; i < n; ++i) {
    Rng rng(seed, replication, stream, agents[i], step);
    out[i] = rng.uniform();
    if (second != nullptr) second[i] = rng.uniform();
  }
}

}  // namespace regio
