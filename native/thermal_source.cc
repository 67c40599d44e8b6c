#include "thermal_source.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <map>
#include <regex>
#include <string_view>

#include "errors.h"
#include "sysfs.h"

namespace emp {

namespace {
constexpr const char* kAbsentFix =
    "on bare metal load the CPU temperature driver (`sudo modprobe coretemp` on Intel, `sudo modprobe k10temp` "
    "on AMD); virtual machines and most containers expose no temperature sensors (point EMP_SYSFS_ROOT at a "
    "mounted host /sys)";
constexpr const char* kPermissionFix =
    "the temperature files exist but this process may not read them: run as root, or `sudo chmod o+r` the "
    "thermal_zone*/temp and hwmon*/temp*_input files";

// Channel names must be one token: "Package id 0" becomes "Package-id-0". Real zone types and
// labels are a few words; the cut keeps a corrupt file from becoming a megabyte-long name.
std::string Sanitize(const std::string& text) {
  constexpr size_t kMaxNameChars = 64;
  std::string out;
  for (char c : text.substr(0, kMaxNameChars)) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    out.push_back(keep ? c : '-');
  }
  return out.empty() ? "unnamed" : out;
}

bool WantedDriver(const std::string& driver) {
  for (const char* wanted : ThermalSource::kHwmonDrivers) {
    if (driver == wanted) return true;
  }
  return false;
}

// One read as the sampler will do it. A zone whose sensor is disabled answers ENODATA or EINVAL,
// and a hwmon input of a faulty diode fails too: such files are left out rather than sampled forever
// as failures.
bool ReadOnce(const UniqueFd& fd, int64_t* value) noexcept {
  char buf[32];
  ssize_t n = fd.PreadAt(buf, sizeof buf, 0);
  return n > 0 && ParseI64(buf, static_cast<size_t>(n), value);
}

void DiscoverZones(const std::string& sysfs_root, std::vector<ThermalSensor>& out) {
  static const std::regex kZone(R"(^thermal_zone(\d+)$)");
  const std::string base = sysfs_root + "/class/thermal";
  for (const auto& id : sysfs::ListDir(base)) {
    std::smatch m;
    if (!std::regex_match(id, m, kZone)) continue;
    const std::string dir = base + "/" + id;
    if (!sysfs::Exists(dir + "/temp")) continue;
    const std::string type = sysfs::ReadText(dir + "/type").value_or("zone");
    // Zone types repeat (several "acpitz"), the zone number does not.
    out.push_back({"thermal-" + Sanitize(type) + "-" + m[1].str(), "system", dir + "/temp"});
  }
}

struct HwmonDevice {
  std::string id;        // "hwmon3"
  std::string attr_dir;  // where name and temp*_input live
  std::string driver;    // "coretemp", "k10temp"
  std::string order;     // the device's canonical path: PCI and platform addresses sort by package
};

struct HwmonTemp {
  const HwmonDevice* device;
  std::string label;  // temp*_label sanitized, or "tempN"
  std::string path;
  std::string domain;
};

std::vector<HwmonDevice> HwmonDevices(const std::string& sysfs_root) {
  std::vector<HwmonDevice> devices;
  const std::string base = sysfs_root + "/class/hwmon";
  for (const auto& id : sysfs::ListDir(base)) {
    if (id.rfind("hwmon", 0) != 0) continue;
    HwmonDevice device{id, base + "/" + id, {}, {}};
    auto driver = sysfs::ReadText(device.attr_dir + "/name");
    if (!driver) {
      // Kernels before 3.x kept the attributes in the parent device's directory.
      device.attr_dir += "/device";
      driver = sysfs::ReadText(device.attr_dir + "/name");
    }
    if (!driver || !WantedDriver(*driver)) continue;
    device.driver = *driver;
    std::error_code ec;
    auto canonical = std::filesystem::canonical(base + "/" + id + "/device", ec);
    device.order = ec ? id : canonical.string();
    devices.push_back(std::move(device));
  }
  return devices;
}

// The package of each device, where the driver makes it knowable: coretemp labels one input
// "Package id N"; k10temp and zenpower have one device per package (per node), ordered like the
// packages by PCI address, which is trusted only when the counts match the CPU topology.
std::map<const HwmonDevice*, std::string> PackagesOf(const std::vector<HwmonDevice>& devices,
                                                     const std::vector<HwmonTemp>& temps,
                                                     const std::string& sysfs_root) {
  constexpr std::string_view kPackageLabel = "Package-id-";
  std::map<const HwmonDevice*, std::string> package;
  for (const auto& t : temps) {
    if (t.device->driver != "coretemp" || t.label.compare(0, kPackageLabel.size(), kPackageLabel) != 0) continue;
    // A number no topology has leaves the device's domain "system" rather than naming a package.
    if (auto id = sysfs::ParseIndex(std::string_view(t.label).substr(kPackageLabel.size()))) {
      package[t.device] = "package-" + std::to_string(*id);
    }
  }
  const size_t packages = sysfs::OneCpuPerPackage(sysfs_root).size();
  for (const char* driver : {"k10temp", "zenpower"}) {
    std::vector<const HwmonDevice*> same;
    for (const auto& d : devices) {
      if (d.driver == driver) same.push_back(&d);
    }
    if (same.empty() || same.size() != packages) continue;
    std::sort(same.begin(), same.end(), [](const auto* a, const auto* b) { return a->order < b->order; });
    for (size_t i = 0; i < same.size(); ++i) package[same[i]] = "package-" + std::to_string(i);
  }
  return package;
}

void DiscoverHwmon(const std::string& sysfs_root, std::vector<ThermalSensor>& out) {
  static const std::regex kInput(R"(^temp(\d+)_input$)");
  const std::vector<HwmonDevice> devices = HwmonDevices(sysfs_root);
  std::vector<HwmonTemp> temps;
  for (const auto& device : devices) {
    for (const auto& file : sysfs::ListDir(device.attr_dir)) {
      std::smatch m;
      if (!std::regex_match(file, m, kInput)) continue;
      const std::string n = m[1].str();
      auto label = sysfs::ReadText(device.attr_dir + "/temp" + n + "_label");
      temps.push_back({&device, Sanitize(label.value_or("temp" + n)), device.attr_dir + "/" + file, "system"});
    }
  }
  const auto package = PackagesOf(devices, temps, sysfs_root);
  std::map<std::string, int> uses;
  for (auto& t : temps) {
    if (auto it = package.find(t.device); it != package.end()) t.domain = it->second;
    ++uses[t.device->driver + "-" + t.label];
  }
  // "k10temp-Tctl" while it is unique; with several packages "coretemp-package-1-Core-0".
  for (const auto& t : temps) {
    std::string name = t.device->driver + "-" + t.label;
    if (uses[name] > 1) {
      name = t.device->driver + "-" + (t.domain != "system" ? t.domain : t.device->id) + "-" + t.label;
    }
    out.push_back({std::move(name), t.domain, t.path});
  }
}

Channel ChannelFor(const ThermalSensor& sensor) {
  Channel c;
  c.name = sensor.name;
  c.domain = sensor.domain;
  c.quantity = "temperature";
  c.unit = "mC";
  c.scale = 1e-3;
  c.wrap = 0;
  c.counter = false;
  c.is_signed = true;
  c.origin = sensor.path;
  return c;
}
}  // namespace

