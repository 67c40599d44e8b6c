#include "powercap_source.h"

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "errors.h"
#include "sysfs.h"
#include "text_format.h"

namespace emp {

namespace {
constexpr const char* kPermissionFix =
    "energy_uj is readable only by root since Linux 5.10: run as root, or `sudo chmod o+r "
    "/sys/class/powercap/intel-rapl:*/energy_uj` (and its sub-zones) for this boot";
constexpr const char* kAbsentFix =
    "no RAPL powercap zones: on bare-metal Intel or AMD load the driver (`sudo modprobe intel_rapl_msr`); "
    "virtual machines and containers without the host's /sys do not expose RAPL (point EMP_SYSFS_ROOT at a "
    "mounted host /sys)";
constexpr const char* kRefusedFix =
    "the powercap tree describes these zones as no kernel driver does: if EMP_SYSFS_ROOT points at a copied tree, "
    "copy it again; otherwise update the kernel, or read those domains through the msr or perf-power source";

// The largest wrap a channel can carry exactly: the TypeScript side holds it in a double.
constexpr uint64_t kMaxRangeUj = (uint64_t{1} << 53) - 1;

// The control types whose zones count energy; "intel-rapl:N" is never mistaken for
// "intel-rapl-mmio:N" because the colon follows the type directly.
constexpr std::string_view kControlTypes[] = {"intel-rapl", "intel-rapl-mmio", "amd-rapl"};

enum class IdShape { kOther, kMalformed, kZone };
struct ZoneId {
  IdShape shape = IdShape::kOther;
  int package = 0;  // the first index after the control type
};

// "intel-rapl:0:1" is zone 1 of package 0. A name of another control type (or the "intel-rapl"
// directory itself) is kOther; one that starts like a zone but is no list of indices, kMalformed.
ZoneId ParseZoneId(std::string_view id) {
  for (std::string_view type : kControlTypes) {
    if (id.size() <= type.size() || id.substr(0, type.size()) != type || id[type.size()] != ':') continue;
    std::string_view rest = id.substr(type.size() + 1);
    ZoneId zone{IdShape::kZone, -1};
    for (;;) {
      const size_t colon = rest.find(':');
      const auto index = sysfs::ParseIndex(rest.substr(0, colon));
      if (!index) return {IdShape::kMalformed, 0};
      if (zone.package < 0) zone.package = *index;
      if (colon == std::string_view::npos) return zone;
      rest = rest.substr(colon + 1);
    }
  }
  return {};
}

// The kernel's RAPL domain names (drivers/powercap/intel_rapl_common.c): "package-N" (and
// "package-N-die-M" on multi-die parts) keep their own index, normalised; sub-zones take the
// package of their zone id; "psys" is the platform's. nullopt for any other name.
std::optional<std::string> DomainOf(const std::string& name, int package) {
  if (name == "psys") return name;
  if (name == "core" || name == "uncore" || name == "dram") return name + "-" + std::to_string(package);
  constexpr std::string_view kPackage = "package-";
  constexpr std::string_view kDie = "-die-";
  if (name.compare(0, kPackage.size(), kPackage) != 0) return std::nullopt;
  const std::string_view rest = std::string_view(name).substr(kPackage.size());
  const size_t die = rest.find(kDie);
  const auto index = sysfs::ParseIndex(rest.substr(0, die));
  if (!index) return std::nullopt;
  std::string domain = "package-" + std::to_string(*index);
  if (die == std::string_view::npos) return domain;
  const auto die_index = sysfs::ParseIndex(rest.substr(die + kDie.size()));
  if (!die_index) return std::nullopt;
  return domain + "-die-" + std::to_string(*die_index);
}

// nullopt when max_energy_range_uj is a usable range (stored in *max_uj); else why not, naming
// the file and what it holds. The range is the counter's wrap: without it (or with 0 or 1, which
// a missing file used to become) every difference would be corrected into nonsense.
std::optional<std::string> RangeProblem(const std::string& path, uint64_t* max_uj) {
  auto text = sysfs::ReadText(path);
  if (!text) {
    const int err = errno;
    return path + " cannot be read (" + std::strerror(err) + "), so the counter's wrap is unknown";
  }
  uint64_t value = 0;
  if (!ParseU64(text->data(), text->size(), &value)) {
    return path + " holds '" + Excerpt(*text) + "', not a number of microjoules";
  }
  if (value <= 1) {
    return path + " is " + std::to_string(value) +
           ": a counter range of 1 uJ or less is no counter's, and its wraps "
           "cannot be corrected";
  }
  if (value > kMaxRangeUj) {
    return path + " is " + std::to_string(value) + ": beyond 2^53 - 1 uJ the wrap cannot be carried exactly";
  }
  *max_uj = value;
  return std::nullopt;
}

Channel ChannelFor(const PowercapZone& zone) {
  Channel c;
  c.name = zone.domain;
  c.domain = zone.domain;
  c.quantity = "energy";
  c.unit = "uJ";
  c.scale = 1e-6;
  // The counter runs from 0 to max_energy_range_uj inclusive, then starts again at 0.
  c.wrap = zone.max_energy_range_uj + 1;
  c.origin = zone.dir + "/energy_uj";
  return c;
}

// energy_uj opened and read once as the sampler will read it. On failure fd is invalid, err holds
// the errno of a failed open or read (0 when the text was no number) and problem says which.
struct CounterCheck {
  UniqueFd fd;
  int err = 0;
  std::string problem;
};

CounterCheck OpenCounter(const std::string& path) {
  CounterCheck check;
  UniqueFd fd = UniqueFd::OpenReadOnly(path);
  char buf[32];
  const ssize_t n = fd.Valid() ? fd.PreadAt(buf, sizeof buf, 0) : -1;
  uint64_t value = 0;
  if (n < 0) {
    check.err = errno;
    check.problem = path + " cannot be read: " + std::strerror(check.err);
  } else if (!ParseU64(buf, static_cast<size_t>(n), &value)) {
    std::string text(buf, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    check.problem = path + " holds '" + Excerpt(text) + "', not a number of microjoules";
  } else {
    check.fd = std::move(fd);
  }
  return check;
}

Error CounterError(const CounterCheck& check, const std::string& path) {
  if (check.err == 0) return Error(ErrorCode::kUnsupported, check.problem, 0, path, kRefusedFix);
  const bool denied = check.err == EACCES || check.err == EPERM;
  return ErrnoError(check.err, "cannot read RAPL powercap counter", path, denied ? kPermissionFix : kAbsentFix);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : "; ") + item;
  return out;
}
}  // namespace

PowercapTree PowercapSource::Discover(const std::string& sysfs_root) {
  const std::string base = sysfs_root + "/class/powercap";
  PowercapTree tree;
  for (const auto& id : sysfs::ListDir(base)) {
    const ZoneId parsed = ParseZoneId(id);
    if (parsed.shape == IdShape::kOther) continue;
    const std::string dir = base + "/" + id;
    if (parsed.shape == IdShape::kMalformed) {
      tree.refused.push_back(dir + ": not a zone name (<type>:N or <type>:N:M, each index below " +
                             std::to_string(sysfs::kMaxCpus) + ")");
      continue;
    }
    auto name = sysfs::ReadText(dir + "/name");
    if (!name) {
      const int err = errno;
      tree.refused.push_back(dir + "/name cannot be read (" + std::strerror(err) + ")");
      continue;
    }
    auto domain = DomainOf(*name, parsed.package);
    if (!domain) {
      tree.refused.push_back(dir + "/name is '" + Excerpt(*name) +
                             "', not a RAPL domain (package-N, core, uncore, dram, psys)");
      continue;
    }
    PowercapZone zone{id, dir, *domain, 0};
    if (auto problem = RangeProblem(dir + "/max_energy_range_uj", &zone.max_energy_range_uj)) {
      tree.refused.push_back(*problem);
      continue;
    }
    // The MMIO interface repeats a package domain that the MSR-backed zone already gives.
    bool duplicate = false;
    for (const auto& z : tree.zones) duplicate |= z.domain == zone.domain;
    if (!duplicate) tree.zones.push_back(std::move(zone));
  }
  return tree;
}

SensorReport PowercapSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "powercap";
  PowercapTree tree = Discover(roots.sysfs);
  if (tree.zones.empty() && tree.refused.empty()) {
    report.status = SensorStatus::kAbsent;
    report.reason = "no intel-rapl zones under " + roots.sysfs + "/class/powercap";
    report.fix = kAbsentFix;
    return report;
  }
  bool denied = false;
  for (const auto& zone : tree.zones) {
    const CounterCheck check = OpenCounter(zone.dir + "/energy_uj");
    if (check.err == EACCES || check.err == EPERM) {
      denied = true;
    } else if (!check.fd.Valid()) {
      tree.refused.push_back(check.problem);
    } else {
      report.channels.push_back(ChannelFor(zone));
    }
  }
  const std::string refused = Join(tree.refused);
  if (!report.channels.empty()) {
    // Available, and the zones left out are named rather than silently missing from the results.
    report.status = SensorStatus::kAvailable;
    if (!refused.empty()) {
      report.reason = "zones not used: " + refused;
      report.fix = kRefusedFix;
    }
  } else if (denied) {
    report.status = SensorStatus::kPermissionDenied;
    report.reason = "energy_uj exists but this process may not read it";
    if (!refused.empty()) report.reason += "; zones not used: " + refused;
    report.fix = kPermissionFix;
  } else {
    report.status = SensorStatus::kUnsupported;
    report.reason = "no usable powercap zone: " + refused;
    report.fix = kRefusedFix;
  }
  return report;
}

