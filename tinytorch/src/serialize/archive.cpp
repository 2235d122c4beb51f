#include "tinytorch/serialize/archive.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <unistd.h>
#include <nlohmann/json.hpp>

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

}  // namespace

void save(const Archive& archive, const std::string& path) {
  nlohmann::json header;
  header["tensors"] = nlohmann::json::array();
  std::string blob;
  for (const auto& [name, tensor] : archive.tensors) {
    TT_CHECK(tensor.defined(), "save(", path, "): tensor '", name, "' is undefined");
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

  // NOTE: write-then-rename is what makes the save atomic: readers see either the old file or
  // the complete new one. The temporary lives in the same directory so rename() cannot cross
  // file systems.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    TT_CHECK(out.good(), "save: cannot open '", tmp, "' for writing (does the directory exist?)");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out.good()) {
      std::remove(tmp.c_str());
      TT_CHECK(false, "save: writing '", tmp, "' failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    TT_CHECK(false, "save: cannot rename '", tmp, "' to '", path, "'");
  }
}

Archive load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TT_CHECK(in.good(), "load: cannot open '", path, "' (no such file, or no permission)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
  const size_t blob_size = body_end - blob_begin;
  Archive archive;
  try {
    for (const nlohmann::json& entry : header.at("tensors")) {
      const std::string name = entry.at("name").get<std::string>();
      const ScalarType dtype = scalar_type_from_string(entry.at("dtype").get<std::string>());
      const auto shape = entry.at("shape").get<std::vector<int64_t>>();
      const auto offset = entry.at("offset").get<uint64_t>();
      const auto nbytes = entry.at("nbytes").get<uint64_t>();
      Tensor t = empty(shape, dtype);
      TT_CHECK(static_cast<uint64_t>(t.nbytes()) == nbytes && offset <= blob_size &&
                   nbytes <= blob_size - offset,
               "load: '", path, "': tensor '", name, "' (", to_string(dtype), " ",
               IntArrayRef(shape), ") does not fit its recorded byte range");
      std::memcpy(t.data_ptr(), bytes.data() + blob_begin + offset, nbytes);
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
