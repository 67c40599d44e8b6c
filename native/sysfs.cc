#include "sysfs.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <sstream>

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

std::optional<uint64_t> ReadU64(const std::string& path) {
  auto text = ReadText(path);
  uint64_t value = 0;
  if (!text || !ParseU64(text->data(), text->size(), &value)) return std::nullopt;
  return value;
}

std::optional<int64_t> ReadI64(const std::string& path) {
  auto text = ReadText(path);
  int64_t value = 0;
  if (!text || !ParseI64(text->data(), text->size(), &value)) return std::nullopt;
  return value;
}

namespace {
// Orders names so that embedded numbers compare by value: cpu2 < cpu10, intel-rapl:0:1 < intel-rapl:0:10.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (isdigit(static_cast<unsigned char>(a[i])) && isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      unsigned long long x = std::stoull(a.substr(i, i2 - i)), y = std::stoull(b.substr(j, j2 - j));
      if (x != y) return x < y;
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
  std::vector<int> cpus;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (part.empty()) continue;
    size_t dash = part.find('-');
    try {
      int first = std::stoi(part.substr(0, dash));
      int last = dash == std::string::npos ? first : std::stoi(part.substr(dash + 1));
      for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
    } catch (const std::exception&) {
      // A malformed range is skipped; the caller sees fewer CPUs, not a crash.
    }
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
    if (name.size() > 3 && name.compare(0, 3, "cpu") == 0 &&
        std::all_of(name.begin() + 3, name.end(), [](char c) { return isdigit(static_cast<unsigned char>(c)); })) {
      cpus.push_back(std::stoi(name.substr(3)));
    }
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

std::vector<PackageCpu> OneCpuPerPackage(const std::string& sysfs_root) {
  std::map<int, int> first_cpu_of_package;
  for (int cpu : OnlineCpus(sysfs_root)) {
    auto package =
        ReadI64(sysfs_root + "/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/physical_package_id");
    int id = package ? static_cast<int>(*package) : 0;
    if (id < 0) id = 0;  // some VMs report -1: treat the machine as one package
    first_cpu_of_package.emplace(id, cpu);
  }
  std::vector<PackageCpu> result;
  for (const auto& [package, cpu] : first_cpu_of_package) result.push_back({package, cpu});
  return result;
}

}  // namespace emp::sysfs
