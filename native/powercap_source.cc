#include "powercap_source.h"

#include <cerrno>
#include <regex>

#include "errors.h"
#include "sysfs.h"

namespace emp {

namespace {
constexpr const char* kPermissionFix =
    "energy_uj is readable only by root since Linux 5.10: run as root, or `sudo chmod o+r "
    "/sys/class/powercap/intel-rapl:*/energy_uj` (and its sub-zones) for this boot";
constexpr const char* kAbsentFix =
    "no RAPL powercap zones: on bare-metal Intel or AMD load the driver (`sudo modprobe intel_rapl_msr`); "
    "virtual machines and containers without the host's /sys do not expose RAPL (point EMP_SYSFS_ROOT at a "
    "mounted host /sys)";

// "package-0" keeps its index; sub-zones ("core", "dram") take the index of their package.
std::string DomainOf(const std::string& name, int package) {
  if (name.rfind("package-", 0) == 0 || name == "psys") return name;
  return name + "-" + std::to_string(package);
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
}  // namespace

std::vector<PowercapZone> PowercapSource::Discover(const std::string& sysfs_root) {
  static const std::regex kZone(R"(^(intel-rapl|intel-rapl-mmio|amd-rapl)((:\d+)+)$)");
  const std::string base = sysfs_root + "/class/powercap";
  std::vector<PowercapZone> zones;
  for (const auto& id : sysfs::ListDir(base)) {
    std::smatch m;
    if (!std::regex_match(id, m, kZone)) continue;
    PowercapZone zone;
    zone.id = id;
    zone.dir = base + "/" + id;
    auto name = sysfs::ReadText(zone.dir + "/name");
    if (!name || !sysfs::Exists(zone.dir + "/energy_uj")) continue;
    int package = std::stoi(m[2].str().substr(1));  // first index after the control type
    if (name->rfind("package-", 0) == 0) package = std::stoi(name->substr(8));
    zone.domain = DomainOf(*name, package);
    zone.max_energy_range_uj = sysfs::ReadU64(zone.dir + "/max_energy_range_uj").value_or(0);
    // The MMIO interface repeats a package domain that the MSR-backed zone already gives.
    bool duplicate = false;
    for (const auto& z : zones) duplicate |= z.domain == zone.domain;
    if (!duplicate) zones.push_back(std::move(zone));
  }
  return zones;
}

SensorReport PowercapSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "powercap";
  auto zones = Discover(roots.sysfs);
  if (zones.empty()) {
    report.status = SensorStatus::kAbsent;
    report.reason = "no intel-rapl zones under " + roots.sysfs + "/class/powercap";
    report.fix = kAbsentFix;
    return report;
  }
  bool denied = false;
  for (const auto& zone : zones) {
    UniqueFd fd = UniqueFd::OpenReadOnly(zone.dir + "/energy_uj");
    char buf[32];
    if (!fd.Valid() || fd.PreadAt(buf, sizeof buf, 0) < 0) {
      denied |= errno == EACCES || errno == EPERM;
      continue;
    }
    report.channels.push_back(ChannelFor(zone));
  }
  SettleReport(report, {denied, "energy_uj exists but this process may not read it", kPermissionFix,
                        "powercap zones exist but energy_uj could not be read", kAbsentFix});
  return report;
}

std::unique_ptr<Source> PowercapSource::Create(const Roots& roots, const SourceSpec& spec) {
  std::vector<Channel> channels;
  std::vector<UniqueFd> fds;
  for (const auto& zone : Discover(roots.sysfs)) {
    if (!Selected(spec.select, zone.domain)) continue;
    Channel channel = ChannelFor(zone);
    UniqueFd fd = UniqueFd::OpenReadOnly(channel.origin);
    if (!fd.Valid()) {
      throw ErrnoError(errno, "cannot open RAPL powercap counter", channel.origin,
                       errno == EACCES ? kPermissionFix : kAbsentFix);
    }
    channels.push_back(std::move(channel));
    fds.push_back(std::move(fd));
  }
  if (channels.empty()) {
    throw Error(ErrorCode::kAbsent, "no RAPL powercap zone to read", 0, roots.sysfs + "/class/powercap", kAbsentFix);
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
