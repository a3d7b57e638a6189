#include "agent/internal/sys.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/testing/temp_dir.h"

namespace kennel::agent::internal {
namespace {

namespace fs = std::filesystem;

class SysTest : public ::testing::Test {
 protected:
  kennel::testing::TempDir temp_{"kennel-sys-test"};
  const std::string& dir_ = temp_.path();
};

TEST_F(SysTest, MakeDirsCreatesEveryMissingLevelAndAcceptsWhatExists) {
  const std::string deep = dir_ + "/a/b/c/d";
  ASSERT_TRUE(MakeDirs(deep, 0750).ok());
  EXPECT_TRUE(fs::is_directory(deep));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(
      st.st_mode & 0777, 0750u & ~[] {
        mode_t m = ::umask(0);
        ::umask(m);
        return m;
      }());
  EXPECT_TRUE(MakeDirs(deep).ok());                // all there
  EXPECT_TRUE(MakeDirs(dir_ + "/a/b/e/").ok());    // trailing slash
  EXPECT_TRUE(MakeDirs(dir_ + "//a//x//y").ok());  // doubled slashes
  EXPECT_TRUE(fs::is_directory(dir_ + "/a/x/y"));
}

TEST_F(SysTest, MakeDirsRefusesAFileInTheWay) {
  std::ofstream(dir_ + "/file") << "x";
  EXPECT_FALSE(MakeDirs(dir_ + "/file").ok());
  EXPECT_FALSE(MakeDirs(dir_ + "/file/below").ok());
}

// Runs check in a child after ResetSignalsForExec; its exit code is the result.
int InChildAfterReset(void (*prepare)(), bool (*check)()) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    prepare();
    ResetSignalsForExec();
    ::_exit(check() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

bool IsDefault(int sig) {
  struct sigaction now {};
  return ::sigaction(sig, nullptr, &now) == 0 && now.sa_handler == SIG_DFL;
}

void OnSignal(int) {}

TEST(ResetSignalsTest, IgnoredAndCaughtSignalsGoBackToTheDefaultAndNoneStaysBlocked) {
  EXPECT_EQ(InChildAfterReset(
                [] {
                  ::signal(SIGCHLD, SIG_IGN);
                  ::signal(SIGPIPE, SIG_IGN);
                  ::signal(SIGUSR1, OnSignal);
                  ::signal(SIGRTMIN + 3, OnSignal);
                  sigset_t all;
                  sigfillset(&all);
                  ::sigprocmask(SIG_BLOCK, &all, nullptr);
                },
                [] {
                  sigset_t blocked;
                  ::sigprocmask(SIG_SETMASK, nullptr, &blocked);
                  for (int sig = 1; sig < NSIG; ++sig) {
                    if (sigismember(&blocked, sig) == 1) return false;
                  }
                  return IsDefault(SIGCHLD) && IsDefault(SIGPIPE) && IsDefault(SIGUSR1) &&
                         IsDefault(SIGRTMIN + 3) && IsDefault(SIGTERM);
                }),
            0);
}

}  // namespace
}  // namespace kennel::agent::internal
