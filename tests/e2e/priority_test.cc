// PriorityClasses and pod priority through the real kubectl against a real
// `kennel server`: the built-in classes, `kubectl create priorityclass`,
// `kubectl get pc`, and the Priority admission plugin's answers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace kennel::e2e {
namespace {

using nlohmann::json;

class PriorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<KennelServer>(dir_.path());
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  // kubectl that must succeed; returns stdout.
  std::string Ok(const std::vector<std::string>& args, const std::string& in = "") {
    return server_->KubectlOk(args, in);
  }

  // kubectl that must fail; returns stderr.
  std::string Fails(const std::vector<std::string>& args, const std::string& in = "") {
    RunResult r = server_->Kubectl(args, in);
    EXPECT_NE(r.exit_code, 0) << "kubectl " << testing::PrintToString(args) << " succeeded:\n"
                              << r.out;
    return r.err;
  }

  json GetJson(std::vector<std::string> args) {
    args.push_back("-o");
    args.push_back("json");
    return json::parse(Ok(args), nullptr, false);
  }

  TempDir dir_;
  std::unique_ptr<KennelServer> server_;
};

// The whitespace-separated words of each line of kubectl's table output.
std::vector<std::vector<std::string>> Rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::vector<std::string> row;
    std::string word;
    while (words >> word) row.push_back(word);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

std::string Pod(const std::string& name, const std::string& class_name) {
  std::string pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n";
  if (!class_name.empty()) pod += "  priorityClassName: " + class_name + "\n";
  return pod + "  containers:\n  - name: c\n    image: host\n    command: [\"sleep\", \"60\"]\n";
}

TEST_F(PriorityTest, BuiltInClassesExistAndCannotBeDeleted) {
  using Row = std::vector<std::string>;
  std::vector<Row> rows = Rows(Ok({"get", "pc"}));
  ASSERT_EQ(rows.size(), 3u) << Ok({"get", "pc"});
  EXPECT_EQ(rows[0], (Row{"NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"}));
  ASSERT_EQ(rows[1].size(), 5u);
  EXPECT_EQ(rows[1][0], "system-cluster-critical");
  EXPECT_EQ(rows[1][1], "2000000000");
  EXPECT_EQ(rows[1][2], "false");
  EXPECT_EQ(rows[1][4], "PreemptLowerPriority");
  EXPECT_EQ(rows[2][0], "system-node-critical");
  EXPECT_EQ(rows[2][1], "2000001000");

  json node = GetJson({"get", "priorityclass", "system-node-critical"});
  EXPECT_EQ(node["description"],
            "Used for system critical pods that must not be moved from their current node.");

  std::string err = Fails({"delete", "pc", "system-node-critical"});
  EXPECT_NE(err.find("Error from server (Forbidden): priorityclasses.scheduling.k8s.io "
                     "\"system-node-critical\" is forbidden: this is a system priority class "
                     "and cannot be deleted"),
            std::string::npos)
      << err;
  EXPECT_EQ(GetJson({"get", "pc", "system-node-critical"})["value"], 2000001000);
}

TEST_F(PriorityTest, CreatePriorityClassAndPodsGetItsPriority) {
  // A generator command: kubectl sends this one as protobuf.
  EXPECT_EQ(Ok({"create", "priorityclass", "high", "--value=1000", "--description=x"}),
            "priorityclass.scheduling.k8s.io/high created\n");
  Ok({"apply", "-f", "-"}, R"(apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: batch
value: -5
preemptionPolicy: Never
description: batch jobs
)");
  std::string table = Ok({"get", "pc"});
  bool saw_high = false;
  bool saw_batch = false;
  for (const auto& row : Rows(table)) {
    if (row[0] == "high") {
      saw_high = true;
      EXPECT_EQ(
          row, (std::vector<std::string>{"high", "1000", "false", row[3], "PreemptLowerPriority"}));
    }
    if (row[0] == "batch") {
      saw_batch = true;
      EXPECT_EQ(row[1], "-5");
      EXPECT_EQ(row[4], "Never");
    }
  }
  EXPECT_TRUE(saw_high && saw_batch) << table;
  json high = GetJson({"get", "pc", "high"});
  EXPECT_EQ(high["description"], "x");

  Ok({"apply", "-f", "-"}, Pod("important", "high"));
  json pod = GetJson({"get", "pod", "important"});
  EXPECT_EQ(pod["spec"]["priority"], 1000);
  EXPECT_EQ(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
  Ok({"apply", "-f", "-"}, Pod("batchy", "batch"));
  pod = GetJson({"get", "pod", "batchy"});
  EXPECT_EQ(pod["spec"]["priority"], -5);
  EXPECT_EQ(pod["spec"]["preemptionPolicy"], "Never");
  // Re-applying the same manifest (no priority in it) changes nothing.
  EXPECT_NE(Ok({"apply", "-f", "-"}, Pod("batchy", "batch")).find("unchanged"), std::string::npos);

  // Only built-in classes may use the system- prefix or exceed one billion.
  // kubectl wraps a generator's error ("failed to create priorityclass: ...").
  std::string err = Fails({"create", "priorityclass", "huge", "--value=1000000001"});
  EXPECT_NE(err.find("\"huge\" is invalid: value: Forbidden: maximum allowed value of a user "
                     "defined priority is 1000000000"),
            std::string::npos)
      << err;
  err = Fails({"create", "priorityclass", "system-mine", "--value=1"});
  EXPECT_NE(err.find("priority class names with 'system-' prefix are reserved for system use "
                     "only"),
            std::string::npos)
      << err;
  // value is immutable.
  err = Fails({"patch", "pc", "high", "--type=merge", "-p", R"({"value": 5})"});
  EXPECT_NE(err.find("value: Forbidden: may not be changed in an update."), std::string::npos)
      << err;
}

TEST_F(PriorityTest, UnknownClassIsForbidden) {
  std::string err = Fails({"apply", "-f", "-"}, Pod("x", "foo"));
  EXPECT_NE(err.find("Error from server (Forbidden): error when creating \"STDIN\": pods \"x\" is "
                     "forbidden: no PriorityClass with name foo was found"),
            std::string::npos)
      << err;
  EXPECT_NE(server_->Kubectl({"get", "pod", "x"}).exit_code, 0);
}

TEST_F(PriorityTest, GlobalDefaultAppliesToPodsWithoutAClass) {
  Ok({"apply", "-f", "-"}, Pod("before", ""));
  EXPECT_EQ(GetJson({"get", "pod", "before"})["spec"]["priority"], 0);

  Ok({"create", "priorityclass", "normal", "--value=100", "--global-default=true"});
  std::string err =
      Fails({"create", "priorityclass", "second", "--value=200", "--global-default=true"});
  EXPECT_NE(err.find("priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass "
                     "normal is already marked as default. Only one default can exist"),
            std::string::npos)
      << err;
  bool shows_default = false;
  for (const auto& row : Rows(Ok({"get", "pc", "normal"}))) {
    shows_default = shows_default || (row[0] == "normal" && row[2] == "true");
  }
  EXPECT_TRUE(shows_default);

  Ok({"apply", "-f", "-"}, Pod("after", ""));
  json pod = GetJson({"get", "pod", "after"});
  EXPECT_EQ(pod["spec"]["priorityClassName"], "normal");
  EXPECT_EQ(pod["spec"]["priority"], 100);
  // Pods created before keep their priority.
  EXPECT_EQ(GetJson({"get", "pod", "before"})["spec"]["priority"], 0);
}

}  // namespace
}  // namespace kennel::e2e
