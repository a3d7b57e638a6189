// Durability through the whole stack: clients create objects over HTTPS while
// the server is killed with SIGKILL; after a restart every create that was
// acknowledged (201) is there, with the resourceVersion it was acknowledged
// with, and acknowledgements kept their revision order.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// One writer: creates ConfigMaps w<id>-<n> one after another with curl and
// prints "name resourceVersion" for each 201, and nothing for anything else.
std::string WriterScript(const KennelServer& server, int id) {
  std::ostringstream s;
  s << "n=0; while true; do n=$((n+1)); name=w" << id << "-$n; "
    << "body=$(curl -sS --max-time 10 --cacert " << server.ca_file()
    << " -H 'Authorization: Bearer " << server.token() << "'"
    << " -H 'Content-Type: application/json' -w '\\n%{http_code}'"
    << " -X POST " << server.url() << "/api/v1/namespaces/default/configmaps"
    << " -d '{\"metadata\":{\"name\":\"'$name'\"},\"data\":{\"n\":\"'$n'\"}}' 2>/dev/null); "
    << "code=${body##*$'\\n'}; "
    << "if [ \"$code\" = 201 ]; then "
    << "rv=$(printf '%s' \"$body\" | grep -o '\"resourceVersion\":\"[0-9]*\"' | grep -o "
       "'[0-9]*'); echo \"$name $rv\"; fi; done";
  return s.str();
}

struct Ack {
  std::string name;
  int64_t rv = 0;
};

std::vector<Ack> ParseAcks(const std::string& out) {
  std::vector<Ack> acks;
  std::istringstream in(out);
  std::string name;
  int64_t rv;
  while (in >> name >> rv) acks.push_back({name, rv});
  return acks;
}

size_t CountLines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

TEST(Durability, AcknowledgedCreatesSurviveKill9OfTheServer) {
  TempDir dir;
  // Two I/O threads: concurrent clients exercise the per-connection strands
  // (the default on 2 cores is one thread).
  KennelServer server(dir.path(), "127.0.0.1:0", {"--threads", "2"});
  ASSERT_TRUE(server.Start()) << server.log();
  std::vector<Ack> all_acks;
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<BackgroundProcess>> writers;
    for (int w = 0; w < 4; ++w) {
      writers.push_back(std::make_unique<BackgroundProcess>(
          std::vector<std::string>{"bash", "-c", WriterScript(server, round * 10 + w)},
          std::vector<std::string>{}));
    }
    // Let a good number of writes be acknowledged, then kill mid-load.
    ASSERT_TRUE(WaitFor(
        [&] {
          size_t lines = 0;
          for (auto& w : writers) lines += CountLines(w->output());
          return lines >= 150;
        },
        seconds(60)));
    server.Kill9();
    std::vector<std::vector<Ack>> per_writer;
    for (auto& w : writers) {
      w->Kill();
      // Only complete lines are acknowledgements.
      std::string out = w->output();
      out = out.substr(0, out.rfind('\n') + 1);
      per_writer.push_back(ParseAcks(out));
    }
    for (const auto& acks : per_writer) {
      for (size_t i = 1; i < acks.size(); ++i) {
        EXPECT_LT(acks[i - 1].rv, acks[i].rv) << "one writer's acks are in revision order";
      }
      all_acks.insert(all_acks.end(), acks.begin(), acks.end());
    }
    ASSERT_TRUE(server.Start()) << server.log();
    RunResult list = server.Kubectl({"get", "configmaps", "-n", "default", "-o", "json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    json items = json::parse(list.out)["items"];
    std::map<std::string, int64_t> stored;
    for (const auto& item : items) {
      stored[item["metadata"]["name"]] =
          std::stoll(item["metadata"]["resourceVersion"].get<std::string>());
    }
    for (const auto& ack : all_acks) {
      auto it = stored.find(ack.name);
      ASSERT_NE(it, stored.end()) << "acknowledged create of " << ack.name << " was lost";
      EXPECT_EQ(it->second, ack.rv) << ack.name;
    }
    // The revision keeps counting past everything acknowledged.
    RunResult created =
        server.Kubectl({"create", "configmap", "after-restart-" + std::to_string(round)});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    json after = json::parse(
        server.Kubectl({"get", "configmap", "after-restart-" + std::to_string(round), "-o", "json"})
            .out);
    int64_t max_acked = 0;
    for (const auto& ack : all_acks) max_acked = std::max(max_acked, ack.rv);
    EXPECT_GT(std::stoll(after["metadata"]["resourceVersion"].get<std::string>()), max_acked);
  }
  EXPECT_GE(all_acks.size(), 300u);
}

}  // namespace
}  // namespace kennel::e2e
