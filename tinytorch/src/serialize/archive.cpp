#include "tinytorch/serialize/archive.h"

#include <zlib.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinytorch/core/safe_numerics.h"

namespace tinytorch::serialize {

namespace {

constexpr char kMagic[8] = {'T', 'T', 'A', 'R', 'C', 'H', 'I', 'V'};
constexpr size_t kPrefix = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t);

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T get(const std::string& in, size_t at) {
  T value;
  std::memcpy(&value, in.data() + at, sizeof(T));
  return value;
}

uint32_t crc32_of(const char* data, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large buffers in pieces.
  while (n > 0) {
    const auto piece = static_cast<uInt>(std::min<size_t>(n, 1U << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), piece);
    data += piece;
    n -= piece;
  }
  return static_cast<uint32_t>(crc);
}

// ── atomic writes ────────────────────────────────────────────────────────────────────────────

// A temporary whose writer may still be alive is kept, unless it has not been written to for
// this long: by then its pid has most likely been reused by an unrelated process.
constexpr auto kStaleTemporaryAge = std::chrono::hours(24);

// "<target>.tmp.<pid>" → pid; nothing for any other name.
std::optional<pid_t> temporary_pid(const std::string& name, const std::string& target) {
  const std::string prefix = target + ".tmp.";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return {};
  pid_t pid = 0;
  const char* end = name.data() + name.size();
  const auto [ptr, ec] = std::from_chars(name.data() + prefix.size(), end, pid);
  if (ec != std::errc() || ptr != end || pid <= 0) return {};
  return pid;
}

// Removes the temporaries of `path` that earlier saves left behind when they were killed
// (kill -9, a crash, a power cut) between creating the temporary and renaming it.
//
// NOTE: another process may be saving the same target right now; its temporary must survive.
// So a temporary is removed only when its writer is gone — kill(pid, 0) says no such process —
// or when it has not been modified for kStaleTemporaryAge. Our own pid's name is the file this
// save is about to write anyway. Best effort: a directory that cannot be listed is left alone,
// and the save itself reports whatever is wrong with the directory.
void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string name = target.filename().string();
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::optional<pid_t> pid = temporary_pid(it->path().filename().string(), name);
    if (!pid || *pid == ::getpid()) continue;
    const bool writer_gone = ::kill(*pid, 0) != 0 && errno == ESRCH;
    std::error_code time_ec;
    const auto modified = fs::last_write_time(it->path(), time_ec);
    const bool abandoned = !time_ec && now - modified > kStaleTemporaryAge;
    if (writer_gone || abandoned) {
      std::error_code remove_ec;
      fs::remove(it->path(), remove_ec);
    }
  }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view contents) {
  remove_stale_temporaries(path);
  // NOTE: write-then-rename is what makes the save atomic: readers see either the old file or
  // the complete new one. The temporary lives in the same directory so rename() cannot cross
  // file systems. POSIX calls rather than streams, so that every failure reports errno's reason
  // ("Permission denied", "No space left on device", "Read-only file system", ...).
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TT_CHECK(fd >= 0, "cannot write '", path, "': creating the temporary file '", tmp,
           "' failed: ", std::strerror(errno));
  int error = 0;
  for (size_t done = 0; done < contents.size();) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    TT_CHECK(false, "cannot write '", path, "': writing the temporary file '", tmp,
             "' failed: ", std::strerror(error));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno;
    ::unlink(tmp.c_str());
    TT_CHECK(false, "cannot write '", path, "': renaming '", tmp,
             "' to it failed: ", std::strerror(error));
  }
}

namespace {

// The header is JSON, and JSON text is UTF-8: nlohmann's dump() throws its own exception type on
// any other bytes. Each name and string is checked on its own first, so that the error is a
// tinytorch::ValueError naming the entry (by its first bytes in hex: the raw ones would not
// print) instead of a foreign exception escaping save().
void check_utf8(const std::string& path, std::string_view what, const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::exception&) {
    constexpr size_t kShown = 24;
    std::string hex;
    for (size_t i = 0; i < std::min(text.size(), kShown); ++i) {
      constexpr char kDigits[] = "0123456789abcdef";
      const auto b = static_cast<unsigned char>(text[i]);
      hex += kDigits[b >> 4];
      hex += kDigits[b & 0xF];
    }
    TT_CHECK_VALUE(false, "save(", path, "): ", what, " (bytes ", hex,
                   text.size() > kShown ? "..." : "",
                   ") is not valid UTF-8, which the archive's JSON header requires (hint: store "
                   "binary data hex-encoded, or as a uint8 tensor)");
  }
}

}  // namespace

