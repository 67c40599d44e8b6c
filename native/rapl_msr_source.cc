#include "rapl_msr_source.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "errors.h"
#include "sysfs.h"
#include "text_format.h"

namespace emp {

namespace {

// Intel SDM vol. 4, "MSRs in processors based on Sandy Bridge" and later.
constexpr off_t kIntelPowerUnit = 0x606;
constexpr off_t kIntelPackageEnergy = 0x611;
constexpr off_t kIntelPp0Energy = 0x639;   // cores
constexpr off_t kIntelPp1Energy = 0x641;   // uncore: the integrated GPU on client parts
constexpr off_t kIntelDramEnergy = 0x619;  // servers and some clients
constexpr off_t kIntelPsysEnergy = 0x64D;  // platform (Skylake and later clients, SPR servers)
// AMD PPR for family 17h and later; Hygon Dhyana (family 18h) is a Zen derivative with the same MSRs.
constexpr off_t kAmdPowerUnit = 0xC0010299;
constexpr off_t kAmdCoreEnergy = 0xC001029A;
constexpr off_t kAmdPackageEnergy = 0xC001029B;

// The energy status registers are 32 bits wide; the upper half of the MSR is reserved.
constexpr uint64_t kCounterWrap = uint64_t{1} << 32;
constexpr uint64_t kCounterMask = kCounterWrap - 1;

constexpr const char* kAbsentFix =
    "load the msr driver: `sudo modprobe msr` (add msr to /etc/modules-load.d to keep it); virtual machines "
    "and containers without the host's /dev do not expose RAPL MSRs (point EMP_DEV_ROOT at a mounted host /dev)";
constexpr const char* kPermissionFix =
    "run as root or grant CAP_SYS_RAWIO (`sudo setcap cap_sys_rawio=ep $(readlink -f $(command -v node))`), and "
    "`sudo chmod o+r /dev/cpu/*/msr`; both are needed";
constexpr const char* kUnsupportedFix =
    "use the powercap or perf-power source where the kernel offers them; without any, emp can only estimate";

struct Plan {
  std::vector<Channel> channels;
  std::vector<UniqueFd> fds;
  std::vector<RaplMsrSource::Register> registers;
  std::map<int, size_t> fd_of_cpu;
};

std::string DevicePath(const Roots& roots, int cpu) { return roots.dev + "/cpu/" + std::to_string(cpu) + "/msr"; }

// Opens the msr device of `cpu` once; later registers of that CPU reuse the descriptor.
size_t OpenCpu(const Roots& roots, Plan& plan, int cpu) {
  if (auto it = plan.fd_of_cpu.find(cpu); it != plan.fd_of_cpu.end()) return it->second;
  const std::string path = DevicePath(roots, cpu);
  UniqueFd fd = UniqueFd::OpenReadOnly(path);
  if (!fd.Valid()) {
    const int err = errno;
    if (err == EACCES || err == EPERM) {
      throw Error(ErrorCode::kPermission, std::string("cannot open the MSR device: ") + std::strerror(err), err, path,
                  kPermissionFix);
    }
    if (CodeForErrno(err) == ErrorCode::kAbsent) {
      throw Error(ErrorCode::kAbsent, std::string("no MSR device for cpu ") + std::to_string(cpu), err, path,
                  kAbsentFix);
    }
    throw ErrnoError(err, "cannot open the MSR device", path, kAbsentFix);
  }
  plan.fds.push_back(std::move(fd));
  plan.fd_of_cpu.emplace(cpu, plan.fds.size() - 1);
  return plan.fds.size() - 1;
}

// A register the CPU does not implement reads as EIO from the msr driver; a fixture file ends
// before it. Both mean "not there". Permission errors are not hidden.
std::optional<uint64_t> ReadRegister(const Roots& roots, const Plan& plan, size_t fd_index, int cpu, off_t address) {
  uint64_t value = 0;
  errno = 0;
  const ssize_t n = plan.fds[fd_index].PreadAt(&value, sizeof value, address);
  if (n == static_cast<ssize_t>(sizeof value)) return value;
  if (n < 0 && (errno == EACCES || errno == EPERM)) {
    throw Error(ErrorCode::kPermission, "reading MSR " + HexString(static_cast<uint64_t>(address)) + " was refused",
                errno, DevicePath(roots, cpu), kPermissionFix);
  }
  return std::nullopt;
}

uint64_t ReadRequired(const Roots& roots, const Plan& plan, size_t fd_index, int cpu, off_t address, const char* what) {
  auto value = ReadRegister(roots, plan, fd_index, cpu, address);
  if (!value) {
    throw Error(ErrorCode::kUnsupported,
                std::string("the ") + what + " MSR " + HexString(static_cast<uint64_t>(address)) +
                    " cannot be read on cpu " + std::to_string(cpu) +
                    ": this CPU or its hypervisor does not implement RAPL",
                errno, DevicePath(roots, cpu), kUnsupportedFix);
  }
  return *value;
}

void AddChannel(Plan& plan, const std::string& name, const std::string& domain, double unit_j, size_t fd_index, int cpu,
                off_t address) {
  Channel c;
  c.name = name;
  c.domain = domain;
  c.quantity = "energy";
  c.unit = "esu";
  c.scale = unit_j;
  c.wrap = kCounterWrap;
  c.origin = "msr " + HexString(static_cast<uint64_t>(address)) + " on cpu " + std::to_string(cpu);
  plan.channels.push_back(std::move(c));
  plan.registers.push_back({fd_index, address});
}

// Optional domains are kept when the register reads and is not zero. A register that reads
// but stays zero is a domain the part implements without feeding (PP1 on servers, DRAM on most
// clients): a channel that always says 0 J would read as a measurement, so it is left out.
// A model table would say the same for known parts but goes stale with every new one.
bool AddOptional(const Roots& roots, Plan& plan, const std::string& name, const std::string& domain, double unit_j,
                 size_t fd_index, int cpu, off_t address) {
  auto value = ReadRegister(roots, plan, fd_index, cpu, address);
  if (!value || (*value & kCounterMask) == 0) return false;
  AddChannel(plan, name, domain, unit_j, fd_index, cpu, address);
  return true;
}

// Intel SPR and EMR servers count platform (psys) energy in whole joules, not in the 0x606 unit
// (Linux arch/x86/events/rapl.c, RAPL_UNIT_QUIRK_INTEL_SPR).
bool HasFixedPsysUnit(const CpuIdentity& cpu) noexcept {
  return cpu.vendor == CpuVendor::kIntel && cpu.family == 6 && (cpu.model == 0x8F || cpu.model == 0xCF);
}

void PlanIntel(const Roots& roots, const CpuIdentity& cpu, const std::vector<sysfs::PackageCpu>& packages, Plan& plan,
               std::vector<std::pair<std::string, std::string>>& details) {
  double first_unit_j = 1.0;
  for (size_t i = 0; i < packages.size(); ++i) {
    const int package = packages[i].package, reader = packages[i].cpu;
    const size_t fd = OpenCpu(roots, plan, reader);
    const uint64_t power_unit = ReadRequired(roots, plan, fd, reader, kIntelPowerUnit, "RAPL power unit");
    const unsigned esu = EnergyStatusUnit(power_unit);
    const double unit_j = std::ldexp(1.0, -static_cast<int>(esu));
    const double dram_unit_j = HasFixedDramUnit(cpu) ? std::ldexp(1.0, -16) : unit_j;
    const std::string p = std::to_string(package);
    (void)ReadRequired(roots, plan, fd, reader, kIntelPackageEnergy, "package energy status");
    AddChannel(plan, "package-" + p, "package-" + p, unit_j, fd, reader, kIntelPackageEnergy);
    (void)AddOptional(roots, plan, "core-" + p, "core-" + p, unit_j, fd, reader, kIntelPp0Energy);
    (void)AddOptional(roots, plan, "uncore-" + p, "uncore-" + p, unit_j, fd, reader, kIntelPp1Energy);
    (void)AddOptional(roots, plan, "dram-" + p, "dram-" + p, dram_unit_j, fd, reader, kIntelDramEnergy);
    if (i == 0) {
      first_unit_j = unit_j;
      details.emplace_back("power_unit_register", HexString(power_unit));
      details.emplace_back("energy_status_unit", std::to_string(esu));
      details.emplace_back("energy_unit_j", ExactNumber(unit_j));
      details.emplace_back("dram_energy_unit_j", ExactNumber(dram_unit_j));
      if (HasFixedDramUnit(cpu)) details.emplace_back("dram_unit_quirk", "fixed 2^-16 J on this server model");
    }
  }
  // Platform energy covers the whole system: read it once, on the first package's CPU.
  const auto& first = packages.front();
  const double psys_unit_j = HasFixedPsysUnit(cpu) ? 1.0 : first_unit_j;
  if (AddOptional(roots, plan, "psys", "psys", psys_unit_j, OpenCpu(roots, plan, first.cpu), first.cpu,
                  kIntelPsysEnergy)) {
    details.emplace_back("psys_energy_unit_j", ExactNumber(psys_unit_j));
  }
}

// AMD reports core energy per physical core: SMT siblings read the same counter, so one CPU of
// each (package, core_id) is read. Channels are named core-P-C (unique) and belong to the
// domain core-P, so the package's core energy is the sum of that domain's channels, as the
// single PP0 channel of an Intel package is.
void PlanAmd(const Roots& roots, const std::vector<sysfs::PackageCpu>& packages, Plan& plan,
             std::vector<std::pair<std::string, std::string>>& details) {
  std::map<std::pair<int, int>, int> first_cpu_of_core;
  for (int cpu : sysfs::OnlineCpus(roots.sysfs)) {
    first_cpu_of_core.emplace(std::make_pair(sysfs::TopologyId(roots.sysfs, cpu, "physical_package_id"),
                                             sysfs::TopologyId(roots.sysfs, cpu, "core_id")),
                              cpu);
  }
  size_t cores = 0;
  for (size_t i = 0; i < packages.size(); ++i) {
    const int package = packages[i].package, reader = packages[i].cpu;
    const size_t fd = OpenCpu(roots, plan, reader);
    const uint64_t power_unit = ReadRequired(roots, plan, fd, reader, kAmdPowerUnit, "RAPL power unit");
    const unsigned esu = EnergyStatusUnit(power_unit);
    const double unit_j = std::ldexp(1.0, -static_cast<int>(esu));
    const std::string p = std::to_string(package);
    (void)ReadRequired(roots, plan, fd, reader, kAmdPackageEnergy, "package energy status");
    AddChannel(plan, "package-" + p, "package-" + p, unit_j, fd, reader, kAmdPackageEnergy);
    for (const auto& [key, cpu] : first_cpu_of_core) {
      if (key.first != package) continue;
      const size_t core_fd = OpenCpu(roots, plan, cpu);
      cores += AddOptional(roots, plan, "core-" + p + "-" + std::to_string(key.second), "core-" + p, unit_j, core_fd,
                           cpu, kAmdCoreEnergy)
                   ? 1
                   : 0;
    }
    if (i == 0) {
      details.emplace_back("power_unit_register", HexString(power_unit));
      details.emplace_back("energy_status_unit", std::to_string(esu));
      details.emplace_back("energy_unit_j", ExactNumber(unit_j));
    }
  }
  details.emplace_back("core_channels", std::to_string(cores));
}

// Everything the source needs, opened and checked; throws emp::Error with a code and a fix.
Plan Build(const Roots& roots, std::vector<std::pair<std::string, std::string>>& details) {
  const std::string cpuinfo_path = roots.procfs + "/cpuinfo";
  auto cpuinfo = sysfs::ReadText(cpuinfo_path);
  if (!cpuinfo) throw ErrnoError(errno, "cannot read the CPU identity", cpuinfo_path);
  const CpuIdentity cpu = ParseCpuInfo(*cpuinfo);
  details.emplace_back("vendor", cpu.vendor_id.empty() ? "unknown" : Excerpt(cpu.vendor_id));
  details.emplace_back("family", cpu.family < 0 ? "unknown" : HexString(static_cast<uint64_t>(cpu.family)));
  details.emplace_back("model", cpu.model < 0 ? "unknown" : HexString(static_cast<uint64_t>(cpu.model)));

  const bool amd_like =
      (cpu.vendor == CpuVendor::kAmd && cpu.family >= 0x17) || (cpu.vendor == CpuVendor::kHygon && cpu.family >= 0x18);
  if (cpu.vendor == CpuVendor::kUnknown) {
    throw Error(
        ErrorCode::kUnsupported,
        "CPU vendor '" + Excerpt(cpu.vendor_id) + "' has no RAPL MSRs that emp knows (Intel, AMD 17h+, Hygon 18h+)", 0,
        cpuinfo_path, kUnsupportedFix);
  }
  if (cpu.vendor != CpuVendor::kIntel && cpu.family < 0) {
    throw Error(ErrorCode::kUnsupported,
                cpu.vendor_id +
                    ": 'cpu family' in cpuinfo is missing or not a number, so whether it has RAPL "
                    "(AMD family 17h or later, Hygon 18h) cannot be told",
                0, cpuinfo_path, kUnsupportedFix);
  }
  if (cpu.vendor != CpuVendor::kIntel && !amd_like) {
    throw Error(ErrorCode::kUnsupported,
                cpu.vendor_id + " family " + HexString(static_cast<uint64_t>(cpu.family)) +
                    " predates RAPL (AMD needs family 17h or later, Hygon 18h)",
                0, cpuinfo_path, kUnsupportedFix);
  }
  if (!sysfs::Exists(roots.dev + "/cpu")) {
    throw Error(ErrorCode::kAbsent, "no MSR devices: " + roots.dev + "/cpu does not exist (msr driver not loaded)",
                ENOENT, roots.dev + "/cpu", kAbsentFix);
  }
  const auto packages = sysfs::OneCpuPerPackage(roots.sysfs);
  if (packages.empty()) {
    throw Error(ErrorCode::kAbsent, "no online CPU in the sysfs topology", 0, roots.sysfs + "/devices/system/cpu");
  }
  std::string readers;
  for (const auto& pc : packages) readers += (readers.empty() ? "" : ",") + std::to_string(pc.cpu);
  details.emplace_back("cpus", readers);

  Plan plan;
  if (cpu.vendor == CpuVendor::kIntel) {
    PlanIntel(roots, cpu, packages, plan, details);
  } else {
    PlanAmd(roots, packages, plan, details);
  }
  return plan;
}

}  // namespace

CpuIdentity ParseCpuInfo(const std::string& text) {
  CpuIdentity cpu;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      if (!cpu.vendor_id.empty()) break;  // end of the first processor's block
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    size_t start = colon + 1;
    while (start < line.size() && line[start] == ' ') ++start;
    std::string value = line.substr(start);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) value.pop_back();
    // A malformed or absurd number leaves the field unknown (-1); the vendor check reports it.
    constexpr int kAnyInt = std::numeric_limits<int>::max();
    if (key == "vendor_id" && cpu.vendor_id.empty()) {
      cpu.vendor_id = value;
    } else if (key == "cpu family" && cpu.family < 0) {
      cpu.family = sysfs::ParseIndex(value, kAnyInt).value_or(-1);
    } else if (key == "model" && cpu.model < 0) {
      cpu.model = sysfs::ParseIndex(value, kAnyInt).value_or(-1);
    }
  }
  if (cpu.vendor_id == "GenuineIntel") cpu.vendor = CpuVendor::kIntel;
  if (cpu.vendor_id == "AuthenticAMD") cpu.vendor = CpuVendor::kAmd;
  if (cpu.vendor_id == "HygonGenuine") cpu.vendor = CpuVendor::kHygon;
  return cpu;
}

