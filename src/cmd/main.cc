// kennel: one multi-call binary. Subcommands wire the layers; they hold no logic.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "agent/agent.h"
#include "agent/runtime.h"
#include "apiserver/pki.h"
#include "apiserver/server.h"
#include "base/file.h"
#include "client/client.h"
#include "client/in_process.h"
#include "controllers/deployment.h"
#include "controllers/endpoints.h"
#include "controllers/garbage_collector.h"
#include "controllers/nodeipam.h"
#include "controllers/replicaset.h"
#include "controllers/statefulset.h"
#include "controllers/volume_binder.h"
#include "dns/server.h"
#include "scheduler/scheduler.h"

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

// The control plane's own controllers, on the in-process client.
struct ControlPlane {
  std::unique_ptr<kennel::client::Client> client;
  std::unique_ptr<kennel::controllers::NodeIpam> node_ipam;
  std::unique_ptr<kennel::controllers::EndpointsController> endpoints;
  std::unique_ptr<kennel::controllers::StatefulSetController> statefulsets;
  std::unique_ptr<kennel::controllers::GarbageCollector> garbage_collector;
  std::unique_ptr<kennel::controllers::ReplicaSetController> replicasets;
  std::unique_ptr<kennel::controllers::DeploymentController> deployments;
  std::unique_ptr<kennel::controllers::VolumeBinder> volume_binder;
  std::unique_ptr<kennel::scheduler::Scheduler> scheduler;
  std::unique_ptr<kennel::dns::DnsServer> dns;  // when serve_dns
};

struct ControlPlaneOptions {
  kennel::controllers::NodeIpamOptions ipam;
  kennel::controllers::EndpointsOptions endpoints;
  kennel::scheduler::SchedulerOptions scheduler;
  std::string scheduler_config;  // --scheduler-config: a KubeSchedulerConfiguration file
  kennel::dns::DnsOptions dns;
  bool serve_dns = false;  // --dns-listen given, or `kennel up` (pods resolve through the bridge)
};

kennel::StatusOr<ControlPlane> StartControlPlane(kennel::apiserver::Server& server,
                                                 const ControlPlaneOptions& options) {
  ControlPlane cp;
  cp.client = kennel::client::NewInProcessClient(server.handler(), server.executor());
  ASSIGN_OR_RETURN(cp.node_ipam,
                   kennel::controllers::NodeIpam::Start(cp.client.get(), options.ipam));
  ASSIGN_OR_RETURN(cp.endpoints, kennel::controllers::EndpointsController::Start(
                                     cp.client.get(), options.endpoints));
  ASSIGN_OR_RETURN(cp.statefulsets,
                   kennel::controllers::StatefulSetController::Start(cp.client.get()));
  ASSIGN_OR_RETURN(cp.garbage_collector,
                   kennel::controllers::GarbageCollector::Start(cp.client.get()));
  ASSIGN_OR_RETURN(cp.replicasets,
                   kennel::controllers::ReplicaSetController::Start(cp.client.get()));
  ASSIGN_OR_RETURN(cp.deployments,
                   kennel::controllers::DeploymentController::Start(cp.client.get()));
  // Before the scheduler: it creates the default StorageClass.
  ASSIGN_OR_RETURN(cp.volume_binder, kennel::controllers::VolumeBinder::Start(cp.client.get()));
  ASSIGN_OR_RETURN(cp.scheduler,
                   kennel::scheduler::Scheduler::Start(cp.client.get(), options.scheduler));
  if (options.serve_dns) {
    ASSIGN_OR_RETURN(cp.dns, kennel::dns::DnsServer::Start(cp.client.get(), options.dns));
  }
  return cp;
}

int Fail(const kennel::Status& status) {
  std::fprintf(stderr, "kennel: %s\n", status.ToString().c_str());
  return 1;
}

