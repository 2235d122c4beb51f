// Part 4 — the archive file under attack: a header is only text, so the loader checks every size
// in it against the file before it allocates anything; saving reports the system's reason for a
// failure and clears the temporaries that killed saves left behind.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

namespace fs = std::filesystem;

// CRC-32 with zlib's polynomial, bit by bit: enough for a few hundred bytes.
uint32_t crc32_of(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFU;
  for (const unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

// An archive with the given JSON header and tensor bytes and a VALID checksum: anything a
// hostile (or buggy) writer can produce. Layout: serialize/archive.h.
std::string archive_bytes(const std::string& header, const std::string& blob) {
  std::string out = "TTARCHIV";
  auto put = [&out](auto v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  put(uint32_t{serialize::kArchiveVersion});
  put(uint64_t{header.size()});
  out += header + blob;
  put(crc32_of(out));
  return out;
}

// A header with one float32 tensor "w" of the given shape, byte count and offset (JSON text).
std::string one_tensor(const std::string& shape, const std::string& nbytes,
                       const std::string& offset = "0") {
  return R"({"tensors":[{"name":"w","dtype":"float32","shape":)" + shape + R"(,"offset":)" +
         offset + R"(,"nbytes":)" + nbytes + R"(}],"strings":{}})";
}

// Writes a crafted archive into `dir` and loads it.
serialize::Archive load_crafted(const TempDir& dir, const std::string& header,
                                const std::string& blob) {
  write_file(dir.file("crafted.tta"), archive_bytes(header, blob));
  return serialize::load(dir.file("crafted.tta"));
}

TEST(Archive, ACraftedArchiveLoads) {
  // The helper itself: a well-formed crafted file is accepted.
  TempDir dir;
  const float values[2] = {1.5F, -2.0F};
  const serialize::Archive a = load_crafted(dir, one_tensor("[2]", "8"),
                                            std::string(reinterpret_cast<const char*>(values), 8));
  EXPECT_EQ(a.tensors["w"].to_vector<float>(), (std::vector<float>{1.5F, -2.0F}));
}

TEST(Archive, AShapeThatDisagreesWithItsBytesIsRefused) {
  TempDir dir;
  // 2^62 float32 elements: the byte count 2^64 wrapped around to 0, matched "nbytes": 0, and
  // the tensor loaded without memory behind it (a segfault on first use).
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[4611686018427387904]", "0"), ""), Error,
                       "crafted.tta", "tensor 'w'", "does not fit in int64");
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[65536, 65536, 65536, 65536]", "0"), ""),
                       Error, "crafted.tta", "tensor 'w'", "does not fit in int64");
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[3]", "8"), std::string(8, '\0')), Error,
                       "tensor 'w'", "needs 12 bytes", "records 8");
}

TEST(Archive, AHugeHeaderIsRefusedBeforeAnythingIsAllocated) {
  TempDir dir;
  // 1 GiB declared, 16 bytes present: the header is checked against the file first.
  Allocator* alloc = get_allocator();
  alloc->reset_peak();
  const int64_t base = alloc->stats().live_bytes;
  TT_EXPECT_THROW_WITH(
      load_crafted(dir, one_tensor("[268435456]", "1073741824"), std::string(16, '\0')), Error,
      "crafted.tta", "tensor 'w'", "the file holds only 16");
  EXPECT_LT(alloc->stats().peak_bytes - base, 1 << 20);
  // A range that starts past the data, or runs past its end.
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[2]", "8", "12"), std::string(16, '\0')),
                       Error, "tensor 'w'", "the file holds only 16");
}

