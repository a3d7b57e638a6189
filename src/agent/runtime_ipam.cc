// IP address management for pod sandboxes (see internal/ipam.h).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <random>

#include "agent/internal/ipam.h"
#include "agent/internal/sys.h"

namespace kennel::agent::internal {
namespace {

uint32_t Mask(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

// Calls fn(ip_text, owner) for every lease file in dir.
template <typename Fn>
Status ForEachLease(const std::string& dir, Fn fn) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("open lease directory " + dir);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;  // ".", "..", temporary files
    if (!ParseIpv4(name).ok()) continue;
    auto owner = ReadSmallFile(JoinPath(dir, name));
    if (!owner.ok()) continue;  // released meanwhile
    if (!fn(name, *owner)) break;
  }
  ::closedir(d);
  return Status::Ok();
}

std::string RandomSuffix() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

}  // namespace

uint32_t Ipv4Cidr::Broadcast() const { return network | ~Mask(prefix); }

bool Ipv4Cidr::Contains(uint32_t ip) const { return (ip & Mask(prefix)) == network; }

StatusOr<uint32_t> ParseIpv4(std::string_view text) {
  struct in_addr addr;
  std::string s(text);
  if (::inet_pton(AF_INET, s.c_str(), &addr) != 1) {
    return BadRequest("invalid IPv4 address \"" + s + "\"");
  }
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  struct in_addr addr;
  addr.s_addr = htonl(ip);
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  return buf;
}

StatusOr<Ipv4Cidr> ParseCidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return BadRequest("invalid CIDR \"" + std::string(text) + "\": no prefix length");
  }
  ASSIGN_OR_RETURN(uint32_t ip, ParseIpv4(text.substr(0, slash)));
  std::string_view len = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (ec != std::errc() || end != len.data() + len.size() || prefix < 0 || prefix > 32) {
    return BadRequest("invalid CIDR \"" + std::string(text) + "\": bad prefix length");
  }
  if (prefix > 30) {
    return BadRequest("CIDR \"" + std::string(text) + "\" has no room for pods (at most /30)");
  }
  if ((ip & ~Mask(prefix)) != 0) {
    return BadRequest("invalid CIDR \"" + std::string(text) + "\": host bits are set");
  }
  return Ipv4Cidr{ip, prefix};
}

StatusOr<std::optional<std::string>> FindLease(const std::string& dir, const Ipv4Cidr& cidr,
                                               const std::string& pod_uid) {
  std::optional<std::string> found;
  RETURN_IF_ERROR(ForEachLease(dir, [&](const std::string& ip, const std::string& owner) {
    auto parsed = ParseIpv4(ip);
    if (owner == pod_uid && parsed.ok() && cidr.Contains(*parsed)) {
      found = ip;
      return false;
    }
    return true;
  }));
  return found;
}

StatusOr<std::string> AcquireLease(const std::string& dir, const Ipv4Cidr& cidr,
                                   const std::string& pod_uid) {
  if (pod_uid.empty()) return BadRequest("pod uid is empty");
  RETURN_IF_ERROR(MakeDirs(dir, 0700));
  ASSIGN_OR_RETURN(std::optional<std::string> existing, FindLease(dir, cidr, pod_uid));
  if (existing) return *existing;

  // The lease is written completely under a temporary name and then linked
  // to its IP name: link() fails if the name exists, like O_EXCL, and the
  // lease is never seen empty.
  std::string tmp = JoinPath(dir, ".lease-" + RandomSuffix());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return ErrnoStatus("create " + tmp);
    if (::write(fd.get(), pod_uid.data(), pod_uid.size()) != static_cast<ssize_t>(pod_uid.size())) {
      Status st = ErrnoStatus("write " + tmp);
      ::unlink(tmp.c_str());
      return st;
    }
  }
  for (uint32_t ip = cidr.Gateway() + 1; ip < cidr.Broadcast(); ++ip) {
    std::string name = FormatIpv4(ip);
    if (::link(tmp.c_str(), JoinPath(dir, name).c_str()) == 0) {
      ::unlink(tmp.c_str());
      return name;
    }
    if (errno != EEXIST) {
      Status st = ErrnoStatus("create lease " + JoinPath(dir, name));
      ::unlink(tmp.c_str());
      return st;
    }
  }
  ::unlink(tmp.c_str());
  return Status(Code::kUnavailable, "no free IP address left in " + FormatIpv4(cidr.network) + "/" +
                                        std::to_string(cidr.prefix));
}

namespace {

template <typename Pred>
Status ReleaseLeasesIf(const std::string& dir, Pred release) {
  Status result;
  RETURN_IF_ERROR(ForEachLease(dir, [&](const std::string& ip, const std::string& owner) {
    if (release(owner)) {
      std::string path = JoinPath(dir, ip);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) result = ErrnoStatus("unlink " + path);
    }
    return true;
  }));
  return result;
}

}  // namespace

Status ReleaseLeases(const std::string& dir, const std::string& pod_uid) {
  return ReleaseLeasesIf(dir, [&](const std::string& owner) { return owner == pod_uid; });
}

Status ReleaseLeasesExcept(const std::string& dir, const std::set<std::string>& keep) {
  return ReleaseLeasesIf(dir, [&](const std::string& owner) { return !keep.contains(owner); });
}

}  // namespace kennel::agent::internal
