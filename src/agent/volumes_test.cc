#include "agent/volumes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kennel::agent {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

class VolumesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-volumes-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static ObjectGetter Objects() {
    return [](const std::string& kind, const std::string& ns,
              const std::string& name) -> StatusOr<json> {
      if (ns != "shop") return NotFound("wrong namespace");
      if (kind == "ConfigMap" && name == "cfg") {
        return json::parse(R"({"data": {"mode": "fast", "level": "3"}})");
      }
      if (kind == "Secret" && name == "sec") {
        return json::parse(R"({"data": {"password": "czNjcjN0"}})");  // "s3cr3t"
      }
      return NotFound(kind + " " + name + " not found");
    };
  }

  static PvcPathGetter Claims(const std::string& path) {
    return [path](const std::string& ns, const std::string& claim) -> StatusOr<std::string> {
      if (ns == "shop" && claim == "data-web-0") return path;
      return Status(Code::kUnavailable, "persistentvolumeclaim \"" + claim + "\" is not bound");
    };
  }

  StatusOr<std::map<std::string, PreparedVolume>> Prepare(const json& volumes) {
    json pod = {
        {"metadata", {{"name", "web-0"}, {"namespace", "shop"}, {"labels", {{"app", "web"}}}}},
        {"spec", {{"volumes", volumes}}}};
    return PrepareVolumes(pod, dir_ + "/volumes", PodRuntimeFacts{"10.0.0.9", "192.168.0.1", "n1"},
                          Objects(), Claims(dir_ + "/pv"));
  }

  std::string dir_;
};

TEST_F(VolumesTest, ConfigMapSecretDownwardAndProjectedFiles) {
  auto vols = Prepare(json::parse(R"([
    {"name": "cfg", "configMap": {"name": "cfg"}},
    {"name": "items", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": "conf/mode.txt", "mode": 256}]}},
    {"name": "sec", "secret": {"secretName": "sec", "defaultMode": 384}},
    {"name": "down", "downwardAPI": {"items": [
      {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
      {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    {"name": "all", "projected": {"sources": [
      {"configMap": {"name": "cfg", "items": [{"key": "level", "path": "level"}]}},
      {"secret": {"name": "sec"}},
      {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}}
  ])"));
  ASSERT_TRUE(vols.ok()) << vols.status().ToString();
  const std::string v = dir_ + "/volumes";
  EXPECT_EQ(ReadText(v + "/cfg/mode"), "fast");
  EXPECT_EQ(ReadText(v + "/cfg/level"), "3");
  EXPECT_EQ(ReadText(v + "/items/conf/mode.txt"), "fast");
  EXPECT_EQ(Mode(v + "/items/conf/mode.txt"), 0400);
  EXPECT_FALSE(fs::exists(v + "/items/level"));
  EXPECT_EQ(ReadText(v + "/sec/password"), "s3cr3t");
  EXPECT_EQ(Mode(v + "/sec/password"), 0600);
  EXPECT_EQ(ReadText(v + "/down/name"), "web-0");
  EXPECT_EQ(ReadText(v + "/down/labels"), "app=\"web\"\n");
  EXPECT_EQ(ReadText(v + "/all/level"), "3");
  EXPECT_EQ(ReadText(v + "/all/password"), "s3cr3t");
  EXPECT_EQ(ReadText(v + "/all/ns"), "shop");
  for (const char* name : {"cfg", "sec", "down", "all"}) {
    EXPECT_TRUE(vols->at(name).read_only) << name;
  }
}

TEST_F(VolumesTest, EmptyDirHostPathAndClaims) {
  fs::create_directories(dir_ + "/host");
  auto vols = Prepare(json::parse(R"([
    {"name": "scratch", "emptyDir": {}},
    {"name": "made", "hostPath": {"path": ")" +
                                  dir_ + R"(/made", "type": "DirectoryOrCreate"}},
    {"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}
  ])"));
  ASSERT_TRUE(vols.ok()) << vols.status().ToString();
  EXPECT_TRUE(fs::is_directory(dir_ + "/volumes/scratch"));
  EXPECT_FALSE(vols->at("scratch").read_only);
  EXPECT_TRUE(fs::is_directory(dir_ + "/made"));
  EXPECT_EQ(vols->at("made").host_path, dir_ + "/made");
  EXPECT_EQ(vols->at("data").host_path, dir_ + "/pv");

  json container = json::parse(R"({"volumeMounts": [
    {"name": "scratch", "mountPath": "/scratch"},
    {"name": "data", "mountPath": "/var/lib/db", "subPath": "pgdata", "readOnly": true}]})");
  auto mounts = ContainerMounts(container, *vols);
  ASSERT_TRUE(mounts.ok()) << mounts.status().ToString();
  ASSERT_EQ(mounts->size(), 2u);
  EXPECT_EQ((*mounts)[0].source, dir_ + "/volumes/scratch");
  EXPECT_EQ((*mounts)[0].target, "/scratch");
  EXPECT_EQ((*mounts)[1].source, dir_ + "/pv/pgdata");
  EXPECT_TRUE((*mounts)[1].read_only);
  EXPECT_TRUE(fs::is_directory(dir_ + "/pv/pgdata"));  // made, as Kubernetes does
}

TEST_F(VolumesTest, BadInputIsAClearError) {
  auto missing = Prepare(json::parse(R"([{"name": "cfg", "configMap": {"name": "nope"}}])"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("volume \"cfg\": configmap \"nope\" not found"),
            std::string::npos)
      << missing.status().message();
  EXPECT_TRUE(
      Prepare(json::parse(R"([{"name": "cfg", "configMap": {"name": "nope", "optional": true}}])"))
          .ok());
  auto escape = Prepare(json::parse(
      R"([{"name": "x", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": "../../etc/x"}]}}])"));
  EXPECT_EQ(escape.status().code(), Code::kBadRequest);
  auto unbound =
      Prepare(json::parse(R"([{"name": "d", "persistentVolumeClaim": {"claimName": "other"}}])"));
  EXPECT_EQ(unbound.status().code(), Code::kUnavailable);
  auto host = Prepare(
      json::parse(R"([{"name": "h", "hostPath": {"path": "/no/such/dir", "type": "Directory"}}])"));
  EXPECT_EQ(host.status().code(), Code::kBadRequest);
  auto unknown = Prepare(json::parse(R"([{"name": "u", "gitRepo": {"repository": "x"}}])"));
  EXPECT_NE(unknown.status().message().find("unsupported volume type"), std::string::npos);

  std::map<std::string, PreparedVolume> none;
  auto mounts = ContainerMounts(
      json::parse(R"({"volumeMounts": [{"name": "ghost", "mountPath": "/g"}]})"), none);
  EXPECT_EQ(mounts.status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace kennel::agent