// Server parts whose DRAM energy unit is fixed at 2^-16 J (15.3 uJ) whatever 0x606 says: the
// models Linux marks RAPL_UNIT_QUIRK_INTEL_HSW in arch/x86/events/rapl.c (model_hsx, model_knl)
// and gives dram_domain_energy_unit in drivers/powercap/intel_rapl_common.c. Sapphire Rapids
// (0x8F) and Emerald Rapids (0xCF) are deliberately absent: their DRAM counter follows 0x606
// (Linux commit "perf/x86/rapl: Use standard Energy Unit for SPR Dram RAPL domain", 2022);
// only their psys unit is fixed (see HasFixedPsysUnit).
bool HasFixedDramUnit(const CpuIdentity& cpu) noexcept {
  if (cpu.vendor != CpuVendor::kIntel || cpu.family != 6) return false;
  switch (cpu.model) {
    case 0x3F:  // Haswell-EP/EX
    case 0x4F:  // Broadwell-EP/EX
    case 0x56:  // Broadwell-DE
    case 0x55:  // Skylake-SP, Cascade Lake-SP, Cooper Lake
    case 0x6A:  // Ice Lake-SP
    case 0x6C:  // Ice Lake-D
    case 0x57:  // Xeon Phi Knights Landing
    case 0x85:  // Xeon Phi Knights Mill
      return true;
    default: return false;
  }
}

