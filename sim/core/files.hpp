// Files at the boundaries: inputs read only when they are regular files of bounded size (a FIFO
// or a device never blocks or floods a reader), output paths checked before anything is written
// (never an input of the same run, never a device, FIFO or folder; a symbolic link is written
// through, never replaced), and stale temporary files of dead processes cleaned up.
#pragma once

#include "core/error.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace csei::files {

/// The most bytes a text input (scenario, sweep file, territory table) may have.
inline constexpr std::size_t kMaxTextBytes = std::size_t{64} << 20;

/// The system's reason for errno value `err`.
[[nodiscard]] inline std::string reason(int err) {
  return std::strerror(err);
}

/// What kind of file a stat result is, for messages ("a folder", "a FIFO", ...).
[[nodiscard]] inline const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a folder";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a regular file";
}

/// Reads the whole of `path`, which must be a regular file of at most `max_bytes`; otherwise
/// throws InputError at `where` ("<what> <path>: <why>"). Never blocks on a FIFO.
[[nodiscard]] inline std::string read_text(const std::filesystem::path& path,
                                           const SourceLocation& where, const std::string& what,
                                           std::size_t max_bytes = kMaxTextBytes) {
  const std::string name = path.string();
  const auto fail = [&](const std::string& why) {
    throw InputError(where, what + " " + name + ": " + why);
  };
  const int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail("cannot open: " + reason(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("cannot read: " + reason(errno));
  if (!S_ISREG(st.st_mode)) fail(std::string("is ") + kind_of(st.st_mode) + ", not a regular file");
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes)
    fail("is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  std::string out;
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  for (;;) {
    if (got == out.size()) {
      if (out.size() > max_bytes)
        fail("is larger than " + std::to_string(max_bytes >> 20) + " MiB");
      out.resize(out.size() + 4096); // the file grew since fstat
    }
    const ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail("cannot read: " + reason(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

/// Throws InputError unless `path` is a regular file (after following links): for readers that
/// hand the path to a library (HDF5) rather than reading it themselves.
inline void require_regular(const std::filesystem::path& path, const SourceLocation& where,
                            const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(where, what + " " + path.string() + ": cannot open: " + reason(errno));
  if (!S_ISREG(st.st_mode))
    throw InputError(where, what + " " + path.string() + ": is " + kind_of(st.st_mode) +
                                ", not a regular file");
}

/// An input of a run and what it is to the run ("the scenario", "the territory table", ...).
struct Input {
  std::string path;
  std::string role;
};

/// Checks the output path `out` given as `option` (e.g. "-o") before anything is computed:
/// it must not be a folder, device, FIFO or socket, nor (compared by device and inode, so links
/// and other spellings count) any of `inputs`. Returns the path to write: `out` itself, or the
/// target of `out` if it is a symbolic link (written through, so the link stays). Throws
/// InputError naming the path and why.
[[nodiscard]] inline std::filesystem::path check_output(const std::string& out,
                                                        const std::vector<Input>& inputs,
                                                        const std::string& option = "-o") {
  const SourceLocation where{"command line (" + option + " " + out + ")", 0, 0, "output"};
  if (out.empty()) throw InputError(where, "the output path is empty");
  if (out.back() == '/') throw InputError(where, out + " names a folder, not a file");
  std::filesystem::path target(out);
  struct stat st {};
  if (::lstat(out.c_str(), &st) != 0) {
    // A new file (its folder is created later), or a folder that cannot be: an output
    // failure, reported with the system's reason when writing starts.
    return target;
  }
  if (S_ISLNK(st.st_mode)) {
    char* real = ::realpath(out.c_str(), nullptr);
    if (!real)
      throw InputError(where, out + " is a symbolic link to nothing that exists (" + reason(errno) +
                                  "); it is not replaced: remove it or choose another path");
    target = real;
    std::free(real);
    if (::stat(target.c_str(), &st) != 0) return target;
  }
  if (!S_ISREG(st.st_mode))
    throw InputError(where, out + (target.string() == out ? "" : " (" + target.string() + ")") +
                                " is " + kind_of(st.st_mode) +
                                ", not a regular file: it cannot be an output");
  for (const Input& in : inputs) {
    struct stat is {};
    if (::stat(in.path.c_str(), &is) == 0 && is.st_dev == st.st_dev && is.st_ino == st.st_ino)
      throw InputError(where, out + " is " + in.role + " of this run (" + in.path +
                                  "): writing the output there would destroy it");
  }
  return target;
}

/// Creates `path` exclusively (to learn early, with the system's reason, whether it can be
/// written); throws OutputError naming it.
inline void create_exclusive(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw OutputError(path.string() + ": cannot create: " + reason(errno));
  ::close(fd);
}

/// The temporary name `final_path` is written under by this process.
[[nodiscard]] inline std::filesystem::path partial_name(const std::filesystem::path& final_path) {
  std::filesystem::path p = final_path;
  p += ".partial-" + std::to_string(::getpid());
  return p;
}

/// Whether process `pid` provably no longer exists.
[[nodiscard]] inline bool process_dead(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

/// Removes "<final_path>.partial-<pid>" files left by processes that are provably dead (killed
/// before they could clean up). Files of live processes, and anything else, stay.
inline void remove_stale_partials(const std::filesystem::path& final_path) {
  std::error_code ec;
  const std::filesystem::path dir =
      final_path.has_parent_path() ? final_path.parent_path() : std::filesystem::path(".");
  const std::string prefix = final_path.filename().string() + ".partial-";
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    std::error_code fec;
    if (pid != ::getpid() && process_dead(pid) && it->is_regular_file(fec) && !fec)
      std::filesystem::remove(it->path(), fec);
  }
}

/// Prepares writing `path`: its folder, stale partial files of dead processes gone, a fresh
/// temporary file (returned; moved to `path` when complete by commit_partial).
inline std::filesystem::path begin_partial(const std::filesystem::path& path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      throw OutputError(path.parent_path().string() + ": cannot create directory: " + ec.message());
  }
  auto temp = partial_name(path);
  remove_stale_partials(path);
  create_exclusive(temp); // the folder's problems, with the system's reason
  return temp;
}

/// Moves the finished temporary file `temp` to `path`; if that fails, removes it and throws
/// OutputError naming `path` and the system's reason.
inline void commit_partial(const std::filesystem::path& temp, const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temp, ec);
    throw OutputError(path.string() + ": cannot move the finished file into place: " + why);
  }
}

/// Writes a file whole under its temporary name: runs `write()`, which creates and fills `temp`,
/// then moves it to `path` (commit_partial). On any failure `temp` is removed; an OutputError
/// is rethrown as "<temp>: cannot write the <what>: <reason>".
template <class F>
void write_partial(const std::filesystem::path& temp, const std::filesystem::path& path,
                   const std::string& what, F&& write) {
  try {
    write();
  } catch (const OutputError& e) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw OutputError(temp.string() + ": cannot write the " + what + ": " + e.what());
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw;
  }
  commit_partial(temp, path);
}

} // namespace csei::files
