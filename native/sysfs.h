// Set-up helpers for text files and directories under the injectable roots. They allocate and
// may throw, so they belong to discovery and construction, never to the sampler's loop.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emp::sysfs {

// Whole file as text with the trailing newline removed; nullopt (errno set) when unreadable.
[[nodiscard]] std::optional<std::string> ReadText(const std::string& path);
// Entry names of a directory, sorted naturally (intel-rapl:2 before intel-rapl:10); empty when absent.
[[nodiscard]] std::vector<std::string> ListDir(const std::string& path);
[[nodiscard]] bool Exists(const std::string& path);
// CPU, package and zone numbers at or above this are not the kernel's: Linux's NR_CPUS is at most
// 8192 on x86 (CONFIG_MAXSMP). The bound keeps a corrupt "0-2000000000" from listing billions.
inline constexpr int kMaxCpus = 1 << 16;

// A decimal number in [0, limit) and nothing else ("7", not "7a", "-1" or "99999999999"); nullopt
// otherwise. For indices read from names and files, where a throwing std::stoi would abort.
[[nodiscard]] std::optional<int> ParseIndex(std::string_view text, int limit = kMaxCpus) noexcept;
// Parses a kernel CPU list such as "0-3,8,10-11" into sorted, distinct CPU numbers. Malformed or
// reversed ranges and numbers of kMaxCpus or more are skipped.
[[nodiscard]] std::vector<int> ParseCpuList(const std::string& text);

// One CPU of each physical package, from <sysfs>/devices/system/cpu/cpu*/topology, in package order.
struct PackageCpu {
  int package;
  int cpu;
};
[[nodiscard]] std::vector<PackageCpu> OneCpuPerPackage(const std::string& sysfs_root);
// Every online CPU number, from <sysfs>/devices/system/cpu/online (falls back to the cpuN dirs).
[[nodiscard]] std::vector<int> OnlineCpus(const std::string& sysfs_root);
// <sysfs>/devices/system/cpu/cpuN/topology/<file> (physical_package_id, core_id) as a number in
// [0, kMaxCpus); 0 when missing, malformed or out of range (some VMs report -1: one package).
[[nodiscard]] int TopologyId(const std::string& sysfs_root, int cpu, const char* file);

}  // namespace emp::sysfs
