// kennel: one multi-call binary. Subcommands wire the layers; they hold no logic.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>

#include "agent/agent.h"
#include "agent/runtime.h"
#include "apiserver/pki.h"
#include "apiserver/server.h"
#include "base/file.h"
#include "base/strings.h"
#include "base/time.h"
#include "client/client.h"
#include "client/in_process.h"
#include "client/leader_election.h"
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

// Before any thread starts (it forks): containers' shims then start without
// an exec of this binary. Without it they still start, only slower.
void StartShimLauncherOrWarn() {
  kennel::Status started = kennel::agent::StartShimLauncher();
  if (!started.ok()) spdlog::warn("agent: no shim launcher: {}", started.message());
}

// The controllers and the scheduler: they run on the leader only. The
// destructor stops them, the scheduler first.
struct Controllers {
  std::unique_ptr<kennel::controllers::NodeIpam> node_ipam;
  std::unique_ptr<kennel::controllers::EndpointsController> endpoints;
  std::unique_ptr<kennel::controllers::StatefulSetController> statefulsets;
  std::unique_ptr<kennel::controllers::GarbageCollector> garbage_collector;
  std::unique_ptr<kennel::controllers::ReplicaSetController> replicasets;
  std::unique_ptr<kennel::controllers::DeploymentController> deployments;
  std::unique_ptr<kennel::controllers::VolumeBinder> volume_binder;
  std::unique_ptr<kennel::scheduler::Scheduler> scheduler;

  ~Controllers() {
    scheduler.reset();
    volume_binder.reset();
    node_ipam.reset();
    endpoints.reset();
    statefulsets.reset();
    garbage_collector.reset();
    deployments.reset();
    replicasets.reset();
  }
};

// --leader-elect*: durations as Kubernetes' flags write them.
struct LeaderElectionFlags {
  bool enabled = true;
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
};

struct ControlPlaneOptions {
  kennel::controllers::NodeIpamOptions ipam;
  kennel::controllers::EndpointsOptions endpoints;
  kennel::scheduler::SchedulerOptions scheduler;
  std::string scheduler_config;  // --scheduler-config: a KubeSchedulerConfiguration file
  kennel::dns::DnsOptions dns;
  bool serve_dns = false;  // --dns-listen given, or `kennel up` (pods resolve through the bridge)
  LeaderElectionFlags leader_election;
};

// What every server runs (the in-process client, DNS) and what only the
// leader runs (the controllers, started and stopped by the elector).
struct ControlPlane {
  std::unique_ptr<kennel::client::Client> client;
  std::unique_ptr<kennel::dns::DnsServer> dns;             // when serve_dns
  std::unique_ptr<kennel::client::LeaderElector> elector;  // when --leader-elect

  std::mutex mu;
  std::unique_ptr<Controllers> controllers;  // while leading
  kennel::Status failure;                    // the controllers could not start

  ControlPlane() = default;
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;
  // The elector's callbacks use the members: stop it before they go.
  ~ControlPlane() { Stop(); }

  // Stops the controllers, then releases the lease (so a standby takes over
  // at once), then DNS. Idempotent.
  void Stop() {
    if (elector) {
      elector->Stop(kennel::client::ReleaseLease::kYes);
    }
    std::unique_ptr<Controllers> last;
    {
      std::lock_guard lock(mu);
      last = std::move(controllers);
    }
    last.reset();
    dns.reset();
  }
};

kennel::StatusOr<std::unique_ptr<Controllers>> StartControllers(
    kennel::client::Client* client, const ControlPlaneOptions& options) {
  auto c = std::make_unique<Controllers>();
  ASSIGN_OR_RETURN(c->node_ipam, kennel::controllers::NodeIpam::Start(client, options.ipam));
  ASSIGN_OR_RETURN(c->endpoints,
                   kennel::controllers::EndpointsController::Start(client, options.endpoints));
  ASSIGN_OR_RETURN(c->statefulsets, kennel::controllers::StatefulSetController::Start(client));
  ASSIGN_OR_RETURN(c->garbage_collector, kennel::controllers::GarbageCollector::Start(client));
  ASSIGN_OR_RETURN(c->replicasets, kennel::controllers::ReplicaSetController::Start(client));
  ASSIGN_OR_RETURN(c->deployments, kennel::controllers::DeploymentController::Start(client));
  // Before the scheduler: it creates the default StorageClass.
  ASSIGN_OR_RETURN(c->volume_binder, kennel::controllers::VolumeBinder::Start(client));
  ASSIGN_OR_RETURN(c->scheduler, kennel::scheduler::Scheduler::Start(client, options.scheduler));
  return c;
}

