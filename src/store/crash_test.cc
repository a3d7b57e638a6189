// kill -9 during a write load: every acknowledged write must survive.
//
// The parent forks (while it has no other threads) a child that opens the
// embedded store and writes from several threads, reporting each write on a
// pipe only after the store acknowledged it. The parent kills the child with
// SIGKILL once enough acks arrived, reopens the store and checks it against the
// acks; three rounds run on the same database, each continuing from the state
// the previous kill left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/embedded.h"
#include "store/store.h"

namespace kennel::store {
namespace {

constexpr int kChildThreads = 8;

// Values are a function of the key, so any key found after a crash, acked or
// not, can be checked; sizes vary up to a few KB so WAL checkpoints happen
// while the child is being killed.
std::string ValueFor(const std::string& key) {
  size_t h = std::hash<std::string>()(key);
  std::string value = "value-of:" + key + ":";
  value.resize(value.size() + 64 + h % 3000, static_cast<char>('a' + h % 26));
  return value;
}

std::string CreateKey(int round, int thread, int i) {
  return "/r" + std::to_string(round) + "/t" + std::to_string(thread) + "/" + std::to_string(i);
}

std::string CounterKey(int thread) { return "/counter/t" + std::to_string(thread); }

// One line per write, written with a single write(2) (atomic below PIPE_BUF).
void Report(int fd, const std::string& line) {
  std::string out = line + "\n";
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n <= 0) _exit(3);  // the parent is gone
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// The child: never returns. Lines: "C key rev", "D key rev", "U key value rev",
// "E message" on an unexpected failure.
[[noreturn]] void RunChild(const std::string& path, int round, int fd) {
  EmbeddedOptions options;
  options.path = path;
  StatusOr<std::unique_ptr<Store>> opened = OpenEmbedded(options);
  if (!opened.ok()) {
    Report(fd, "E open: " + opened.status().ToString());
    _exit(2);
  }
  Store& store = **opened;
  std::vector<std::thread> threads;
  for (int t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&, t] {
      // The counter key outlives rounds: reuse it if an earlier round made it.
      int64_t counter_rev = kAnyRevision;
      int64_t counter = 0;
      if (StatusOr<KeyValue> c = store.Get(CounterKey(t)); c.ok()) {
        counter_rev = c->mod_revision;
        counter = std::stoll(c->value);
      } else {
        StatusOr<KeyValue> made = CreateSync(store, CounterKey(t), "0");
        if (!made.ok()) Report(fd, "E create counter: " + made.status().ToString());
        if (made.ok()) {
          counter_rev = made->mod_revision;
          Report(fd, "U " + CounterKey(t) + " 0 " + std::to_string(made->mod_revision));
        }
      }
      for (int i = 0;; ++i) {
        std::string key = CreateKey(round, t, i);
        StatusOr<KeyValue> c = CreateSync(store, key, ValueFor(key));
        if (!c.ok()) Report(fd, "E create " + key + ": " + c.status().ToString());
        if (c.ok()) Report(fd, "C " + key + " " + std::to_string(c->mod_revision));
        if (i % 3 == 2) {
          std::string value = std::to_string(counter + 1);
          StatusOr<KeyValue> u = UpdateSync(store, CounterKey(t), value, counter_rev);
          if (!u.ok()) Report(fd, "E update counter: " + u.status().ToString());
          if (u.ok()) {
            ++counter;
            counter_rev = u->mod_revision;
            Report(fd, "U " + CounterKey(t) + " " + value + " " + std::to_string(u->mod_revision));
          }
        }
        if (i % 4 == 3) {
          std::string old = CreateKey(round, t, i - 2);
          StatusOr<KeyValue> d = DeleteSync(store, old, kAnyRevision);
          if (!d.ok()) Report(fd, "E delete " + old + ": " + d.status().ToString());
          if (d.ok()) Report(fd, "D " + old + " " + std::to_string(d->mod_revision));
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();  // never: the parent kills us
  _exit(0);
}

struct Ack {
  char type;  // 'C', 'D', 'U'
  std::string key;
  std::string value;  // for 'U'
  int64_t revision = 0;
};

// What the acks promise about one key.
struct Expected {
  bool deleted = false;
  int64_t revision = 0;  // create's revision, or the delete's
  int64_t counter = -1;  // for counter keys: the last acked value
};

// Thread t of round r deletes key i - 2 right after writing key i (i % 4 == 3)
// and goes on only once the delete is acknowledged. So an acknowledged key
// may be missing without a delete ack only if the thread got no further than
// that delete when it was killed.
bool MayBeDeletedUnacknowledged(const std::string& key,
                                const std::map<std::pair<int, int>, int>& max_create_index) {
  int r, t, i;
  if (std::sscanf(key.c_str(), "/r%d/t%d/%d", &r, &t, &i) != 3 || i % 4 != 1) return false;
  auto it = max_create_index.find({r, t});
  return it != max_create_index.end() && it->second <= i + 2;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kennel-crash-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/store.db";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Runs one child until `kill_after` acks, kills it, and returns every ack it
  // managed to send (including those still in the pipe at the kill).
  std::vector<Ack> RunAndKill(int round, size_t kill_after) {
    std::vector<Ack> acks;
    int fds[2];
    if (pipe(fds) != 0) {
      ADD_FAILURE() << "pipe: " << strerror(errno);
      return acks;
    }
    pid_t pid = fork();
    if (pid < 0) {
      ADD_FAILURE() << "fork: " << strerror(errno);
      return acks;
    }
    if (pid == 0) {
      close(fds[0]);
      RunChild(path_, round, fds[1]);
    }
    close(fds[1]);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool killed = false;
    std::string buffer;
    char chunk[65536];
    for (;;) {
      if (!killed && (acks.size() >= kill_after || std::chrono::steady_clock::now() > deadline)) {
        EXPECT_GE(acks.size(), kill_after) << "child too slow: killed at the deadline";
        kill(pid, SIGKILL);
        killed = true;
      }
      pollfd p{fds[0], POLLIN, 0};
      int ready = poll(&p, 1, 1000);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) continue;  // re-check the deadline
      ssize_t n = read(fds[0], chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the child is dead and every ack it wrote is read
      buffer.append(chunk, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::istringstream line(buffer.substr(start, nl - start));
        Ack ack;
        line >> ack.type >> ack.key;
        if (ack.type == 'E') {
          ADD_FAILURE() << "child: " << buffer.substr(start, nl - start);
          continue;
        }
        if (ack.type == 'U') line >> ack.value;
        line >> ack.revision;
        if (!line) {
          ADD_FAILURE() << "bad ack line: " << buffer.substr(start, nl - start);
          continue;
        }
        acks.push_back(std::move(ack));
      }
      buffer.erase(0, start);
    }
    close(fds[0]);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child did not die by SIGKILL; status " << status;
    EXPECT_TRUE(buffer.empty()) << "a partial line: " << buffer;
    return acks;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(CrashTest, AcknowledgedWritesSurviveKill9) {
  std::map<std::string, Expected> expected;
  int64_t revision_before = 1;
  int64_t max_acked = 0;
  std::map<std::pair<int, int>, int> max_create_index;  // (round, thread) -> i
  const size_t kill_points[] = {1500, 2500, 4000};
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<Ack> acks = RunAndKill(round, kill_points[round]);
    ASSERT_GE(acks.size(), kill_points[round]);

    // Each child thread reports its own writes in order, and they got
    // increasing revisions, all above anything the previous rounds saw.
    std::map<std::string, int64_t> last_by_thread;
    for (const Ack& ack : acks) {
      // "/r0/t3/17" and "/counter/t3" both belong to thread "3".
      std::string thread = ack.key.substr(ack.key.find("/t") + 2);
      thread = thread.substr(0, thread.find('/'));
      int64_t& last = last_by_thread[thread];
      EXPECT_GT(ack.revision, std::max(last, revision_before)) << ack.key;
      last = ack.revision;
      max_acked = std::max(max_acked, ack.revision);
      Expected& e = expected[ack.key];
      switch (ack.type) {
        case 'C':
          if (int r, t, i; std::sscanf(ack.key.c_str(), "/r%d/t%d/%d", &r, &t, &i) == 3) {
            int& m = max_create_index[{r, t}];
            m = std::max(m, i);
          }
          e.deleted = false;
          e.revision = ack.revision;
          break;
        case 'D':
          e.deleted = true;
          e.revision = ack.revision;
          break;
        case 'U':
          e.counter = std::stoll(ack.value);
          e.revision = ack.revision;
          break;
      }
    }

    EmbeddedOptions options;
    options.path = path_;
    StatusOr<std::unique_ptr<Store>> reopened = OpenEmbedded(options);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    Store& store = **reopened;
    const int64_t revision = store.Revision();
    EXPECT_GE(revision, max_acked);
    EXPECT_GE(revision, revision_before);

    for (const auto& [key, e] : expected) {
      StatusOr<KeyValue> got = store.Get(key);
      if (e.deleted) {
        EXPECT_EQ(got.status().code(), Code::kNotFound) << key << " was deleted";
        continue;
      }
      if (!got.ok() && MayBeDeletedUnacknowledged(key, max_create_index)) continue;
      ASSERT_TRUE(got.ok()) << key << " was acknowledged at " << e.revision;
      if (e.counter >= 0) {
        // A later, unacknowledged increment may have committed too.
        const int64_t value = std::stoll(got->value);
        EXPECT_GE(value, e.counter) << key;
        EXPECT_GE(got->mod_revision, e.revision) << key;
        if (value == e.counter) {
          EXPECT_EQ(got->mod_revision, e.revision) << key;
        }
      } else {
        EXPECT_EQ(got->value, ValueFor(key)) << key;
        EXPECT_EQ(got->create_revision, e.revision) << key;
        EXPECT_EQ(got->mod_revision, e.revision) << key;
      }
    }
    // Unacknowledged writes that made it are whole, and nothing is newer than
    // the revision the store reports.
    StatusOr<RangeResponse> all = store.Range({"/r", "", 0});
    ASSERT_TRUE(all.ok());
    for (const KeyValue& kv : all->kvs) {
      EXPECT_EQ(kv.value, ValueFor(kv.key)) << kv.key;
      EXPECT_EQ(kv.create_revision, kv.mod_revision) << kv.key;
      EXPECT_LE(kv.mod_revision, revision) << kv.key;
    }
    EXPECT_EQ(all->revision, revision);
    revision_before = revision;
  }
}

}  // namespace
}  // namespace kennel::store