void save(const Archive& archive, const std::string& path) {
  for (const auto& [name, tensor] : archive.tensors) check_utf8(path, "a tensor name", name);
  for (const auto& [key, value] : archive.strings) {
    check_utf8(path, "a string key", key);
    check_utf8(path, "the string under key '" + key + "'", value);
  }
  nlohmann::json header;
  header["tensors"] = nlohmann::json::array();
  std::string blob;
  for (const auto& [name, tensor] : archive.tensors) {
    TT_CHECK(tensor.defined(), "save(", path, "): tensor '", name, "' is undefined");
    // The file format has no place for scale/zero_point: saving only the integers would load
    // back as a plain int8 tensor that means something else.
    TT_CHECK(!tensor.is_quantized(), "save(", path, "): tensor '", name,
             "' is quantized, which the archive format does not store (hint: save its "
             "int_repr() and its scale/zero_point, or its dequantize())");
    const Tensor c = tensor.detach().contiguous();
    nlohmann::json entry;
    entry["name"] = name;
    entry["dtype"] = to_string(c.dtype());
    entry["shape"] = c.sizes().vec();
    entry["offset"] = blob.size();
    entry["nbytes"] = c.nbytes();
    header["tensors"].push_back(entry);
    blob.append(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.nbytes()));
  }
  header["strings"] = nlohmann::json::object();
  for (const auto& [key, value] : archive.strings) header["strings"][key] = value;
  const std::string header_text = header.dump();

  std::string bytes(kMagic, sizeof(kMagic));
  put<uint32_t>(bytes, kArchiveVersion);
  put<uint64_t>(bytes, header_text.size());
  bytes += header_text;
  bytes += blob;
  put<uint32_t>(bytes, crc32_of(bytes.data(), bytes.size()));
  write_file_atomically(path, bytes);
}

namespace {

// The whole file, or an Error naming the path and errno's reason (a directory, no permission).
std::string read_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TT_CHECK(!fs::is_directory(path, ec), "load: cannot open '", path,
           "': it is a directory, not an archive file");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  TT_CHECK(in.good(), "load: cannot open '", path,
           "': ", errno != 0 ? std::strerror(errno) : "unknown error");
  try {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure& e) {  // e.g. EIO, or a directory that appeared meanwhile
    TT_CHECK(false, "load: cannot read '", path, "': ", e.code().message());
  }
  return {};
}

// A JSON integer of the header, checked to be one: nlohmann's get<int64_t>() would convert a
// float such as 1e300 with an undefined cast, and a negative number into a huge uint64.
int64_t header_int(const nlohmann::json& value, const std::string& path, const std::string& what) {
  TT_CHECK(value.is_number_integer() && (value.is_number_unsigned() || value.get<int64_t>() >= 0),
           "load: '", path, "' has a malformed header: ", what, " must be an integer >= 0, got ",
           value.dump());
  TT_CHECK(!value.is_number_unsigned() ||
               value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
           "load: '", path, "' has a malformed header: ", what, " ", value.dump(),
           " is larger than 2^63 - 1");
  return value.get<int64_t>();
}

}  // namespace

