#include "perf_power_source.h"

#include <linux/perf_event.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "errors.h"
#include "perf_event.h"
#include "sysfs.h"
#include "text_format.h"

namespace emp {

namespace {

// Details are keyed: each thing left out gets its own key (skipped.1, skipped.2, ...), since a JS
// object keeps only the last value of a repeated key.
void AddSkipped(std::vector<std::pair<std::string, std::string>>& details, std::string why) {
  size_t n = 1;
  for (const auto& [key, value] : details) n += key.rfind("skipped.", 0) == 0 ? 1 : 0;
  details.emplace_back("skipped." + std::to_string(n), std::move(why));
}

constexpr const char* kAbsentReason = "no perf power PMU: kernel without RAPL perf support, or a VM";
constexpr const char* kAbsentFix =
    "on bare-metal Intel or AMD use a kernel built with perf RAPL support (CONFIG_PERF_EVENTS_INTEL_RAPL); "
    "virtual machines do not expose RAPL; the powercap and msr sources are the alternatives";
constexpr const char* kUnsupportedFix =
    "the sysfs description does not match the running kernel (EMP_SYSFS_ROOT pointing at another machine's tree?); "
    "use the powercap or msr source";

// Domains of the power PMU's events (Linux arch/x86/events/rapl.c names them so).
constexpr std::pair<const char*, const char*> kEventDomains[] = {
    {"energy-pkg", "package"}, {"energy-cores", "core"}, {"energy-gpu", "uncore"},
    {"energy-ram", "dram"},    {"energy-psys", "psys"},
};

// perf_event_open for one counting (never sampling) event of the whole system on one CPU. Kept
// private to this source: the general counters have their own wrapper (native/perf_event.*).
UniqueFd OpenSystemCounter(uint32_t type, uint64_t config, int cpu) noexcept {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = type;
  attr.config = config;
  // pid -1 with a CPU: every task on that CPU, which is what an uncore-like RAPL PMU accepts.
  return UniqueFd(PerfEventOpen(&attr, -1, cpu));
}

std::string JoinCpus(const std::vector<int>& cpus) {
  std::string out;
  for (int cpu : cpus) out += (out.empty() ? "" : ",") + std::to_string(cpu);
  return out;
}

std::string PermissionFix(const Roots& roots) {
  auto paranoid = sysfs::ReadText(roots.procfs + "/sys/kernel/perf_event_paranoid");
  return "system-wide perf events need kernel.perf_event_paranoid <= 0 (`sudo sysctl kernel.perf_event_paranoid=0`"
         ", now " +
         paranoid.value_or("unknown") +
         ") or CAP_PERFMON (`sudo setcap cap_perfmon=ep $(readlink -f $(command -v node))`), or running as root";
}

void AddDetails(const PerfPowerPmu& pmu, std::vector<std::pair<std::string, std::string>>& details) {
  details.emplace_back("pmu", pmu.dir);
  details.emplace_back("type", std::to_string(pmu.type));
  details.emplace_back("cpumask", JoinCpus(pmu.cpumask));
  std::string names;
  for (const auto& e : pmu.events) {
    names += (names.empty() ? "" : ",") + e.name;
    details.emplace_back(e.name + ".event", e.terms);
    details.emplace_back(e.name + ".config", HexString(e.config));
    details.emplace_back(e.name + ".scale", ExactNumber(e.scale));
    details.emplace_back(e.name + ".unit", e.unit);
  }
  details.emplace_back("events", names);
  for (const auto& why : pmu.skipped) AddSkipped(details, why);
}

// A CPU the kernel reads the PMU on, with the package it stands for.
struct Reader {
  int cpu;
  int package;
};

// The PMU's cpumask names the CPU the kernel itself uses per package (or die); without one,
// the first CPU of each package from the topology.
std::vector<Reader> Readers(const Roots& roots, const PerfPowerPmu& pmu,
                            std::vector<std::pair<std::string, std::string>>& details) {
  std::vector<Reader> readers;
  if (pmu.cpumask.empty()) {
    for (const auto& pc : sysfs::OneCpuPerPackage(roots.sysfs)) readers.push_back({pc.cpu, pc.package});
    return readers;
  }
  for (int cpu : pmu.cpumask) {
    const int package = sysfs::TopologyId(roots.sysfs, cpu, "physical_package_id");
    bool seen = false;
    for (const auto& r : readers) seen |= r.package == package;
    // Multi-die packages list one CPU per die; emp's domains are per package, so the first die
    // stands for it and the others are named in the details rather than silently merged.
    if (seen) {
      AddSkipped(details, "cpu " + std::to_string(cpu) + ": a second die of package " + std::to_string(package) +
                              " (per-die domains are not modelled)");
      continue;
    }
    readers.push_back({cpu, package});
  }
  return readers;
}

struct Opened {
  std::vector<Channel> channels;
  std::vector<UniqueFd> fds;
};

// Opens every selected event on every reader CPU; throws emp::Error with the first failure.
Opened Open(const Roots& roots, const PerfPowerPmu& pmu, const std::vector<std::string>& select,
            std::vector<std::pair<std::string, std::string>>& details) {
  Opened opened;
  const auto readers = Readers(roots, pmu, details);
  if (readers.empty()) throw Error(ErrorCode::kAbsent, "no online CPU to open the power PMU on");
  for (size_t r = 0; r < readers.size(); ++r) {
    for (const auto& event : pmu.events) {
      const bool psys = event.domain == "psys";
      if (psys && r > 0) continue;  // platform energy is one counter for the whole system
      const std::string domain = psys ? std::string("psys") : event.domain + "-" + std::to_string(readers[r].package);
      if (!Selected(select, domain) && !Selected(select, event.name)) continue;
      const std::string origin = "perf power type " + std::to_string(pmu.type) + " config " + HexString(event.config) +
                                 " (" + event.name + ") on cpu " + std::to_string(readers[r].cpu);
      UniqueFd fd = OpenSystemCounter(pmu.type, event.config, readers[r].cpu);
      if (!fd.Valid()) {
        const int err = errno;
        const std::string what = "perf_event_open(" + origin + ") failed: " + std::strerror(err);
        if (err == EACCES || err == EPERM)
          throw Error(ErrorCode::kPermission, what, err, pmu.dir, PermissionFix(roots));
        if (err == ENOENT || err == ENODEV || err == EINVAL || err == EOPNOTSUPP || err == ENOSYS) {
          throw Error(
              ErrorCode::kUnsupported,
              what + ": the running kernel has no such PMU type or event, so " + pmu.dir + " does not describe it", err,
              pmu.dir, kUnsupportedFix);
        }
        throw ErrnoError(err, "perf_event_open(" + origin + ") failed", pmu.dir);
      }
      Channel c;
      c.name = domain;
      c.domain = domain;
      c.quantity = "energy";
      c.unit = "count";
      c.scale = event.scale;
      c.wrap = 0;  // the kernel accumulates RAPL into a 64-bit count
      c.origin = origin;
      opened.channels.push_back(std::move(c));
      opened.fds.push_back(std::move(fd));
    }
  }
  if (opened.channels.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "the perf-power source has no event matching the selection");
  }
  return opened;
}

}  // namespace

