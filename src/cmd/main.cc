// kennel: one multi-call binary. Subcommands wire the layers; they hold no logic.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "apiserver/pki.h"
#include "apiserver/server.h"
#include "base/file.h"

namespace {

// Blocks SIGINT/SIGTERM in every thread (threads inherit the mask), so that
// the main thread alone receives them through sigwait.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int RunServer(const kennel::apiserver::ServerOptions& options) {
  sigset_t signals = BlockStopSignals();
  auto server = kennel::apiserver::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "kennel: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("Kennel API server is up at %s\n", (*server)->url().c_str());
  std::printf("Point kubectl at it:  export KUBECONFIG=%s\n", (*server)->kubeconfig_path().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*server)->Stop();
  (*server)->Wait();
  return 0;
}

int PrintKubeconfig(const std::string& data_dir) {
  auto text = kennel::ReadFile(data_dir + "/kubeconfig");
  if (!text.ok()) {
    std::fprintf(stderr, "kennel: no kubeconfig in %s (has `kennel server` run there?)\n",
                 data_dir.c_str());
    return 1;
  }
  std::cout << *text;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kennel: a lightweight orchestrator for stateful workloads"};
  app.require_subcommand(1);

  kennel::apiserver::ServerOptions server_options;
  CLI::App* server = app.add_subcommand("server", "Run the API server on the embedded store");
  server->add_option("--data-dir", server_options.data_dir, "Data directory")
      ->capture_default_str();
  server->add_option("--listen", server_options.listen, "HOST:PORT to serve HTTPS on")
      ->capture_default_str();
  server->add_option("--threads", server_options.threads, "I/O threads (0: one per core but one)")
      ->capture_default_str();

  std::string kubeconfig_dir = "/var/lib/kennel";
  CLI::App* kubeconfig = app.add_subcommand("kubeconfig", "Print the admin kubeconfig");
  kubeconfig->add_option("--data-dir", kubeconfig_dir, "Data directory")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (server->parsed()) return RunServer(server_options);
  if (kubeconfig->parsed()) return PrintKubeconfig(kubeconfig_dir);
  return 0;
}
