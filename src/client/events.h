// Events about objects ("Scheduled", "FailedScheduling", "Preempted", …), as
// client-go's event recorder writes them: off the caller's path, on a thread
// of the recorder's own, through a bounded queue that drops events when full
// (an event is a hint to a human, never worth slowing the work it reports),
// and with repeats of one (object, reason, message) folded into one Event
// whose count and lastTimestamp grow.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "client/client.h"

namespace kennel::client {

class EventRecorder {
 public:
  // component: source.component and reportingComponent ("default-scheduler").
  // client must outlive the recorder.
  EventRecorder(Client* client, std::string component, size_t max_queued = 1000);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // object: the involved object (apiVersion/kind/metadata as the API returns
  // it; kind and apiVersion may be given when the object lacks them).
  // type: "Normal" or "Warning". Never blocks.
  void Record(const json& object, const std::string& kind, const std::string& type,
              const std::string& reason, const std::string& message);

  // Blocks until every event queued so far is written (or failed).
  void Flush();

  uint64_t dropped() const;

 private:
  struct Pending {
    json involved;
    std::string ns;
    std::string type, reason, message;
    std::string time;
  };
  struct Written {
    std::string name;  // the Event's name, to patch its count
    int64_t count = 1;
    std::list<std::string>::iterator lru;
  };

  void Run();
  void Write(const Pending& e);

  Client* client_;
  std::string component_;
  size_t max_queued_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  uint64_t dropped_ = 0;
  std::condition_variable idle_cv_;

  // The writer thread's: what it wrote, to fold repeats (bounded, LRU).
  std::unordered_map<std::string, Written> written_;
  std::list<std::string> lru_;

  std::thread thread_;
};

}  // namespace kennel::client
