// tito export CHECKPOINT --out FILE [--int8] [--statistics-from MODEL] [...]
// tito serve MODEL [--port P] [--threads N] [...]
// tito loadtest MODEL [--clients C] [--requests N] [--seconds S] [--faults] [--drift] [...]
//
// Module 20's three programs (tools/serve): the exporter, tinytorch_export (a training checkpoint
// → a model file), the model server, tinytorch_serve, and its load generator,
// tinytorch_loadtest, which starts the server itself (so `loadtest` builds both). Like
// `tito milestone run`, each command builds its targets in the release preset, then runs
// build/release/bin/<program> with every argument after the command unchanged, and exits with
// the program's status. `tito serve MODEL --help` prints the program's own options.
//
// The three commands live in this one file because they differ only in the program they run.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "project.h"
#include "util.h"

namespace tito::deploy_command {
namespace {

const char* kPreset = "release";

// Builds `targets` and runs the first one with `file` (a model or checkpoint) and the
// passed-through arguments.
int build_and_run(const std::vector<std::string>& targets, const std::string& file) {
  const auto root = tito::repo_root();
  if (tito::ensure_configured(root, kPreset) != 0) {
    tito::print_error(std::string("configuring with preset '") + kPreset + "' failed (see above)");
    return 1;
  }
  for (const auto& target : targets) {
    if (!tito::has_target(root, kPreset, target)) {
      tito::print_error("the build has no target '" + target +
                        "': the server and the load generator need cpp-httplib (sudo "
                        "apt-get install libcpp-httplib-dev; ./tito doctor), then re-run "
                        "cmake --preset release");
      return 1;
    }
  }
  if (tito::build(root, kPreset, targets) != 0) {
    tito::print_error("building " + targets.front() + " failed (see above)");
    return 1;
  }
  std::vector<std::string> argv{
      (tito::build_dir(root, kPreset) / "bin" / targets.front()).string()};
  argv.push_back(file);
  const auto& args = tito::passthrough_args();
  argv.insert(argv.end(), args.begin(), args.end());
  tito::export_commit(root);
  return tito::run(argv);
}

tito::CommandRunner setup_export(CLI::App& app) {
  app.footer(
      "Usage: tito export CHECKPOINT --out MODEL.ttm [--int8] [--per-tensor]\n"
      "                   [--statistics-from MODEL.ttm] [--name NAME]\n"
      "Converts a training checkpoint of milestone 1986, 1998 or 2017 into a model file and\n"
      "checks that the file reproduces the model; --int8 quantizes its Linear layers.");
  auto checkpoint = std::make_shared<std::string>();
  app.add_option("checkpoint", *checkpoint,
                 "the training checkpoint, e.g. runs/1986/checkpoint.ttc")
      ->required();
  return [checkpoint] { return build_and_run({"tinytorch_export"}, *checkpoint); };
}

tito::CommandRunner setup_serve(CLI::App& app) {
  app.footer(
      "Usage: tito serve MODEL.ttm [--port 8020] [--threads 512] [--batch-window-ms 2] ...\n"
      "Serves the model on http://127.0.0.1:PORT (POST /v1/predict, GET /healthz, GET /metrics).\n"
      "Use --token-file F whenever --host makes it reachable beyond this machine.");
  auto model = std::make_shared<std::string>();
  app.add_option("model", *model, "the model file (.ttm), e.g. runs/1986/model.ttm")->required();
  return [model] { return build_and_run({"tinytorch_serve"}, *model); };
}

tito::CommandRunner setup_loadtest(CLI::App& app) {
  app.footer(
      "Usage: tito loadtest MODEL.ttm [--clients 8] [--requests 2000] [--seconds 20]\n"
      "                     [--windows 0,2] [--faults] [--drift] [--json PATH]\n"
      "Throughput and p50/p99 latency of the model server on 127.0.0.1, with and without\n"
      "dynamic batching; --faults mixes malformed requests into the load, then attacks a\n"
      "fresh server (header flood, slow clients, bad lengths, SIGTERM under load) and prints\n"
      "a verdict for each.");
  auto model = std::make_shared<std::string>();
  app.add_option("model", *model, "the model file (.ttm), e.g. runs/1986/model.ttm")->required();
  return [model] { return build_and_run({"tinytorch_loadtest", "tinytorch_serve"}, *model); };
}

const tito::RegisterCommand kExport{
    "export", "Convert a training checkpoint into a model file for serving (module 20)",
    setup_export, /*passthrough=*/true};
const tito::RegisterCommand kServe{"serve", "Serve a model file over HTTP/JSON (module 20)",
                                   setup_serve, /*passthrough=*/true};
const tito::RegisterCommand kLoadtest{
    "loadtest", "Load-test the model server: throughput, p50/p99, batching on/off (module 20)",
    setup_loadtest, /*passthrough=*/true};

}  // namespace
}  // namespace tito::deploy_command
