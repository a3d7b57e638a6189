#include "api/registry.h"

#include <gtest/gtest.h>

namespace kennel::api {
namespace {

TEST(Registry, FindsStatefulSetsByResourceAndKind) {
  const ResourceInfo* r = FindResource("apps", "v1", "statefulsets");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, "StatefulSet");
  EXPECT_EQ(r->ApiVersion(), "apps/v1");
  EXPECT_TRUE(r->scale_subresource);
  EXPECT_EQ(FindByApiVersionKind("apps/v1", "StatefulSet"), r);
  EXPECT_EQ(FindKind("apps", "StatefulSet"), r);
}

TEST(Registry, CoreKindsHaveEmptyGroupAndShortNames) {
  const ResourceInfo* pods = FindResource("", "v1", "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->ApiVersion(), "v1");
  EXPECT_EQ(pods->short_names, std::vector<std::string>{"po"});
  EXPECT_EQ(pods->GroupResource(), "pods");
  EXPECT_FALSE(FindResource("", "v1", "namespaces")->namespaced);
}

TEST(Registry, UnknownResourceIsNull) {
  EXPECT_EQ(FindResource("apps", "v1", "pods"), nullptr);
  EXPECT_EQ(FindResource("", "v2", "pods"), nullptr);
}

TEST(Registry, PriorityClassesAreClusterScopedWithShortNamePc) {
  const ResourceInfo* pc = FindResource("scheduling.k8s.io", "v1", "priorityclasses");
  ASSERT_NE(pc, nullptr);
  EXPECT_EQ(pc->kind, "PriorityClass");
  EXPECT_EQ(pc->singular, "priorityclass");
  EXPECT_FALSE(pc->namespaced);
  EXPECT_EQ(pc->short_names, std::vector<std::string>{"pc"});
  EXPECT_TRUE(pc->categories.empty());
  EXPECT_EQ(pc->GroupResource(), "priorityclasses.scheduling.k8s.io");
  EXPECT_EQ(FindByApiVersionKind("scheduling.k8s.io/v1", "PriorityClass"), pc);
}

TEST(Registry, ServesFiveGroupVersions) {
  auto gvs = ServedGroupVersions();
  ASSERT_EQ(gvs.size(), 5u);
  EXPECT_EQ(gvs[0].group, "");
  EXPECT_EQ(gvs[1].group, "apps");
  EXPECT_EQ(gvs[4].group, "scheduling.k8s.io");
}

}  // namespace
}  // namespace kennel::api
