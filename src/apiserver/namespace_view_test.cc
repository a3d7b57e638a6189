#include "apiserver/namespace_view.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "store/embedded.h"

namespace kennel::apiserver {
namespace {

constexpr char kPrefix[] = "/registry/namespaces/";

class NamespaceViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kennel-nsview-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = store::OpenEmbedded({dir_ + "/kennel.db"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    view_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  int64_t Put(const std::string& name, bool terminating) {
    std::string value = R"({"metadata":{"name":")" + name + "\"" +
                        (terminating ? R"(,"deletionTimestamp":"2026-11-22T00:00:00Z")" : "") +
                        "}}";
    auto existing = store_->Get(kPrefix + name);
    auto written = existing.ok()
                       ? store::UpdateSync(*store_, kPrefix + name, value, store::kAnyRevision)
                       : store::CreateSync(*store_, kPrefix + name, value);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return written.ok() ? written->mod_revision : 0;
  }

  // Watch events arrive on the store's thread: wait for them, with a deadline.
  static bool Eventually(const std::function<bool()>& cond) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!cond()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<NamespaceView> view_ = std::make_unique<NamespaceView>();
};

TEST_F(NamespaceViewTest, LoadsThenFollowsTheStore) {
  Put("default", false);
  Put("old", true);
  ASSERT_TRUE(view_->Start(store_.get(), kPrefix).ok());
  EXPECT_EQ(view_->Terminating("default"), false);
  EXPECT_EQ(view_->Terminating("old"), true);
  EXPECT_EQ(view_->Terminating("absent"), std::nullopt);

  Put("new", false);
  EXPECT_TRUE(Eventually([&] { return view_->Terminating("new") == false; }));
  Put("new", true);
  EXPECT_TRUE(Eventually([&] { return view_->Terminating("new") == true; }));
  ASSERT_TRUE(store::DeleteSync(*store_, std::string(kPrefix) + "new", store::kAnyRevision).ok());
  EXPECT_TRUE(Eventually([&] { return !view_->Terminating("new").has_value(); }));
}

TEST_F(NamespaceViewTest, OwnWritesShowAtOnceAndOlderNewsIsIgnored) {
  ASSERT_TRUE(view_->Start(store_.get(), kPrefix).ok());
  int64_t created = Put("ns", false);
  int64_t marked = Put("ns", true);
  view_->Marked("ns", marked);  // before the watch has delivered either event
  EXPECT_EQ(view_->Terminating("ns"), true);
  // The watch then delivers the create (older) and the mark: still terminating.
  EXPECT_GT(marked, created);
  int64_t other = Put("sentinel", false);  // delivered after both events of "ns"
  EXPECT_TRUE(Eventually([&] { return view_->Terminating("sentinel") == false; }));
  EXPECT_GT(other, marked);
  EXPECT_EQ(view_->Terminating("ns"), true);
  view_->Deleted("ns", marked + 100);
  EXPECT_EQ(view_->Terminating("ns"), std::nullopt);
}

}  // namespace
}  // namespace kennel::apiserver
