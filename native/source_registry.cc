#include "source_registry.h"

#include <algorithm>

#include "nvml_source.h"
#include "perf_counter_source.h"
#include "perf_power_source.h"
#include "powercap_source.h"
#include "rapl_msr_source.h"
#include "thermal_source.h"

namespace emp {

const char* SensorStatusName(SensorStatus status) noexcept {
  switch (status) {
    case SensorStatus::kAvailable: return "available";
    case SensorStatus::kPermissionDenied: return "permission-denied";
    case SensorStatus::kAbsent: return "absent";
    case SensorStatus::kUnsupported: return "unsupported";
  }
  return "absent";
}

void SettleReport(SensorReport& report, const ProbeOutcome& outcome) {
  if (!report.channels.empty()) {
    report.status = SensorStatus::kAvailable;
  } else if (outcome.denied) {
    report.status = SensorStatus::kPermissionDenied;
    report.reason = outcome.denied_reason;
    report.fix = outcome.permission_fix;
  } else {
    report.status = SensorStatus::kUnsupported;
    report.reason = outcome.unreadable_reason;
    report.fix = outcome.unreadable_fix;
  }
}

void ReportFailure(SensorReport& report, const Error& error) {
  switch (error.code()) {
    case ErrorCode::kAbsent: report.status = SensorStatus::kAbsent; break;
    case ErrorCode::kPermission: report.status = SensorStatus::kPermissionDenied; break;
    default: report.status = SensorStatus::kUnsupported; break;
  }
  report.reason = error.what();
  if (!error.path().empty() && report.reason.find(error.path()) == std::string::npos) {
    report.reason += " (" + error.path() + ")";
  }
  report.fix = error.suggestion();
}

const std::vector<SourceKind>& SourceKinds() {
  static const std::vector<SourceKind> kinds = {
      {"powercap", PowercapSource::Probe, PowercapSource::Create, &Roots::sysfs},
      {"nvml", NvmlSource::Probe, NvmlSource::Create, &Roots::nvml_lib},
      {"perf", PerfCounterSource::Probe, PerfCounterSource::Create, &Roots::sysfs},
      // The msr source reads cpuinfo and the sysfs topology too; its own files are the devices.
      {"msr", RaplMsrSource::Probe, RaplMsrSource::Create, &Roots::dev},
      {"perf-power", PerfPowerSource::Probe, PerfPowerSource::Create, &Roots::sysfs},
      {"thermal", ThermalSource::Probe, ThermalSource::Create, &Roots::sysfs},
  };
  return kinds;
}

const SourceKind* FindSourceKind(const std::string& kind) {
  for (const auto& k : SourceKinds()) {
    if (kind == k.kind) return &k;
  }
  return nullptr;
}

SensorReport ProbeKind(const SourceKind& kind, const Roots& roots) {
  try {
    return kind.probe(roots);
  } catch (...) {
    SensorReport report;
    report.kind = kind.kind;
    ReportFailure(report, ErrorFromCurrentException(std::string("probing ") + kind.kind, roots.*kind.root));
    return report;
  }
}

std::unique_ptr<Source> CreateKind(const SourceKind& kind, const Roots& roots, const SourceSpec& spec) {
  try {
    return kind.create(roots, spec);
  } catch (const Error&) {
    throw;
  } catch (...) {
    throw ErrorFromCurrentException(std::string("building the ") + kind.kind + " source", roots.*kind.root);
  }
}

bool Selected(const std::vector<std::string>& select, const std::string& name) {
  return select.empty() || std::find(select.begin(), select.end(), name) != select.end();
}

}  // namespace emp
