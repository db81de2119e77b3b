#pragma once
// Histogram: latencies in microseconds, log-linear buckets in the manner of HdrHistogram
// (128 sub-buckets per power of two: under 1% error at any magnitude), fixed memory, O(1)
// record. Percentiles are read from the bucket counts.
#include <array>
#include <bit>
#include <cstdint>

namespace starling::bench {

class Histogram {
public:
    void record(std::uint64_t micros) {
        ++counts_[index_of(micros)];
        ++total_;
        if (micros > max_) max_ = micros;
    }
    void add(const Histogram& other) {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
        total_ += other.total_;
        if (other.max_ > max_) max_ = other.max_;
    }
    void clear() { *this = Histogram{}; }
    std::uint64_t count() const { return total_; }
    std::uint64_t max() const { return max_; }
    // The value at or below which `fraction` (0..1) of the recorded values lie.
    std::uint64_t percentile(double fraction) const {
        if (total_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(fraction * static_cast<double>(total_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(upper_of(i), max_);
        }
        return max_;
    }

private:
    static constexpr int sub_bits = 7;  // 128 values exact, then 64 buckets per octave
    static constexpr std::size_t buckets = 64 * 58 + 128;

    static std::size_t index_of(std::uint64_t v) {
        if (v < (1u << sub_bits)) return static_cast<std::size_t>(v);
        int shift = std::bit_width(v) - sub_bits;  // v >> shift is in [64, 127]
        return static_cast<std::size_t>(shift) * 64 + static_cast<std::size_t>(v >> shift);
    }
    static std::uint64_t upper_of(std::size_t index) {
        if (index < (1u << sub_bits)) return index;
        std::size_t shift = (index - 64) / 64;
        std::uint64_t top = index - shift * 64;  // in [64, 127]
        return ((top + 1) << shift) - 1;
    }

    std::array<std::uint64_t, buckets> counts_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace starling::bench