Archive load(const std::string& path) {
  const std::string bytes = read_file(path);
  TT_CHECK(bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0,
           "load: '", path, "' is not a tinytorch archive (expected the magic bytes TTARCHIV)");
  TT_CHECK(bytes.size() >= kPrefix + sizeof(uint32_t), "load: '", path, "' is truncated (",
           bytes.size(), " bytes, shorter than the fixed header)");
  const auto version = get<uint32_t>(bytes, sizeof(kMagic));
  TT_CHECK(version == kArchiveVersion, "load: '", path, "' has format version ", version,
           "; this build reads version ", kArchiveVersion);
  const auto header_len = get<uint64_t>(bytes, sizeof(kMagic) + sizeof(uint32_t));
  TT_CHECK(header_len <= bytes.size() - kPrefix - sizeof(uint32_t), "load: '", path,
           "' is truncated (its header claims ", header_len, " bytes but the file has only ",
           bytes.size(), ")");
  const size_t body_end = bytes.size() - sizeof(uint32_t);
  const auto stored_crc = get<uint32_t>(bytes, body_end);
  TT_CHECK(stored_crc == crc32_of(bytes.data(), body_end), "load: '", path,
           "' is corrupt (checksum mismatch): it was truncated or modified after it was written");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(kPrefix, header_len));
  } catch (const nlohmann::json::exception& e) {
    TT_CHECK(false, "load: '", path, "' has a malformed header: ", e.what());
  }
  const size_t blob_begin = kPrefix + header_len;
  const auto blob_size = static_cast<int64_t>(body_end - blob_begin);
  Archive archive;
  try {
    for (const nlohmann::json& entry : header.at("tensors")) {
      const std::string name = entry.at("name").get<std::string>();
      const std::string what = "tensor '" + name + "'";
      TT_CHECK(!archive.tensors.contains(name), "load: '", path, "': the header lists ", what,
               " twice; every tensor name must appear once");
      const ScalarType dtype = scalar_type_from_string(entry.at("dtype").get<std::string>());
      std::vector<int64_t> shape;
      for (const nlohmann::json& size : entry.at("shape")) {
        shape.push_back(header_int(size, path, "a size of " + what));
      }
      const int64_t offset = header_int(entry.at("offset"), path, "the offset of " + what);
      const int64_t nbytes = header_int(entry.at("nbytes"), path, "the nbytes of " + what);
      // NOTE: everything the header says is checked against the file BEFORE anything is
      // allocated: the byte count the shape needs (computed without overflow) must equal the
      // recorded nbytes, and that range must lie inside the tensor bytes this file really has.
      // A header is only text: it can declare terabytes in a file of a few hundred bytes.
      int64_t numel = 1;
      int64_t needed = element_size(dtype);
      for (const int64_t size : shape) {
        TT_CHECK(!mul_overflows(numel, size, &numel) && !mul_overflows(needed, size, &needed),
                 "load: '", path, "': ", what, " has shape ", IntArrayRef(shape),
                 ", whose byte count does not fit in int64");
      }
      TT_CHECK(needed == nbytes, "load: '", path, "': ", what, " (", to_string(dtype), " ",
               IntArrayRef(shape), ") needs ", needed, " bytes but its header records ", nbytes);
      TT_CHECK(offset <= blob_size && nbytes <= blob_size - offset, "load: '", path, "': ", what,
               " (", to_string(dtype), " ", IntArrayRef(shape), ") claims bytes ", offset, " to ",
               offset, " + ", nbytes, " of the tensor data, but the file holds only ", blob_size);
      const char* data = bytes.data() + blob_begin + offset;
      // A bool is a byte that must hold 0 or 1: reading any other value as bool is undefined
      // behaviour (the compiler may assume 0/1), so the bytes are checked before they are used.
      if (dtype == kBool) {
        const auto bad = std::find_if(data, data + nbytes, [](char c) { return c != 0 && c != 1; });
        TT_CHECK(bad == data + nbytes, "load: '", path, "': ", what, " (bool) holds the byte ",
                 static_cast<int>(static_cast<unsigned char>(*bad)), " at element ", bad - data,
                 "; a bool must be 0 or 1");
      }
      Tensor t = empty(shape, dtype);
      // An empty tensor has no buffer (data_ptr() is null): memcpy must not be given it.
      if (nbytes > 0) {
        std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
      }
      archive.tensors.insert(name, t);
    }
    for (const auto& [key, value] : header.at("strings").items()) {
      archive.strings.insert(key, value.get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    TT_CHECK(false, "load: '", path, "' has a malformed header: ", e.what());
  }
  return archive;
}

std::string generator_state(const Generator& generator) {
  const Generator::State s = generator.get_state();
  std::ostringstream out;
  out.precision(17);
  out << s.seed << ' ' << s.has_cached_normal << ' ' << s.cached_normal << ' ' << s.engine;
  return out.str();
}

void set_generator_state(Generator& generator, const std::string& state) {
  Generator::State s;
  std::istringstream in(state);
  in >> s.seed >> s.has_cached_normal >> s.cached_normal >> s.engine;
  TT_CHECK(!in.fail(), "set_generator_state: malformed generator state");
  generator.set_state(s);
}

}  // namespace tinytorch::serialize
