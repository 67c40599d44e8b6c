// Set-up helpers for text files and directories under the injectable roots. They allocate and
// may throw, so they belong to discovery and construction, never to the sampler's loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace emp::sysfs {

// Whole file as text with the trailing newline removed; nullopt (errno set) when unreadable.
[[nodiscard]] std::optional<std::string> ReadText(const std::string& path);
[[nodiscard]] std::optional<uint64_t> ReadU64(const std::string& path);
[[nodiscard]] std::optional<int64_t> ReadI64(const std::string& path);
// Entry names of a directory, sorted naturally (intel-rapl:2 before intel-rapl:10); empty when absent.
[[nodiscard]] std::vector<std::string> ListDir(const std::string& path);
[[nodiscard]] bool Exists(const std::string& path);
// Parses a kernel CPU list such as "0-3,8,10-11".
[[nodiscard]] std::vector<int> ParseCpuList(const std::string& text);

// One CPU of each physical package, from <sysfs>/devices/system/cpu/cpu*/topology, in package order.
struct PackageCpu {
  int package;
  int cpu;
};
[[nodiscard]] std::vector<PackageCpu> OneCpuPerPackage(const std::string& sysfs_root);
// Every online CPU number, from <sysfs>/devices/system/cpu/online (falls back to the cpuN dirs).
[[nodiscard]] std::vector<int> OnlineCpus(const std::string& sysfs_root);

}  // namespace emp::sysfs