std::optional<std::vector<std::pair<unsigned, unsigned>>> ParsePerfFormat(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || text.substr(0, colon) != "config") return std::nullopt;
  std::vector<std::pair<unsigned, unsigned>> ranges;
  const std::string list = text.substr(colon + 1);
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string part = list.substr(start, comma - start);
    // strtoul would take a sign ("-1" as ULONG_MAX) or leading blanks; the kernel writes neither.
    if (part.empty() || !std::isdigit(static_cast<unsigned char>(part[0]))) return std::nullopt;
    char* end = nullptr;
    const unsigned long lo = std::strtoul(part.c_str(), &end, 10);
    unsigned long hi = lo;
    if (*end == '-') {
      const char* hi_start = end + 1;
      hi = std::strtoul(hi_start, &end, 10);
      if (end == hi_start) return std::nullopt;
    }
    if (*end != '\0' || hi < lo || hi > 63) return std::nullopt;
    ranges.emplace_back(static_cast<unsigned>(lo), static_cast<unsigned>(hi));
    start = comma + 1;
  }
  return ranges;
}

std::optional<uint64_t> ParsePerfEventConfig(const std::string& terms,
                                             const std::map<std::string, std::string>& formats) {
  uint64_t config = 0;
  size_t start = 0;
  bool any = false;
  while (start < terms.size()) {
    size_t comma = terms.find(',', start);
    if (comma == std::string::npos) comma = terms.size();
    const std::string term = terms.substr(start, comma - start);
    start = comma + 1;
    if (term.empty()) continue;
    const size_t eq = term.find('=');
    const std::string name = term.substr(0, eq);
    uint64_t value = 1;  // a bare term is a flag set to 1
    if (eq != std::string::npos) {
      const std::string text = term.substr(eq + 1);
      // strtoull would take a sign ("-1" as 2^64-1) or leading blanks; the kernel writes neither.
      if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
      char* end = nullptr;
      errno = 0;
      value = std::strtoull(text.c_str(), &end, 0);
      if (*end != '\0' || errno != 0) return std::nullopt;
    }
    auto format = formats.find(name);
    if (format == formats.end()) {
      if (name != "event") return std::nullopt;
      config |= value;
    } else {
      auto ranges = ParsePerfFormat(format->second);
      if (!ranges) return std::nullopt;
      unsigned used = 0;  // value bits already placed
      for (const auto& [lo, hi] : *ranges) {
        const unsigned width = hi - lo + 1;
        const uint64_t field = width >= 64 ? value >> used : (value >> used) & ((uint64_t{1} << width) - 1);
        config |= field << lo;
        used += width;
      }
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return config;
}

std::optional<double> ParsePerfScale(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return std::nullopt;
  while (*end == ' ' || *end == '\n') ++end;
  if (*end != '\0' || !std::isfinite(value) || value <= 0) return std::nullopt;
  return value;
}

std::optional<PerfPowerPmu> PerfPowerSource::Describe(const std::string& sysfs_root) {
  PerfPowerPmu pmu;
  pmu.dir = sysfs_root + "/bus/event_source/devices/power";
  const std::string type_path = pmu.dir + "/type";
  auto type_text = sysfs::ReadText(type_path);
  if (!type_text) return std::nullopt;
  uint64_t type = 0;
  // perf_event_attr.type is 32 bits: a larger number would be truncated into another PMU's type
  // (2^32 into 0, the CPU's hardware events) and counted as energy.
  if (!ParseU64(type_text->data(), type_text->size(), &type) || type > UINT32_MAX) {
    throw Error(ErrorCode::kUnsupported,
                type_path + " holds '" + Excerpt(*type_text) + "', not a PMU type (0 to 2^32-1)", 0, type_path,
                kUnsupportedFix);
  }
  pmu.type = static_cast<uint32_t>(type);
  if (auto mask = sysfs::ReadText(pmu.dir + "/cpumask")) pmu.cpumask = sysfs::ParseCpuList(*mask);
  std::map<std::string, std::string> formats;
  for (const auto& name : sysfs::ListDir(pmu.dir + "/format")) {
    if (auto text = sysfs::ReadText(pmu.dir + "/format/" + name)) formats.emplace(name, *text);
  }
  for (const auto& [name, domain] : kEventDomains) {
    const std::string base = pmu.dir + "/events/" + name;
    auto terms = sysfs::ReadText(base);
    if (!terms) continue;
    PerfPowerEvent event;
    event.name = name;
    event.domain = domain;
    event.terms = *terms;
    auto config = ParsePerfEventConfig(*terms, formats);
    auto scale_text = sysfs::ReadText(base + ".scale");
    auto scale = scale_text ? ParsePerfScale(*scale_text) : std::nullopt;
    event.unit = sysfs::ReadText(base + ".unit").value_or("");
    if (!config) {
      pmu.skipped.push_back(event.name + ": cannot parse '" + *terms + "'");
      continue;
    }
    // Without its scale a count cannot be turned into joules; a unit other than Joules is not energy.
    if (!scale || event.unit != "Joules") {
      pmu.skipped.push_back(event.name + ": scale '" + scale_text.value_or("") + "' unit '" + event.unit + "'");
      continue;
    }
    event.config = *config;
    event.scale = *scale;
    pmu.events.push_back(std::move(event));
  }
  return pmu;
}

SensorReport PerfPowerSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "perf-power";
  std::optional<PerfPowerPmu> pmu;
  try {
    pmu = Describe(roots.sysfs);
  } catch (const Error& error) {
    ReportFailure(report, error);
    return report;
  }
  if (!pmu) {
    report.status = SensorStatus::kAbsent;
    report.reason = std::string(kAbsentReason) + " (" + roots.sysfs + "/bus/event_source/devices/power/type)";
    report.fix = kAbsentFix;
    return report;
  }
  AddDetails(*pmu, report.details);
  if (pmu->events.empty()) {
    report.status = SensorStatus::kUnsupported;
    report.reason = "the power PMU describes no energy event emp can use";
    report.fix = kUnsupportedFix;
    return report;
  }
  try {
    Opened opened = Open(roots, *pmu, {}, report.details);
    // One read proves the counter can be read, not only opened.
    uint64_t count = 0;
    if (::read(opened.fds.front().Get(), &count, sizeof count) != static_cast<ssize_t>(sizeof count)) {
      throw ErrnoError(errno, "reading the perf power counter failed", pmu->dir);
    }
    report.status = SensorStatus::kAvailable;
    report.channels = std::move(opened.channels);
  } catch (const Error& error) {
    ReportFailure(report, error);
  }
  return report;
}

std::unique_ptr<Source> PerfPowerSource::Create(const Roots& roots, const SourceSpec& spec) {
  auto pmu = Describe(roots.sysfs);
  if (!pmu) {
    throw Error(ErrorCode::kAbsent, kAbsentReason, ENOENT, roots.sysfs + "/bus/event_source/devices/power", kAbsentFix);
  }
  if (pmu->events.empty()) {
    throw Error(ErrorCode::kUnsupported, "the power PMU describes no energy event emp can use", 0, pmu->dir,
                kUnsupportedFix);
  }
  std::vector<std::pair<std::string, std::string>> details;
  Opened opened = Open(roots, *pmu, spec.select, details);
  return std::unique_ptr<Source>(new PerfPowerSource(std::move(opened.channels), std::move(opened.fds)));
}

PerfPowerSource::PerfPowerSource(std::vector<Channel> channels, std::vector<UniqueFd> fds)
    : channels_(std::move(channels)), fds_(std::move(fds)) {}

bool PerfPowerSource::Read(uint64_t* out) noexcept {
  bool ok = true;
  for (size_t i = 0; i < fds_.size(); ++i) {
    // perf event fds do not support pread; read() of a counting event returns its 64-bit value.
    uint64_t value = 0;
    ssize_t n;
    do {
      n = ::read(fds_[i].Get(), &value, sizeof value);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof value)) {
      ok = false;
      continue;
    }
    out[i] = value;
  }
  return ok;
}

}  // namespace emp
