#include "agent/internal/exec.h"

#include <unistd.h>

#include <cerrno>

namespace kennel::agent::internal {
namespace {

// A bounded string builder over a caller's buffer; no allocation.
class MsgBuilder {
 public:
  MsgBuilder(char* buf, size_t size) : buf_(buf), size_(size) {
    if (size_ > 0) buf_[0] = '\0';
  }
  MsgBuilder& Add(const char* s) {
    while (*s != '\0' && len_ + 1 < size_) buf_[len_++] = *s++;
    if (size_ > 0) buf_[len_] = '\0';
    return *this;
  }

 private:
  char* buf_;
  size_t size_;
  size_t len_ = 0;
};

// Like strerror, for the errors execve reports, but async-signal-safe.
const char* ExecErrorText(int err) {
  switch (err) {
    case ENOENT:
      return "no such file or directory";
    case ENOTDIR:
      return "not a directory";
    case EACCES:
      return "permission denied";
    case EPERM:
      return "operation not permitted";
    case ENOEXEC:
      return "exec format error";
    case E2BIG:
      return "argument list too long";
    case ENOMEM:
      return "cannot allocate memory";
    case ETXTBSY:
      return "text file busy";
    case ELOOP:
      return "too many levels of symbolic links";
    case ENAMETOOLONG:
      return "file name too long";
    case EISDIR:
      return "is a directory";
    case EIO:
      return "input/output error";
    default:
      return "exec failed";
  }
}

// Errors after which execvp tries the next $PATH entry.
bool TryNext(int err) {
  return err == ENOENT || err == ENOTDIR || err == ESTALE || err == ENODEV || err == ETIMEDOUT ||
         err == EACCES;
}

}  // namespace

std::vector<std::string> WithDefaultEnv(std::vector<std::string> env, const std::string& hostname) {
  bool has_path = false;
  bool has_hostname = false;
  for (const std::string& kv : env) {
    if (kv.rfind("PATH=", 0) == 0) has_path = true;
    if (kv.rfind("HOSTNAME=", 0) == 0) has_hostname = true;
  }
  if (!has_path) env.push_back(std::string("PATH=") + kDefaultPath);
  if (!has_hostname && !hostname.empty()) env.push_back("HOSTNAME=" + hostname);
  return env;
}

PreparedExec PrepareExec(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  PreparedExec p;
  p.name = argv.empty() ? "" : argv[0];
  p.argv_storage = argv;
  p.env_storage = env;
  for (std::string& s : p.argv_storage) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  for (std::string& s : p.env_storage) p.envp.push_back(s.data());
  p.envp.push_back(nullptr);
  if (p.name.empty()) return p;
  if (p.name.find('/') != std::string::npos) {
    p.candidates.push_back(p.name);
    return p;
  }
  std::string path = kDefaultPath;
  for (const std::string& kv : env) {
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  }
  size_t start = 0;
  while (true) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir.push_back('.');  // an empty entry means the current directory
    p.candidates.push_back(dir + "/" + p.name);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return p;
}

int ExecOrExplain(const PreparedExec& exec, char* msg, size_t msg_size) {
  MsgBuilder out(msg, msg_size);
  if (exec.name.empty()) {
    out.Add("exec: no command given");
    return 127;
  }
  bool denied = false;
  int last = ENOENT;
  for (const std::string& candidate : exec.candidates) {
    ::execve(candidate.c_str(), exec.argv.data(), exec.envp.data());
    last = errno;
    if (last == EACCES) denied = true;
    if (!TryNext(last)) break;
  }
  const char* name = exec.name.c_str();
  out.Add("exec: \"").Add(name).Add("\": ");
  bool has_slash = exec.name.find('/') != std::string::npos;
  if (TryNext(last) && !denied) {
    if (has_slash) {
      out.Add("stat ").Add(name).Add(": ").Add(ExecErrorText(last));
    } else {
      out.Add("executable file not found in $PATH");
    }
    return 127;
  }
  out.Add(ExecErrorText(denied && TryNext(last) ? EACCES : last));
  return 126;
}

}  // namespace kennel::agent::internal
