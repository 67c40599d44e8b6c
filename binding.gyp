{
  "targets": [
    {
      "target_name": "emp",
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Werror", "-O2", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "native/addon.cc",
            "native/errors.cc",
            "native/unique_fd.cc",
            "native/roots.cc",
            "native/sysfs.cc",
            "native/text_format.cc",
            "native/tick_ring.cc",
            "native/clock.cc",
            "native/sampler.cc",
            "native/slow_reader.cc",
            "native/sampler_wrap.cc",
            "native/js_values.cc",
            "native/source_registry.cc",
            "native/powercap_source.cc",
            "native/nvml_library.cc",
            "native/nvml_source.cc",
            "native/perf_event.cc",
            "native/perf_counter_source.cc",
            "native/process_tree.cc",
            "native/child_runner.cc",
            "native/child_wrap.cc",
            "native/exit_watcher.cc",
            "native/rapl_msr_source.cc",
            "native/perf_power_source.cc",
            "native/thermal_source.cc"
          ],
          "libraries": ["-ldl", "-lpthread"]
        }]
      ]
    }
  ]
}