TEST(Archive, NumbersInTheHeaderMustBeIntegers) {
  TempDir dir;
  // nlohmann's get<int64_t>() converts 1e300 with an undefined cast, and -1 to a huge unsigned.
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[1e300]", "4"), std::string(4, '\0')), Error,
                       "malformed header", "a size of tensor 'w'", "integer");
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[-1]", "4"), std::string(4, '\0')), Error,
                       "malformed header", "integer >= 0");
  TT_EXPECT_THROW_WITH(load_crafted(dir, one_tensor("[1]", "4", "-4"), std::string(8, '\0')), Error,
                       "malformed header", "offset");
  TT_EXPECT_THROW_WITH(
      load_crafted(dir, one_tensor("[1]", "18446744073709551615"), std::string(4, '\0')), Error,
      "malformed header", "nbytes", "larger than 2^63 - 1");
}

// The header is JSON, which holds UTF-8 only: save() refuses other bytes in a name or string with
// a tinytorch::ValueError naming the entry — not nlohmann's own exception, which escaped before.
TEST(Archive, SaveRefusesTextThatIsNotUtf8) {
  TempDir dir;
  serialize::Archive bad_value;
  bad_value.strings.insert("note", std::string("caf\xe9"));
  TT_EXPECT_THROW_WITH(serialize::save(bad_value, dir.file("a.tta")), ValueError, "a.tta",
                       "the string under key 'note'", "636166e9", "is not valid UTF-8");
  serialize::Archive bad_key;
  bad_key.strings.insert(std::string("\xff"), "x");
  TT_EXPECT_THROW_WITH(serialize::save(bad_key, dir.file("a.tta")), ValueError,
                       "a string key (bytes ff)");
  serialize::Archive bad_name;
  bad_name.tensors.insert(std::string("w\x80"), zeros({2}));
  TT_EXPECT_THROW_WITH(serialize::save(bad_name, dir.file("a.tta")), ValueError,
                       "a tensor name (bytes 7780)");
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.tta")));
  serialize::Archive good;
  good.strings.insert("note", "café ☕");
  serialize::save(good, dir.file("a.tta"));
  EXPECT_EQ(*serialize::load(dir.file("a.tta")).strings.find("note"), "café ☕");
}

TEST(Archive, BoolBytesOtherThanZeroOrOneAreRefused) {
  // Found by the archive fuzzer: a bool byte of 191 loaded, and reading it (clone()) was
  // undefined behaviour. 0 and 1 load; anything else names the tensor and the element.
  TempDir dir;
  const std::string header =
      R"({"tensors":[{"name":"m","dtype":"bool","shape":[3],"offset":0,"nbytes":3}],"strings":{}})";
  const serialize::Archive ok = load_crafted(dir, header, std::string("\x01\x00\x01", 3));
  EXPECT_EQ(ok.tensors["m"].clone().to(kInt64).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 0, 1}));
  TT_EXPECT_THROW_WITH(load_crafted(dir, header, std::string("\x01\x00\xbf", 3)), Error,
                       "crafted.tta", "tensor 'm'", "191", "element 2", "0 or 1");
}

TEST(Archive, ATensorNameListedTwiceIsRefused) {
  // Two entries named "w": loading must not keep one silently (nor fail without the file name).
  TempDir dir;
  const std::string entry = R"({"name":"w","dtype":"float32","shape":[1],"offset":0,"nbytes":4})";
  const std::string header = R"({"tensors":[)" + entry + "," + entry + R"(],"strings":{}})";
  TT_EXPECT_THROW_WITH(load_crafted(dir, header, std::string(4, '\0')), Error, "crafted.tta",
                       "tensor 'w'", "twice");
}

TEST(Archive, EmptyTensorsRoundTrip) {
  // An empty tensor has no buffer: its data_ptr() is null, which memcpy must never be given
  // (UBSan reported it in the sanitized build).
  TempDir dir;
  serialize::Archive a;
  a.tensors.insert("none", zeros({0, 3}));
  a.tensors.insert("one", ones({1}));
  serialize::save(a, dir.file("empty.tta"));
  const serialize::Archive b = serialize::load(dir.file("empty.tta"));
  EXPECT_EQ(b.tensors["none"].sizes(), IntArrayRef({0, 3}));
  EXPECT_EQ(b.tensors["one"].item<float>(), 1.0F);
}

