#include "nvml_source.h"

#include <algorithm>

#include "errors.h"

namespace emp {

namespace {
constexpr const char* kNoGpuFix =
    "NVML sees no GPU: check `nvidia-smi`; in a container pass the GPUs through (`--gpus all`)";
constexpr const char* kPartialCoverage =
    "on A100 and H100 the power sensor covers only part of the runtime (Yang et al., SC24): phases shorter "
    "than its update period can be missed or over-weighted, so repeat short runs and prefer longer ones";

std::string Domain(unsigned index) { return "gpu-" + std::to_string(index); }

// The three channels a GPU can have, in the order they are read.
Channel EnergyChannel(unsigned index) {
  Channel c;
  c.name = Domain(index) + "-energy";
  c.domain = Domain(index);
  c.quantity = "energy";
  c.unit = "mJ";
  c.scale = 1e-3;
  c.wrap = 0;  // 64-bit millijoules since the driver loaded: no wrap in practice
  c.counter = true;
  c.origin = "nvmlDeviceGetTotalEnergyConsumption(gpu " + std::to_string(index) + ")";
  return c;
}

Channel PowerChannel(unsigned index) {
  Channel c;
  c.name = Domain(index) + "-power";
  c.domain = Domain(index);
  c.quantity = "power";
  c.unit = "mW";
  c.scale = 1e-3;
  c.counter = false;
  c.origin = "nvmlDeviceGetPowerUsage(gpu " + std::to_string(index) + ")";
  return c;
}

Channel TemperatureChannel(unsigned index) {
  Channel c;
  c.name = Domain(index) + "-temperature";
  c.domain = Domain(index);
  c.quantity = "temperature";
  c.unit = "C";
  c.scale = 1.0;
  c.counter = false;
  c.origin = "nvmlDeviceGetTemperature(gpu " + std::to_string(index) + ", NVML_TEMPERATURE_GPU)";
  return c;
}

bool PartialPowerCoverage(const std::string& name) {
  return name.find("A100") != std::string::npos || name.find("H100") != std::string::npos;
}

SensorStatus StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kAbsent: return SensorStatus::kAbsent;
    case ErrorCode::kPermission: return SensorStatus::kPermissionDenied;
    default: return SensorStatus::kUnsupported;
  }
}
}  // namespace

std::vector<NvmlGpu> NvmlSource::Discover(const NvmlLibrary& lib) {
  std::vector<NvmlGpu> gpus;
  const unsigned count = lib.DeviceCount();
  for (unsigned i = 0; i < count; ++i) {
    NvmlGpu gpu;
    gpu.index = i;
    gpu.device = lib.Device(i);
    gpu.name = lib.DeviceName(gpu.device, i);
    // Each reading is tried once: NVML answers NOT_SUPPORTED per device (the energy counter needs
    // Volta or newer; some boards report no power), which is the only reliable capability test.
    unsigned long long energy_mj = 0;
    unsigned power_mw = 0;
    unsigned temperature_c = 0;
    gpu.energy_status = lib.TotalEnergyMj(gpu.device, &energy_mj);
    gpu.power_status = lib.PowerMw(gpu.device, &power_mw);
    gpu.temperature_status = lib.TemperatureC(gpu.device, &temperature_c);
    gpus.push_back(std::move(gpu));
  }
  return gpus;
}

SensorReport NvmlSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "nvml";
  try {
    const auto lib = NvmlLibrary::Open(roots.nvml_lib);
    const std::vector<NvmlGpu> gpus = Discover(*lib);
    report.details.emplace_back("library", lib->path());
    report.details.emplace_back("gpus", std::to_string(gpus.size()));
    bool partial_coverage = false;
    for (const NvmlGpu& gpu : gpus) {
      const std::string domain = Domain(gpu.index);
      std::vector<std::string> names;
      if (gpu.energy_status == kNvmlSuccess) {
        report.channels.push_back(EnergyChannel(gpu.index));
        names.emplace_back("energy");
      } else {
        report.details.emplace_back(domain + "-energy", "not supported: " + lib->ErrorString(gpu.energy_status) +
                                                            "; the energy counter needs a Volta or newer GPU, "
                                                            "the power channel is the fallback");
      }
      if (gpu.power_status == kNvmlSuccess) {
        report.channels.push_back(PowerChannel(gpu.index));
        names.emplace_back("power");
      } else {
        report.details.emplace_back(domain + "-power", "not supported: " + lib->ErrorString(gpu.power_status));
      }
      if (gpu.temperature_status == kNvmlSuccess) {
        report.channels.push_back(TemperatureChannel(gpu.index));
        names.emplace_back("temperature");
      } else {
        report.details.emplace_back(domain + "-temperature",
                                    "not supported: " + lib->ErrorString(gpu.temperature_status));
      }
      std::string joined;
      for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
      report.details.emplace_back(domain, gpu.name);
      report.details.emplace_back(domain + "-channels", joined.empty() ? "none" : joined);
      partial_coverage |= PartialPowerCoverage(gpu.name);
    }
    if (partial_coverage) report.details.emplace_back("power-sensor-coverage", kPartialCoverage);
    if (gpus.empty()) {
      report.status = SensorStatus::kAbsent;
      report.reason = "NVML loaded but reports no GPU";
      report.fix = kNoGpuFix;
    } else if (report.channels.empty()) {
      report.status = SensorStatus::kUnsupported;
      report.reason = "no GPU supports energy, power or temperature readings through NVML";
      report.fix = "check `nvidia-smi -q -d POWER`; consumer boards may not report power";
    } else {
      report.status = SensorStatus::kAvailable;
    }
  } catch (const Error& e) {
    report.status = StatusFor(e.code());
    report.reason = e.what();
    report.fix = e.suggestion();
    report.channels.clear();
  }
  return report;
}