// `kennel server`, and `kennel up` when agent_options is given: the server,
// its controllers, and an agent on the in-process client.
int RunServer(const kennel::apiserver::ServerOptions& options, ControlPlaneOptions cp_options,
              std::optional<kennel::agent::AgentOptions> agent_options) {
  sigset_t signals = BlockStopSignals();
  // A bad configuration file stops us before anything starts.
  if (!cp_options.scheduler_config.empty()) {
    auto config = kennel::scheduler::LoadSchedulerConfig(cp_options.scheduler_config);
    if (!config.ok()) return Fail(config.status());
    cp_options.scheduler.config = *std::move(config);
  }
  auto server = kennel::apiserver::Server::Start(options);
  if (!server.ok()) return Fail(server.status());
  auto cp = StartControlPlane(**server, cp_options);
  if (!cp.ok()) return Fail(cp.status());
  std::unique_ptr<kennel::agent::Agent> agent;
  if (agent_options) {
    // The server proxies logs and exec to the agent with its admin token.
    agent_options->serving_token = (*server)->admin_token();
    auto started = kennel::agent::Agent::Start(cp->client.get(), *agent_options);
    if (!started.ok()) {
      (*server)->Stop();
      (*server)->Wait();
      return Fail(started.status());
    }
    agent = std::move(started).value();
    // Pods' resolv.conf names the bridge address: serve DNS there too.
    if (cp->dns && !agent->gateway_ip().empty()) {
      auto bound = cp->dns->AddListener(agent->gateway_ip() + ":53");
      if (!bound.ok()) {
        spdlog::warn("{}: pods cannot resolve cluster names", bound.status().message());
      }
    }
  }
  std::printf("Kennel API server is up at %s\n", (*server)->url().c_str());
  if (agent) std::printf("Node %s is running pods\n", agent->node_name().c_str());
  std::printf("Point kubectl at it:  export KUBECONFIG=%s\n", (*server)->kubeconfig_path().c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  // The agent first: it stops its pods through the server it still has.
  if (agent) agent->Stop();
  cp->dns.reset();
  cp->scheduler.reset();
  cp->volume_binder.reset();
  cp->node_ipam.reset();
  cp->endpoints.reset();
  cp->statefulsets.reset();
  cp->garbage_collector.reset();
  cp->deployments.reset();
  cp->replicasets.reset();
  (*server)->Stop();
  (*server)->Wait();
  return 0;
}

struct AgentFlags {
  std::string server;
  std::string token;
  std::string token_file;
  std::string ca_file;
};

int RunAgent(const AgentFlags& flags, const kennel::agent::AgentOptions& options) {
  sigset_t signals = BlockStopSignals();
  kennel::client::HttpClientOptions http;
  http.server = flags.server;
  http.token = flags.token;
  if (http.token.empty() && !flags.token_file.empty()) {
    auto token = kennel::apiserver::ReadTokenFile(flags.token_file);
    if (!token.ok()) return Fail(token.status());
    http.token = *token;
  }
  http.ca_file = flags.ca_file;
  if (http.ca_file.empty()) {
    // Same machine as the server (its data directory is ours): trust its CA.
    std::string local_ca = options.data_dir + "/pki/ca.crt";
    if (kennel::ReadFile(local_ca).ok()) {
      http.ca_file = local_ca;
    } else {
      spdlog::warn("agent: no --ca-file: the server's certificate is not verified");
      http.insecure_skip_verify = true;
    }
  }
  auto client = kennel::client::NewHttpClient(http);
  if (!client.ok()) return Fail(client.status());
  kennel::agent::AgentOptions with_token = options;
  with_token.serving_token = http.token;
  auto agent = kennel::agent::Agent::Start(client->get(), with_token);
  if (!agent.ok()) return Fail(agent.status());
  std::printf("Node %s joined %s\n", (*agent)->node_name().c_str(), flags.server.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: stopping", sig);
  (*agent)->Stop();
  return 0;
}

kennel::StatusOr<kennel::agent::Isolation> ParseIsolation(const std::string& text) {
  if (text == "namespaces") return kennel::agent::Isolation::kNamespaces;
  if (text == "none") return kennel::agent::Isolation::kNone;
  return kennel::BadRequest("--isolation must be \"namespaces\" or \"none\", got \"" + text + "\"");
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

void AddAgentFlags(CLI::App* cmd, kennel::agent::AgentOptions& options, std::string& isolation,
                   std::string& cluster_dns) {
  cmd->add_option("--node-name", options.node_name, "Node name (default: the hostname)");
  cmd->add_option("--isolation", isolation, "Pod isolation: namespaces or none")
      ->capture_default_str();
  cmd->add_option("--bridge", options.bridge, "Bridge pods attach to (default kennel0)");
  cmd->add_option("--cluster-dns", cluster_dns, "Cluster DNS server IP for pods' resolv.conf");
  cmd->add_option("--agent-port", options.serving_port,
                  "Port of the agent's logs/exec endpoint (0: any free port)")
      ->capture_default_str();
}

int main(int argc, char** argv) {
  // The container shim re-executes this binary; it skips CLI parsing so that
  // it starts fast and takes its arguments verbatim.
  if (argc >= 2 && std::string(argv[1]) == "shim")
    return kennel::agent::RunShim(argc - 2, argv + 2);

  CLI::App app{"Kennel: a lightweight orchestrator for stateful workloads"};
  app.require_subcommand(1);

  kennel::apiserver::ServerOptions server_options;
  ControlPlaneOptions cp_options;
  std::string dns_listen;
  auto add_server_flags = [&](CLI::App* cmd) {
    cmd->add_option("--cluster-cidr", cp_options.ipam.cluster_cidr,
                    "Pod addresses: each node gets a /24 of it")
        ->capture_default_str();
    cmd->add_option("--service-cidr", server_options.service_cidr,
                    "Services' cluster IPs (the first address is the kubernetes Service's)")
        ->capture_default_str();
    cmd->add_option("--scheduler-config", cp_options.scheduler_config,
                    "KubeSchedulerConfiguration file (YAML or JSON): plugin weights, "
                    "percentageOfNodesToScore, extenders");
    cmd->add_option("--data-dir", server_options.data_dir, "Data directory")->capture_default_str();
    cmd->add_option("--listen", server_options.listen, "HOST:PORT to serve HTTPS on")
        ->capture_default_str();
    cmd->add_option("--threads", server_options.threads, "I/O threads (0: one per core but one)")
        ->capture_default_str();
    cmd->add_option("--dns-listen", dns_listen, "HOST:PORT to serve cluster DNS on (UDP and TCP)");
    cmd->add_option("--cluster-domain", cp_options.dns.cluster_domain, "Cluster DNS domain")
        ->capture_default_str();
  };
  CLI::App* server = app.add_subcommand("server", "Run the API server on the embedded store");
  add_server_flags(server);

  kennel::agent::AgentOptions agent_options;
  std::string isolation = "namespaces";
  std::string cluster_dns;
  CLI::App* up =
      app.add_subcommand("up", "Run a single-node cluster: API server and agent in one process");
  add_server_flags(up);
  AddAgentFlags(up, agent_options, isolation, cluster_dns);

  AgentFlags agent_flags;
  std::string agent_data_dir = "/var/lib/kennel";
  CLI::App* agent = app.add_subcommand("agent", "Run a node agent that joins a server");
  agent->add_option("--server", agent_flags.server, "API server URL (https://HOST:PORT)")
      ->required();
  agent->add_option("--token", agent_flags.token, "Bearer token to join with");
  agent->add_option("--token-file", agent_flags.token_file, "File holding the token");
  agent->add_option("--ca-file", agent_flags.ca_file,
                    "CA certificate of the server (default: DATA_DIR/pki/ca.crt if present)");
  agent->add_option("--data-dir", agent_data_dir, "Data directory")->capture_default_str();
  AddAgentFlags(agent, agent_options, isolation, cluster_dns);

  std::string kubeconfig_dir = "/var/lib/kennel";
  CLI::App* kubeconfig = app.add_subcommand("kubeconfig", "Print the admin kubeconfig");
  kubeconfig->add_option("--data-dir", kubeconfig_dir, "Data directory")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (!dns_listen.empty()) cp_options.dns.listen = {dns_listen};
  cp_options.serve_dns = !dns_listen.empty() || up->parsed();
  agent_options.dns.domain = cp_options.dns.cluster_domain;
  agent_options.dns_on_gateway = up->parsed();
  if (server->parsed()) return RunServer(server_options, cp_options, std::nullopt);
  if (kubeconfig->parsed()) return PrintKubeconfig(kubeconfig_dir);
  auto iso = ParseIsolation(isolation);
  if (!iso.ok()) return Fail(iso.status());
  agent_options.isolation = *iso;
  agent_options.dns.server_ip = cluster_dns;
  if (up->parsed()) {
    agent_options.data_dir = server_options.data_dir;
    agent_options.stop_pods_on_exit = true;
    return RunServer(server_options, cp_options, agent_options);
  }
  if (agent->parsed()) {
    if (agent_flags.token.empty() && agent_flags.token_file.empty()) {
      return Fail(kennel::BadRequest("kennel agent needs --token or --token-file"));
    }
    agent_options.data_dir = agent_data_dir;
    return RunAgent(agent_flags, agent_options);
  }
  return 0;
}