TEST(Archive, LoadingADirectoryNamesIt) {
  // It threw std::ios_base::failure ("basic_filebuf::underflow error reading the file").
  TempDir dir;
  TT_EXPECT_THROW_WITH(serialize::load(dir.path().string()), Error, dir.path().string(),
                       "directory");
  TT_EXPECT_THROW_WITH(train::load_checkpoint(dir.path().string()), Error, dir.path().string(),
                       "directory");
  TT_EXPECT_THROW_WITH(serialize::load(dir.file("absent.tta")), Error, "absent.tta", "cannot open",
                       std::strerror(ENOENT));
}

TEST(Archive, AFailedSaveGivesTheSystemsReason) {
  // It said "does the directory exist?" whatever the reason was.
  TempDir dir;
  serialize::Archive a;
  a.tensors.insert("w", ones({2}));
  write_file(dir.file("a_file"), "x");
  TT_EXPECT_THROW_WITH(serialize::save(a, dir.file("a_file/ckpt.tta")), Error, "a_file/ckpt.tta",
                       std::strerror(ENOTDIR));
  TT_EXPECT_THROW_WITH(serialize::save(a, dir.file("no/such/dir/ckpt.tta")), Error,
                       "no/such/dir/ckpt.tta", std::strerror(ENOENT));
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  fs::create_directory(dir.file("read_only"));
  fs::permissions(dir.file("read_only"), fs::perms::owner_read | fs::perms::owner_exec);
  TT_EXPECT_THROW_WITH(serialize::save(a, dir.file("read_only/ckpt.tta")), Error,
                       "read_only/ckpt.tta", std::strerror(EACCES));
  fs::permissions(dir.file("read_only"), fs::perms::owner_all);
}

// The pid of a process that has exited (a child, reaped), as a save killed by kill -9 leaves.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(Archive, ASaveClearsTheTemporariesOfKilledSaves) {
  TempDir dir;
  const std::string target = dir.file("ckpt.ttc");
  const std::string dead = std::to_string(dead_pid());
  const std::string live = std::to_string(::getppid());  // a concurrent writer, still running
  // pid 1 (init) is always alive: its temporary is removed only for its age.
  for (const std::string& name :
       {"ckpt.ttc.tmp." + dead, "ckpt.ttc.tmp." + live, std::string("ckpt.ttc.tmp.1"),
        "ckpt.ttc.tmp.x" + dead, "other.ttc.tmp." + dead, "ckpt.ttc.tmp." + dead + "x"}) {
    write_file(dir.file(name), "partial");
  }
  fs::last_write_time(dir.file("ckpt.ttc.tmp.1"),
                      fs::file_time_type::clock::now() - std::chrono::hours(48));
  nn::Sequential model = make_model();
  train::save_checkpoint(train::capture_checkpoint({.model = model.ptr().get()}, 1), target);
  EXPECT_FALSE(fs::exists(dir.file("ckpt.ttc.tmp." + dead)));       // its writer is gone
  EXPECT_TRUE(fs::exists(dir.file("ckpt.ttc.tmp." + live)));        // a live writer's
  EXPECT_FALSE(fs::exists(dir.file("ckpt.ttc.tmp.1")));             // untouched for two days
  EXPECT_TRUE(fs::exists(dir.file("other.ttc.tmp." + dead)));       // another target's
  EXPECT_TRUE(fs::exists(dir.file("ckpt.ttc.tmp." + dead + "x")));  // not a temporary's name
  EXPECT_TRUE(fs::exists(dir.file("ckpt.ttc.tmp.x" + dead)));
  EXPECT_EQ(train::load_checkpoint(target).epoch, 1);
}

}  // namespace
}  // namespace tinytorch::test07
