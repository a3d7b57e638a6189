#include "agent/internal/cri_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "base/time.h"

namespace kennel::agent::internal {

CriLogWriter::CriLogWriter(std::string path, int64_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes), clock_(WallNowNs) {}

Status CriLogWriter::Open() {
  fd_.Reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd_.valid()) return ErrnoStatus("open log " + path_);
  struct stat st;
  size_ = ::fstat(fd_.get(), &st) == 0 ? st.st_size : 0;
  return Status::Ok();
}

void CriLogWriter::Append(Stream stream, std::string_view data) {
  std::string& pending = pending_[stream];
  pending.append(data);
  size_t start = 0;
  while (true) {
    size_t nl = pending.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(pending.data() + start, nl - start);
    // A long line goes out in kMaxRecord pieces, all but the last partial.
    while (line.size() > kMaxRecord) {
      WriteRecord(stream, line.substr(0, kMaxRecord), /*partial=*/true);
      line.remove_prefix(kMaxRecord);
    }
    WriteRecord(stream, line, /*partial=*/false);
    start = nl + 1;
  }
  // An unterminated line is held back until it fills a record.
  while (pending.size() - start >= kMaxRecord) {
    WriteRecord(stream, std::string_view(pending).substr(start, kMaxRecord), /*partial=*/true);
    start += kMaxRecord;
  }
  pending.erase(0, start);
}

void CriLogWriter::Finish(Stream stream) {
  std::string& pending = pending_[stream];
  if (!pending.empty()) WriteRecord(stream, pending, /*partial=*/false);
  pending.clear();
}

void CriLogWriter::WriteRecord(Stream stream, std::string_view content, bool partial) {
  std::string record = FormatRfc3339(clock_(), TimePrecision::kNanos);
  record += stream == kStdout ? " stdout " : " stderr ";
  record += partial ? "P " : "F ";
  record.append(content);
  record += '\n';
  RotateIfNeeded(record.size());
  if (!fd_.valid()) return;
  // One write per record keeps records whole even with readers tailing the
  // file; a full disk loses output rather than blocking the container.
  size_t off = 0;
  while (off < record.size()) {
    ssize_t n = ::write(fd_.get(), record.data() + off, record.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += n;
  }
  size_ += off;
}

void CriLogWriter::RotateIfNeeded(size_t next_record) {
  if (max_bytes_ <= 0 || size_ == 0) return;
  if (size_ + static_cast<int64_t>(next_record) <= max_bytes_) return;
  std::string old = path_ + ".1";
  if (::rename(path_.c_str(), old.c_str()) != 0) return;  // keep appending to the current file
  Open().IgnoreError();
}

}  // namespace kennel::agent::internal