SensorReport RaplMsrSource::Probe(const Roots& roots) {
  SensorReport report;
  report.kind = "msr";
  try {
    Plan plan = Build(roots, report.details);
    report.status = SensorStatus::kAvailable;
    report.channels = std::move(plan.channels);
  } catch (const Error& error) {
    ReportFailure(report, error);
  }
  return report;
}

std::unique_ptr<Source> RaplMsrSource::Create(const Roots& roots, const SourceSpec& spec) {
  std::vector<std::pair<std::string, std::string>> details;
  Plan plan = Build(roots, details);
  std::vector<Channel> channels;
  std::vector<Register> registers;
  for (size_t i = 0; i < plan.channels.size(); ++i) {
    const Channel& c = plan.channels[i];
    // A selection may name a channel ("core-0-3") or a whole domain ("core-0").
    if (!Selected(spec.select, c.name) && !Selected(spec.select, c.domain)) continue;
    channels.push_back(c);
    registers.push_back(plan.registers[i]);
  }
  if (channels.empty()) {
    throw Error(ErrorCode::kInvalidArgument, "the msr source has no channel matching the selection");
  }
  return std::unique_ptr<Source>(new RaplMsrSource(std::move(channels), std::move(plan.fds), std::move(registers)));
}

RaplMsrSource::RaplMsrSource(std::vector<Channel> channels, std::vector<UniqueFd> fds, std::vector<Register> registers)
    : channels_(std::move(channels)), fds_(std::move(fds)), registers_(std::move(registers)) {}

bool RaplMsrSource::Read(uint64_t* out) noexcept {
  bool ok = true;
  for (size_t i = 0; i < registers_.size(); ++i) {
    uint64_t value = 0;
    if (fds_[registers_[i].fd_index].PreadAt(&value, sizeof value, registers_[i].address) !=
        static_cast<ssize_t>(sizeof value)) {
      ok = false;
      continue;
    }
    out[i] = value & kCounterMask;
  }
  return ok;
}

}  // namespace emp
