// Temperatures: <sysfs>/class/thermal/thermal_zone*/temp and the CPU drivers' hwmon temp*_input,
// both in millidegrees Celsius, read as signed gauges.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "source.h"
#include "source_registry.h"
#include "unique_fd.h"

namespace emp {

// A temperature file found in the tree, before it is opened for sampling.
struct ThermalSensor {
  std::string name;    // unique channel name: "thermal-acpitz-0", "k10temp-Tctl", "coretemp-Package-id-0"
  std::string domain;  // "package-N" where the driver tells the package, else "system"
  std::string path;    // the temp or temp*_input file
};

class ThermalSource final : public Source {
 public:
  // hwmon drivers whose temperatures are read. Only CPU drivers: the temperature gate and drift
  // warnings concern the CPU, ACPI zones already appear under class/thermal, and other drivers can
  // be costly to read (drivetemp issues a SMART command to the disk, nvme an admin command).
  static constexpr const char* kHwmonDrivers[] = {"coretemp", "k10temp", "zenpower"};

  [[nodiscard]] static std::vector<ThermalSensor> Discover(const std::string& sysfs_root);
  [[nodiscard]] static SensorReport Probe(const Roots& roots);
  [[nodiscard]] static std::unique_ptr<Source> Create(const Roots& roots, const SourceSpec& spec);

  const char* kind() const noexcept override { return "thermal"; }
  const std::vector<Channel>& channels() const noexcept override { return channels_; }
  // Temperatures move over tens of milliseconds, coretemp refreshes its value at most once a
  // second, and an ACPI zone read can run AML for milliseconds: 10 Hz loses nothing.
  double max_hz() const noexcept override { return 10; }
  bool blocking() const noexcept override { return true; }
  bool Read(uint64_t* out) noexcept override;

 private:
  ThermalSource(std::vector<Channel> channels, std::vector<UniqueFd> fds);
  std::vector<Channel> channels_;
  std::vector<UniqueFd> fds_;  // one temperature file per channel, open for the source's lifetime
};

}  // namespace emp
