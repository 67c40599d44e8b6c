#include "sysfs.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>

#include "unique_fd.h"

namespace emp::sysfs {

std::optional<std::string> ReadText(const std::string& path) {
  UniqueFd fd = UniqueFd::OpenReadOnly(path);
  if (!fd.Valid()) return std::nullopt;
  std::string text;
  char buf[4096];
  for (off_t offset = 0;;) {
    ssize_t n = fd.PreadAt(buf, sizeof buf, offset);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::optional<int> ParseIndex(std::string_view text, int limit) noexcept {
  int value = 0;
  const char* end = text.data() + text.size();
  // from_chars takes no blank, '+' or base prefix (a '-' is refused below) and reports overflow
  // instead of throwing.
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || text.front() == '-' || value >= limit) return std::nullopt;
  return value;
}

namespace {
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Orders names so that embedded numbers compare by value: cpu2 < cpu10, intel-rapl:0:1 < intel-rapl:0:10.
// Digit runs are compared as text (leading zeros dropped, then length, then digits), so a run of
// any length orders correctly and none is converted.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      while (i + 1 < a.size() && a[i] == '0' && IsDigit(a[i + 1])) ++i;
      while (j + 1 < b.size() && b[j] == '0' && IsDigit(b[j + 1])) ++j;
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && IsDigit(a[i2])) ++i2;
      while (j2 < b.size() && IsDigit(b[j2])) ++j2;
      if (i2 - i != j2 - j) return i2 - i < j2 - j;
      if (int c = a.compare(i, i2 - i, b, j, j2 - j); c != 0) return c < 0;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

struct DirCloser {
  void operator()(DIR* dir) const noexcept { closedir(dir); }
};
}  // namespace

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, DirCloser> dir(opendir(path.c_str()));
  if (!dir) return names;
  while (dirent* entry = readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end(), NaturalLess);
  return names;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<int> ParseCpuList(const std::string& text) {
  // Ranges are marked in a difference array, so the work is bounded by the text and kMaxCpus
  // however many ranges, overlapping or not, the text holds.
  std::vector<int32_t> starts(kMaxCpus + 1, 0);
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!part.empty() && (part.back() == '\n' || part.back() == ' ')) part.remove_suffix(1);
    if (part.empty()) continue;
    const size_t dash = part.find('-');
    const auto first = ParseIndex(part.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : ParseIndex(part.substr(dash + 1));
    // A malformed or reversed range is skipped; the caller sees fewer CPUs, not a crash.
    if (!first || !last || *last < *first) continue;
    ++starts[*first];
    --starts[*last + 1];
  }
  std::vector<int> cpus;
  int32_t open = 0;
  for (int cpu = 0; cpu < kMaxCpus; ++cpu) {
    open += starts[cpu];
    if (open > 0) cpus.push_back(cpu);
  }
  return cpus;
}

std::vector<int> OnlineCpus(const std::string& sysfs_root) {
  const std::string base = sysfs_root + "/devices/system/cpu";
  if (auto online = ReadText(base + "/online")) {
    auto cpus = ParseCpuList(*online);
    if (!cpus.empty()) return cpus;
  }
  std::vector<int> cpus;
  for (const auto& name : ListDir(base)) {
    if (name.compare(0, 3, "cpu") != 0) continue;
    if (auto cpu = ParseIndex(std::string_view(name).substr(3))) cpus.push_back(*cpu);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());  // cpu01 and cpu1
  return cpus;
}

int TopologyId(const std::string& sysfs_root, int cpu, const char* file) {
  auto text = ReadText(sysfs_root + "/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/" + file);
  return text ? ParseIndex(*text).value_or(0) : 0;
}

std::vector<PackageCpu> OneCpuPerPackage(const std::string& sysfs_root) {
  std::map<int, int> first_cpu_of_package;
  for (int cpu : OnlineCpus(sysfs_root)) {
    first_cpu_of_package.emplace(TopologyId(sysfs_root, cpu, "physical_package_id"), cpu);
  }
  std::vector<PackageCpu> result;
  for (const auto& [package, cpu] : first_cpu_of_package) result.push_back({package, cpu});
  return result;
}

}  // namespace emp::sysfs
