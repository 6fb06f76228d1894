// bench/mqtt_auth_bench/histogram.h: a fixed-size latency histogram in microseconds.
// Buckets keep the top 6 significant bits of a value (at most ~3% error), so one histogram
// is ~10 KiB whatever the number of samples, and per-thread histograms merge by addition.
#pragma once

#include <array>
#include <cstdint>

namespace bench {

class Histogram {
 public:
  void record(uint64_t micros) {
    ++counts_[index_of(micros)];
    ++count_;
    if (micros > max_) max_ = micros;
  }
  void merge(const Histogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    if (other.max_ > max_) max_ = other.max_;
  }
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // percentile: the value below which |fraction| (0..1) of the samples fall; 0 when empty.
  uint64_t percentile(double fraction) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(fraction * static_cast<double>(count_));
    if (rank >= count_) rank = count_ - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) {
        uint64_t value = value_of(i);
        return value > max_ ? max_ : value;
      }
    }
    return max_;
  }

 private:
  // Values below 64 are exact; above, bucket = 32 * shift + (value >> shift) with the
  // shifted value in [32, 63]: consecutive shifts give consecutive index ranges.
  static constexpr size_t kBuckets = 32 * 60 + 64;
  static size_t index_of(uint64_t value) {
    if (value < 64) return static_cast<size_t>(value);
    int msb = 63 - __builtin_clzll(value);
    int shift = msb - 5;
    return static_cast<size_t>(32 * shift) + static_cast<size_t>(value >> shift);
  }
  // value_of: the middle of the bucket.
  static uint64_t value_of(size_t index) {
    if (index < 64) return index;
    uint64_t shift = index / 32 - 1;
    uint64_t mantissa = index % 32 + 32;
    return (mantissa << shift) + ((uint64_t{1} << shift) >> 1);
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace bench