kennel::StatusOr<kennel::client::LeaderElectorOptions> LeaderElectorOptionsFrom(
    const LeaderElectionFlags& flags) {
  kennel::client::LeaderElectorOptions o;
  o.lease_namespace = "kube-system";
  o.lease_name = "kennel-control-plane";
  auto parse = [](const std::string& flag,
                  const std::string& text) -> kennel::StatusOr<std::chrono::milliseconds> {
    auto d = kennel::ParseGoDuration(text);
    if (!d.ok()) return kennel::BadRequest(flag + ": " + d.status().message());
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  };
  ASSIGN_OR_RETURN(o.lease_duration, parse("--leader-elect-lease-duration", flags.lease_duration));
  ASSIGN_OR_RETURN(o.renew_deadline, parse("--leader-elect-renew-deadline", flags.renew_deadline));
  ASSIGN_OR_RETURN(o.retry_period, parse("--leader-elect-retry-period", flags.retry_period));
  RETURN_IF_ERROR(kennel::client::ValidateLeaderElectorOptions(o));
  return o;
}

// Starts what every server runs, then the controllers: at once without
// leader election, else whenever this server becomes the leader. The
// elector's callbacks run on its own callback thread, so however long the
// controllers take to start or stop (their destructors join workers that
// may be in a request), renewals go on meanwhile.
// election: the elector's options, or nullopt for --leader-elect=false.
kennel::StatusOr<std::unique_ptr<ControlPlane>> StartControlPlane(
    kennel::apiserver::Server& server, const ControlPlaneOptions& options,
    std::optional<kennel::client::LeaderElectorOptions> election) {
  auto cp = std::make_unique<ControlPlane>();
  cp->client = kennel::client::NewInProcessClient(server.handler(), server.executor());
  if (options.serve_dns) {
    ASSIGN_OR_RETURN(cp->dns, kennel::dns::DnsServer::Start(cp->client.get(), options.dns));
  }
  if (!election) {
    ASSIGN_OR_RETURN(cp->controllers, StartControllers(cp->client.get(), options));
    return cp;
  }
  ControlPlane* plane = cp.get();
  election->on_started_leading = [plane, options] {
    const auto start = std::chrono::steady_clock::now();
    auto started = StartControllers(plane->client.get(), options);
    std::lock_guard lock(plane->mu);
    if (!started.ok()) {
      // As kube-controller-manager exits: stop the whole server (main waits
      // for SIGTERM) rather than lead without controllers.
      spdlog::error("cannot start the controllers: {}", started.status().ToString());
      plane->failure = started.status();
      kill(getpid(), SIGTERM);
      return;
    }
    plane->controllers = std::move(started).value();
    spdlog::info("controllers and scheduler started in {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  };
  election->on_stopped_leading = [plane] {
    std::unique_ptr<Controllers> stopping;
    {
      std::lock_guard lock(plane->mu);
      stopping = std::move(plane->controllers);
    }
    stopping.reset();
    spdlog::info("controllers and scheduler stopped");
  };
  ASSIGN_OR_RETURN(cp->elector, kennel::client::LeaderElector::Start(cp->client.get(), *election));
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
  if (agent_options) StartShimLauncherOrWarn();
  // A bad configuration file stops us before anything starts.
  if (!cp_options.scheduler_config.empty()) {
    auto config = kennel::scheduler::LoadSchedulerConfig(cp_options.scheduler_config);
    if (!config.ok()) return Fail(config.status());
    cp_options.scheduler.config = *std::move(config);
  }
  // Bad flags stop us before anything starts, not when this server first leads.
  kennel::Status cidr =
      kennel::controllers::NthBlock(cp_options.ipam.cluster_cidr, cp_options.ipam.node_prefix, 0)
          .status();
  if (!cidr.ok()) return Fail(cidr);
  // Checked even when unused: a flag that is wrong is wrong either way.
  auto parsed_election = LeaderElectorOptionsFrom(cp_options.leader_election);
  if (!parsed_election.ok()) return Fail(parsed_election.status());
  std::optional<kennel::client::LeaderElectorOptions> election;
  if (cp_options.leader_election.enabled) election = *std::move(parsed_election);
  auto server = kennel::apiserver::Server::Start(options);
  if (!server.ok()) return Fail(server.status());
  auto started_cp = StartControlPlane(**server, cp_options, std::move(election));
  if (!started_cp.ok()) {
    (*server)->Stop();
    (*server)->Wait();
    return Fail(started_cp.status());
  }
  std::unique_ptr<ControlPlane> cp = std::move(started_cp).value();
  std::unique_ptr<kennel::agent::Agent> agent;
  if (agent_options) {
    // The server proxies logs and exec to the agent with its admin token.
    agent_options->serving_token = (*server)->admin_token();
    auto started = kennel::agent::Agent::Start(cp->client.get(), *agent_options);
    if (!started.ok()) {
      cp->Stop();
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
  cp->Stop();
  kennel::Status failure;
  {
    std::lock_guard lock(cp->mu);
    failure = cp->failure;
  }
  cp.reset();
  (*server)->Stop();
  (*server)->Wait();
  return failure.ok() ? 0 : Fail(failure);
}

struct AgentFlags {
  std::string server;
  std::string token;
  std::string token_file;
  std::string ca_file;
};

int RunAgent(const AgentFlags& flags, const kennel::agent::AgentOptions& options) {
  sigset_t signals = BlockStopSignals();
  StartShimLauncherOrWarn();
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
  std::string etcd_endpoints;
  std::vector<CLI::Option*> leader_elect_flags;  // --leader-elect of server and up
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
    cmd->add_option("--threads", server_options.threads,
                    "I/O threads (0: one per core but one; 4 on etcd)")
        ->capture_default_str();
    cmd->add_option("--dns-listen", dns_listen, "HOST:PORT to serve cluster DNS on (UDP and TCP)");
    cmd->add_option("--cluster-domain", cp_options.dns.cluster_domain, "Cluster DNS domain")
        ->capture_default_str();
    cmd->add_option("--etcd-endpoints", etcd_endpoints,
                    "Store everything in etcd v3 at these URLs (comma-separated, "
                    "http:// or https://) instead of the embedded store");
    cmd->add_option("--etcd-prefix", server_options.etcd_prefix, "Prefix of every key in etcd")
        ->capture_default_str();
    cmd->add_option("--etcd-cafile", server_options.etcd_ca_file, "CA to verify etcd with");
    cmd->add_option("--etcd-certfile", server_options.etcd_cert_file,
                    "Client certificate to present to etcd");
    cmd->add_option("--etcd-keyfile", server_options.etcd_key_file, "Its private key");
    cmd->add_option("--token", server_options.token,
                    "Share the cluster's CA and admin credentials through the store, sealed "
                    "with this token: every server of one etcd given the same token serves "
                    "with the same identity");
    LeaderElectionFlags& le = cp_options.leader_election;
    leader_elect_flags.push_back(
        cmd->add_flag("--leader-elect", le.enabled,
                      "Run the controllers and scheduler only while holding the Lease "
                      "kube-system/kennel-control-plane (default: true with --etcd-endpoints, "
                      "false on the embedded store, which one server alone can open)"));
    cmd->add_option("--leader-elect-lease-duration", le.lease_duration,
                    "How long standbys wait after the leader's last renewal before taking over")
        ->type_name("DURATION")
        ->capture_default_str();
    cmd->add_option("--leader-elect-renew-deadline", le.renew_deadline,
                    "How long the leader keeps leading while its renewals fail")
        ->type_name("DURATION")
        ->capture_default_str();
    cmd->add_option("--leader-elect-retry-period", le.retry_period,
                    "Time between attempts to acquire or renew the lease")
        ->type_name("DURATION")
        ->capture_default_str();
  };
  CLI::App* server =
      app.add_subcommand("server", "Run the API server on the embedded store or on etcd");
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
  agent
      ->add_option("--server", agent_flags.server,
                   "API server URL (https://HOST:PORT); several, comma-separated, fail over")
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
  server_options.etcd_endpoints = kennel::SplitCommaList(etcd_endpoints);
  // Several servers share a store only through etcd: the embedded one is
  // locked by the one server that opened it, which needs no election (and
  // should not wait out a crashed predecessor's lease on restart).
  bool leader_elect_given = false;
  for (CLI::Option* flag : leader_elect_flags) leader_elect_given |= flag->count() > 0;
  if (!leader_elect_given) {
    cp_options.leader_election.enabled = !server_options.etcd_endpoints.empty();
  }
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