std::vector<ThermalSensor> ThermalSource::Discover(const std::string& sysfs_root) {
  std::vector<ThermalSensor> sensors;
  DiscoverZones(sysfs_root, sensors);
  DiscoverHwmon(sysfs_root, sensors);
  // Names must be unique within the source even in odd trees (two zones sanitized alike).
  std::map<std::string, int> seen;
  for (auto& s : sensors) {
    if (int n = seen[s.name]++; n > 0) s.name += "-" + std::to_string(n);
  }
  return sensors;
}

SensorReport ThermalSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "thermal";
  const auto sensors = Discover(roots.sysfs);
  if (sensors.empty()) {
    report.status = SensorStatus::kAbsent;
    report.reason = "no thermal_zone*/temp under " + roots.sysfs + "/class/thermal and no coretemp, k10temp or " +
                    "zenpower device under " + roots.sysfs + "/class/hwmon";
    report.fix = kAbsentFix;
    return report;
  }
  bool denied = false;
  size_t silent = 0;
  for (const auto& sensor : sensors) {
    UniqueFd fd = UniqueFd::OpenReadOnly(sensor.path);
    int64_t value = 0;
    if (!fd.Valid() || !ReadOnce(fd, &value)) {
      denied |= errno == EACCES || errno == EPERM;
      ++silent;
      continue;
    }
    report.channels.push_back(ChannelFor(sensor));
  }
  if (silent > 0) report.details.emplace_back("unreadable", std::to_string(silent) + " sensor(s) did not answer");
  SettleReport(report, {denied, "temperature files exist but this process may not read them", kPermissionFix,
                        "temperature files exist but none returned a value (sensors disabled or faulty)", kAbsentFix});
  return report;
}

std::unique_ptr<Source> ThermalSource::Create(const Roots& roots, const SourceSpec& spec) {
  std::vector<Channel> channels;
  std::vector<UniqueFd> fds;
  for (const auto& sensor : Discover(roots.sysfs)) {
    if (!Selected(spec.select, sensor.name)) continue;
    UniqueFd fd = UniqueFd::OpenReadOnly(sensor.path);
    int64_t value = 0;
    if (!fd.Valid() || !ReadOnce(fd, &value)) {
      // Asked for by name: say why it cannot be read. Otherwise leave the silent sensor out, as the probe does.
      if (spec.select.empty()) continue;
      throw ErrnoError(errno, "cannot read temperature " + sensor.name, sensor.path,
                       errno == EACCES || errno == EPERM ? kPermissionFix : kAbsentFix);
    }
    channels.push_back(ChannelFor(sensor));
    fds.push_back(std::move(fd));
  }
  if (channels.empty()) {
    throw Error(ErrorCode::kAbsent, "no temperature sensor to read", 0, roots.sysfs + "/class/thermal", kAbsentFix);
  }
  return std::unique_ptr<Source>(new ThermalSource(std::move(channels), std::move(fds)));
}

ThermalSource::ThermalSource(std::vector<Channel> channels, std::vector<UniqueFd> fds)
    : channels_(std::move(channels)), fds_(std::move(fds)) {}

bool ThermalSource::Read(uint64_t* out) noexcept {
  bool ok = true;
  for (size_t i = 0; i < fds_.size(); ++i) {
    int64_t value = 0;
    if (!ReadOnce(fds_[i], &value)) {
      ok = false;
      continue;
    }
    // The ring holds raw bits; Channel::is_signed tells the reader to take them back as int64.
    out[i] = static_cast<uint64_t>(value);
  }
  return ok;
}

}  // namespace emp
