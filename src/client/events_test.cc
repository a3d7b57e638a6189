// The event recorder through a fake transport: events are written off the
// caller's thread, repeats fold into one Event's count, a full queue drops.
#include "client/events.h"

#include <gtest/gtest.h>

#include <mutex>

namespace kennel::client {
namespace {

// Records requests; answers creates and patches with 200 (or `fail_patch`
// with 404), and can hold every request until released.
class RecordingClient : public Client {
 public:
  StatusOr<Response> Do(const Request& request) override {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !hold; });
    requests.push_back(request);
    if (request.method == "PATCH" && fail_patch) {
      return Response{
          404, "application/json",
          R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404})"};
    }
    return Response{request.method == "POST" ? 201 : 200, "application/json", request.body};
  }
  StatusOr<std::unique_ptr<WatchHandle>> Watch(const Resource&, const std::string&,
                                               const ListOptions&, WatchCallback,
                                               WatchClosedCallback) override {
    return Status(Code::kMethodNotAllowed, "not in this fake");
  }
  void Release() {
    {
      std::lock_guard lock(mu);
      hold = false;
    }
    cv.notify_all();
  }
  std::vector<Request> Requests() {
    std::lock_guard lock(mu);
    return requests;
  }

  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  bool fail_patch = false;
  std::vector<Request> requests;
};

json APod() {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "web-0"}, {"namespace", "ns"}, {"uid", "u1"}}}};
}

TEST(EventRecorderTest, WritesEventsAndFoldsRepeats) {
  RecordingClient client;
  EventRecorder recorder(&client, "default-scheduler");
  recorder.Record(APod(), "Pod", "Warning", "FailedScheduling", "0/1 nodes are available.");
  recorder.Record(APod(), "Pod", "Warning", "FailedScheduling", "0/1 nodes are available.");
  recorder.Record(APod(), "Pod", "Normal", "Scheduled", "Successfully assigned ns/web-0 to n1");
  recorder.Flush();
  auto requests = client.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/api/v1/namespaces/ns/events");
  json first = json::parse(requests[0].body);
  EXPECT_EQ(first["involvedObject"]["name"], "web-0");
  EXPECT_EQ(first["involvedObject"]["uid"], "u1");
  EXPECT_EQ(first["reason"], "FailedScheduling");
  EXPECT_EQ(first["type"], "Warning");
  EXPECT_EQ(first["source"]["component"], "default-scheduler");
  EXPECT_EQ(first["count"], 1);
  // The repeat patches the same Event's count.
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].path,
            "/api/v1/namespaces/ns/events/" + first["metadata"]["name"].get<std::string>());
  EXPECT_EQ(json::parse(requests[1].body)["count"], 2);
  EXPECT_EQ(requests[2].method, "POST");
  EXPECT_EQ(recorder.dropped(), 0u);
}

TEST(EventRecorderTest, AVanishedEventIsWrittenAnew) {
  RecordingClient client;
  client.fail_patch = true;
  EventRecorder recorder(&client, "c");
  recorder.Record(APod(), "Pod", "Normal", "R", "m");
  recorder.Record(APod(), "Pod", "Normal", "R", "m");
  recorder.Flush();
  auto requests = client.Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[2].method, "POST");
}

TEST(EventRecorderTest, DropsWhenTheQueueIsFullInsteadOfBlocking) {
  RecordingClient client;
  client.hold = true;
  EventRecorder recorder(&client, "c", /*max_queued=*/2);
  for (int i = 0; i < 10; ++i) {
    std::string message = std::to_string(i);
    recorder.Record(APod(), "Pod", "Normal", "R", message);
  }
  // One is being written (held), two wait, the rest were dropped.
  EXPECT_GE(recorder.dropped(), 7u);
  client.Release();
  recorder.Flush();
  EXPECT_EQ(client.Requests().size() + recorder.dropped(), 10u);
}

}  // namespace
}  // namespace kennel::client