std::unique_ptr<Source> NvmlSource::Create(const Roots& roots, const SourceSpec& spec) {
  auto lib = NvmlLibrary::Open(roots.nvml_lib);
  std::vector<Channel> channels;
  std::vector<Slot> slots;
  std::vector<std::string> known;        // every channel name some GPU here could have
  std::vector<std::string> unsupported;  // of those, the ones its GPU refused
  auto add = [&](Channel channel, nvmlReturn_t status, Reading reading, nvmlDevice_t device) {
    known.push_back(channel.name);
    if (status != kNvmlSuccess) {
      unsupported.push_back(channel.name + " (" + lib->ErrorString(status) + ")");
      return;
    }
    if (!Selected(spec.select, channel.name)) return;
    channels.push_back(std::move(channel));
    slots.push_back({reading, device});
  };
  for (const NvmlGpu& gpu : Discover(*lib)) {
    add(EnergyChannel(gpu.index), gpu.energy_status, Reading::kEnergy, gpu.device);
    add(PowerChannel(gpu.index), gpu.power_status, Reading::kPower, gpu.device);
    add(TemperatureChannel(gpu.index), gpu.temperature_status, Reading::kTemperature, gpu.device);
  }
  // A selected name must be read or explained: silently dropping gpu-1-energy would lose the
  // series the user asked for.
  for (const std::string& wanted : spec.select) {
    if (std::find(known.begin(), known.end(), wanted) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw Error(ErrorCode::kInvalidArgument, "no NVML channel named " + wanted, 0, lib->path(),
                  "choose from: " + (list.empty() ? std::string("(no GPU)") : list));
    }
    for (const std::string& refused : unsupported) {
      if (refused.rfind(wanted + " (", 0) == 0) {
        const bool energy = wanted.size() > 7 && wanted.compare(wanted.size() - 7, 7, "-energy") == 0;
        throw Error(ErrorCode::kUnsupported, "this GPU cannot provide " + refused, 0, lib->path(),
                    energy ? "select " + wanted.substr(0, wanted.size() - 7) +
                                 "-power instead: the energy counter needs a Volta or newer GPU"
                           : std::string("leave it out of select; `emp probe` lists what each GPU supports"));
      }
    }
  }
  if (channels.empty()) {
    throw Error(known.empty() ? ErrorCode::kAbsent : ErrorCode::kUnsupported,
                known.empty() ? "NVML reports no GPU" : "no NVML reading is supported on these GPUs", 0, lib->path(),
                kNoGpuFix);
  }
  return std::unique_ptr<Source>(new NvmlSource(std::move(lib), std::move(channels), std::move(slots)));
}

NvmlSource::NvmlSource(std::unique_ptr<NvmlLibrary> lib, std::vector<Channel> channels, std::vector<Slot> slots)
    : lib_(std::move(lib)), channels_(std::move(channels)), slots_(std::move(slots)) {}

bool NvmlSource::Read(uint64_t* out) noexcept {
  bool ok = true;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    switch (slot.reading) {
      case Reading::kEnergy: {
        unsigned long long energy_mj = 0;
        if (lib_->TotalEnergyMj(slot.device, &energy_mj) == kNvmlSuccess) {
          out[i] = energy_mj;
        } else {
          ok = false;
        }
        break;
      }
      case Reading::kPower: {
        unsigned power_mw = 0;
        if (lib_->PowerMw(slot.device, &power_mw) == kNvmlSuccess) {
          out[i] = power_mw;
        } else {
          ok = false;
        }
        break;
      }
      case Reading::kTemperature: {
        unsigned temperature_c = 0;
        if (lib_->TemperatureC(slot.device, &temperature_c) == kNvmlSuccess) {
          out[i] = temperature_c;
        } else {
          ok = false;
        }
        break;
      }
    }
  }
  return ok;
}

}  // namespace emp