std::unique_ptr<Source> PowercapSource::Create(const Roots& roots, const SourceSpec& spec) {
  const PowercapTree tree = Discover(roots.sysfs);
  std::vector<Channel> channels;
  std::vector<UniqueFd> fds;
  std::optional<Error> first_failure;
  for (const auto& zone : tree.zones) {
    if (!Selected(spec.select, zone.domain)) continue;
    Channel channel = ChannelFor(zone);
    CounterCheck check = OpenCounter(channel.origin);
    if (!check.fd.Valid()) {
      // Asked for by name: say why it cannot be read. Otherwise leave it out, as the probe does.
      if (!spec.select.empty()) throw CounterError(check, channel.origin);
      if (!first_failure) first_failure = CounterError(check, channel.origin);
      continue;
    }
    channels.push_back(std::move(channel));
    fds.push_back(std::move(check.fd));
  }
  if (channels.empty()) {
    if (first_failure) throw *first_failure;
    const std::string base = roots.sysfs + "/class/powercap";
    if (!tree.refused.empty()) {
      throw Error(ErrorCode::kUnsupported, "no usable RAPL powercap zone: " + Join(tree.refused), 0, base, kRefusedFix);
    }
    throw Error(ErrorCode::kAbsent, "no RAPL powercap zone to read", 0, base, kAbsentFix);
  }
  return std::unique_ptr<Source>(new PowercapSource(std::move(channels), std::move(fds)));
}

PowercapSource::PowercapSource(std::vector<Channel> channels, std::vector<UniqueFd> fds)
    : channels_(std::move(channels)), fds_(std::move(fds)) {}

bool PowercapSource::Read(uint64_t* out) noexcept {
  bool ok = true;
  char buf[32];
  for (size_t i = 0; i < fds_.size(); ++i) {
    ssize_t n = fds_[i].PreadAt(buf, sizeof buf, 0);
    if (n <= 0 || !ParseU64(buf, static_cast<size_t>(n), &out[i])) ok = false;
  }
  return ok;
}

}  // namespace emp
