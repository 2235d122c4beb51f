// The dtypes int16 (kShort), int32 (kInt), float16 (kHalf) and bfloat16 (kBFloat16): storage,
// conversion, type promotion, the element-wise ops, sum and mean, printing and save/load.
// Values against PyTorch (tests/data/dtypes_reference.json, written by
// tools/reference/gen_dtypes.py): float16/bfloat16 results are compared bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::json;

// Converting between float32 and float16/bfloat16 has two tiers: the given kernels and module
// 22's reference loops (kernels/half.h), which the reference tier runs. These tests are about the
// dtypes' storage, promotion and ops, so they run on the given kernels whatever tier is in force
// (TINYTORCH_KERNELS=reference included): module 22's tests check its loops against them.
class Dtypes : public ::testing::Test {
 private:
  kernels::TierGuard fast_{kernels::Tier::kFast};
};

const json& dtype_cases() {
  return test::load_reference("dtypes_reference.json").at("cases");
}

bool is_16bit_float(ScalarType t) {
  return t == kHalf || t == kBFloat16;
}

// The 16-bit patterns of a contiguous float16/bfloat16 tensor, read straight from memory.
std::vector<int64_t> bits_of(const Tensor& t) {
  const Tensor c = t.contiguous();
  const auto* p = static_cast<const uint16_t*>(c.data_ptr());
  return std::vector<int64_t>(p, p + c.numel());
}

// A tensor from {"dtype", "shape", "values"[, "bits"]}, written straight into memory.
Tensor tensor_from_spec(const json& spec) {
  Tensor t = empty(test::int_list(spec.at("shape")), test::parse_dtype(spec.at("dtype")));
  if (spec.contains("bits")) {
    auto* p = static_cast<uint16_t*>(t.data_ptr());
    for (const json& b : spec.at("bits")) *p++ = static_cast<uint16_t>(test::json_to_int(b));
  } else {
    test::write_values(t, spec.at("values"));
  }
  return t;
}

// got against a case's "result_dtype", "shape", "expected" (and "expected_bits"); exact unless
// rtol > 0. A NaN only has to be a NaN (PyTorch makes every float16/bfloat16 NaN positive).
void expect_result(const Tensor& got, const json& c, double rtol = 0) {
  ASSERT_EQ(std::string(to_string(got.dtype())), c.at("result_dtype").get<std::string>());
  ASSERT_EQ(got.sizes().vec(), test::int_list(c.at("shape")));
  const json& expected = c.at("expected");
  if (is_integral(got.dtype(), true)) {
    const std::vector<int64_t> v = test::values_as_int(got);
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], test::json_to_int(expected[i])) << i;
    return;
  }
  const std::vector<double> v = test::values_as_double(got);
  const std::vector<int64_t> bits =
      is_16bit_float(got.dtype()) ? bits_of(got) : std::vector<int64_t>{};
  for (size_t i = 0; i < v.size(); ++i) {
    const double e = test::json_to_double(expected[i]);
    if (std::isnan(e)) {
      EXPECT_TRUE(std::isnan(v[i])) << i << ": got " << v[i];
    } else if (rtol > 0 && std::isfinite(e)) {
      EXPECT_NEAR(v[i], e, rtol * std::abs(e)) << i;
    } else if (!bits.empty()) {
      EXPECT_EQ(bits[i], test::json_to_int(c.at("expected_bits")[i]))
          << i << ": got " << v[i] << ", expected " << e;
    } else {
      EXPECT_EQ(v[i], e) << i;
      EXPECT_EQ(std::signbit(v[i]), std::signbit(e)) << i << ": the sign of zero";
    }
  }
}

Tensor operand_tensor(const json& spec) {
  return tensor_from_spec(spec);
}

TEST_F(Dtypes, ConversionsMatchPyTorch) {
  int n = 0;
  for (const json& c : dtype_cases()) {
    if (c.at("op") != "to") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    json in = {{"dtype", c.at("from")}, {"values", c.at("input")}};
    in["shape"] = {c.at("input").size()};
    if (c.contains("input_bits")) in["bits"] = c.at("input_bits");
    json expected = c;
    expected["result_dtype"] = c.at("to");
    expected["shape"] = in["shape"];
    expect_result(tensor_from_spec(in).to(test::parse_dtype(c.at("to"))), expected);
    ++n;
  }
  EXPECT_GT(n, 40);
}

TEST_F(Dtypes, BinaryOpsPromoteAndRoundLikePyTorch) {
  int n = 0;
  for (const json& c : dtype_cases()) {
    if (c.at("op") != "binary") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor a = operand_tensor(c.at("a"));
    const std::string fn = c.at("fn");
    const json& b = c.at("b");
    Tensor got;
    if (b.contains("scalar")) {
      const Scalar s = b.at("scalar") == "int" ? Scalar(test::json_to_int(b.at("value")))
                                               : Scalar(test::json_to_double(b.at("value")));
      got = fn == "add"   ? a.add(s)
            : fn == "sub" ? a.sub(s)
            : fn == "mul" ? a.mul(s)
            : fn == "div" ? a.div(s)
            : fn == "eq"  ? a.eq(s)
                          : a.lt(s);
    } else {
      const Tensor bt = operand_tensor(b);
      got = fn == "add"   ? a.add(bt)
            : fn == "sub" ? a.sub(bt)
            : fn == "mul" ? a.mul(bt)
            : fn == "div" ? a.div(bt)
            : fn == "eq"  ? a.eq(bt)
            : fn == "lt"  ? a.lt(bt)
                          : maximum(a, bt);
    }
    expect_result(got, c);
    ++n;
  }
  EXPECT_GT(n, 100);
}

TEST_F(Dtypes, UnaryOpsComputeInFloat32AndRound) {
  int n = 0;
  for (const json& c : dtype_cases()) {
    if (c.at("op") != "unary") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor x = tensor_from_spec(c.at("x"));
    const std::string fn = c.at("fn");
    const Tensor got = fn == "neg"    ? x.neg()
                       : fn == "abs"  ? x.abs()
                       : fn == "sqrt" ? x.sqrt()
                                      : x.exp();
    // exp: PyTorch's vectorised float32 exp and std::exp may differ by an ulp, which the
    // rounding to 16 bits almost always hides; allow one 16-bit ulp.
    expect_result(got, c, c.at("exact").get<bool>() ? 0 : 1.0 / 128);
    ++n;
  }
  EXPECT_GT(n, 10);
}

TEST_F(Dtypes, SumAndMeanAccumulateWideAndKeepPyTorchsDtype) {
  int n = 0;
  for (const json& c : dtype_cases()) {
    if (c.at("op") != "reduce") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor x = tensor_from_spec(c.at("x"));
    std::optional<ScalarType> dtype;
    if (!c.at("dtype").is_null()) dtype = test::parse_dtype(c.at("dtype"));
    Tensor got;
    if (c.at("fn") == "sum") {
      got =
          c.at("dim").is_null() ? x.sum(dtype) : x.sum({c.at("dim").get<int64_t>()}, false, dtype);
    } else {
      got = c.at("dim").is_null() ? x.mean() : x.mean({c.at("dim").get<int64_t>()});
    }
    expect_result(got, c);
    ++n;
  }
  EXPECT_GT(n, 15);
}

TEST_F(Dtypes, PrintLikePyTorch) {
  for (const json& c : dtype_cases()) {
    if (c.at("op") != "repr") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    EXPECT_EQ(repr(tensor_from_spec(c.at("x"))), c.at("expected").get<std::string>());
  }
}

TEST_F(Dtypes, NamesSizesAndLibtorchSpellings) {
  EXPECT_EQ(kInt, kInt32);
  EXPECT_EQ(kShort, kInt16);
  EXPECT_EQ(kHalf, kFloat16);
  const std::vector<std::tuple<ScalarType, const char*, int64_t>> table = {
      {kInt16, "int16", 2},
      {kInt32, "int32", 4},
      {kHalf, "float16", 2},
      {kBFloat16, "bfloat16", 2}};
  for (const auto& [t, name, size] : table) {
    EXPECT_EQ(to_string(t), name);
    EXPECT_EQ(scalar_type_from_string(name), t);
    EXPECT_EQ(element_size(t), size);
    EXPECT_EQ(empty({3}, t).element_size(), size);
    EXPECT_EQ(empty({3}, t).nbytes(), 3 * size);
  }
  EXPECT_TRUE(is_floating_point(kBFloat16) && is_floating_point(kHalf));
  EXPECT_TRUE(is_integral(kInt16, false) && is_integral(kInt32, false));
  // The codes of the older dtypes are unchanged (files store them), the new ones come after.
  EXPECT_EQ(static_cast<int>(kFloat64), 5);
  EXPECT_EQ(static_cast<int>(kInt32), 6);
  EXPECT_EQ(static_cast<int>(kHalf), 9);
  TT_EXPECT_THROW_WITH(scalar_type_from_string("complex64"), ValueError, "complex64", "bfloat16");
}

TEST_F(Dtypes, PromoteTypesIsPyTorchs) {
  EXPECT_EQ(promote_types(kInt16, kInt32), kInt32);
  EXPECT_EQ(promote_types(kInt32, kInt64), kInt64);
  EXPECT_EQ(promote_types(kUInt8, kInt8), kInt16);  // neither holds the other
  EXPECT_EQ(promote_types(kUInt8, kInt16), kInt16);
  EXPECT_EQ(promote_types(kBFloat16, kHalf), kFloat32);
  EXPECT_EQ(promote_types(kHalf, kBFloat16), kFloat32);
  EXPECT_EQ(promote_types(kBFloat16, kFloat32), kFloat32);
  EXPECT_EQ(promote_types(kInt64, kBFloat16), kBFloat16);
  EXPECT_EQ(promote_types(kInt32, kHalf), kHalf);
  EXPECT_EQ(promote_types(kBool, kInt16), kInt16);
  EXPECT_EQ(result_type(ones({2}, kInt32), Scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(ones({2}, kInt16), Scalar(2)), kInt16);
  EXPECT_EQ(result_type(ones({2}, kHalf), Scalar(2.5)), kHalf);
}

TEST_F(Dtypes, ElementAccessChecksTheDtype) {
  Tensor i = tensor({1, -2, 3}, kInt);
  EXPECT_EQ(i.data_ptr<int32_t>()[1], -2);
  EXPECT_EQ(i[2].item<int32_t>(), 3);
  EXPECT_EQ(i[1].item<int64_t>(), -2);
  Tensor s = tensor({7, 300}, kShort);
  EXPECT_EQ(s.data_ptr<int16_t>()[1], 300);
  Tensor b = full({2}, 1.5, kBFloat16);
  EXPECT_EQ(b.data_ptr<BFloat16>()[0].bits, 0x3FC0);
  EXPECT_EQ(b[0].item<float>(), 1.5f);
  EXPECT_EQ(static_cast<float>(b[0].item<BFloat16>()), 1.5f);
  Tensor h = tensor({65520.0f, 1.0f}).to(kHalf);  // the overflow tie rounds to inf, as in PyTorch
  EXPECT_TRUE(std::isinf(h[0].item<double>()));
  EXPECT_EQ(h.data_ptr<Half>()[0].bits, 0x7C00);
  TT_EXPECT_THROW_WITH(i.data_ptr<int64_t>(), TypeError, "data_ptr", "int32");
  TT_EXPECT_THROW_WITH(b.data_ptr<Half>(), TypeError, "data_ptr", "bfloat16");
  TT_EXPECT_THROW_WITH(h.data_ptr<float>(), TypeError, "data_ptr", "float16");
  // A number too wide for the dtype is refused, as by PyTorch's Scalar conversion.
  TT_EXPECT_THROW_WITH(full({1}, 40000, kShort), ValueError, "40000", "16-bit");
  TT_EXPECT_THROW_WITH(tensor({int64_t{1} << 40}, kInt), ValueError, "32-bit");
}

TEST_F(Dtypes, Factories) {
  for (const ScalarType t : {kInt16, kInt32, kHalf, kBFloat16}) {
    SCOPED_TRACE(std::string(to_string(t)));
    EXPECT_EQ(zeros({2, 3}, t).dtype(), t);
    EXPECT_EQ(test::values_as_double(zeros({2}, t)), (std::vector<double>{0, 0}));
    EXPECT_EQ(test::values_as_double(ones({2}, t)), (std::vector<double>{1, 1}));
    EXPECT_EQ(test::values_as_double(full({2}, 3, t)), (std::vector<double>{3, 3}));
    EXPECT_EQ(empty({4}, t).numel(), 4);
    const Tensor r = arange(0, 5, TensorOptions().dtype(t));
    EXPECT_EQ(r.dtype(), t);
    EXPECT_EQ(test::values_as_double(r), (std::vector<double>{0, 1, 2, 3, 4}));
    EXPECT_EQ(test::values_as_double(tensor({1, 2}, t)), (std::vector<double>{1, 2}));
    EXPECT_EQ(test::values_as_double(eye(2, t)), (std::vector<double>{1, 0, 0, 1}));
  }
  // bfloat16 arange rounds each value: 0.1 steps land on bfloat16's grid, as in PyTorch.
  EXPECT_EQ(bits_of(arange(0.0, 0.3, 0.1, TensorOptions().dtype(kBFloat16))),
            (std::vector<int64_t>{0x0000, 0x3DCD, 0x3E4D}));
  std::vector<int32_t> ints = {4, 5, 6};
  const Tensor blob = from_blob(ints.data(), {3}, kInt);
  EXPECT_EQ(blob.data_ptr<int32_t>(), ints.data());
  EXPECT_EQ(blob.sum().item<int64_t>(), 15);
  std::vector<Half> halves = {Half(0.5f), Half(-2.0f)};
  EXPECT_EQ(test::values_as_double(from_blob(halves.data(), {2}, kHalf)),
            (std::vector<double>{0.5, -2.0}));
}

// Integer cumsum returns int64, as in PyTorch (so does sum, above).
TEST_F(Dtypes, CumsumOfIntegersIsInt64) {
  const Tensor c = tensor({2147483647, 1, 2}, kInt).cumsum(0);
  EXPECT_EQ(c.dtype(), kInt64);
  EXPECT_EQ(test::values_as_int(c), (std::vector<int64_t>{2147483647, 2147483648LL, 2147483650LL}));
}

TEST_F(Dtypes, InPlaceOpsKeepSelfsDtype) {
  Tensor i = tensor({2147483647, 5}, kInt);
  i.add_(1);  // wraps, as int32 arithmetic does in PyTorch
  EXPECT_EQ(test::values_as_int(i), (std::vector<int64_t>{-2147483648LL, 6}));
  Tensor b = full({2}, 1.0, kBFloat16);
  b.add_(full({2}, 0.00390625, kFloat32));  // 1 + 2^-8: a tie, rounds to even (1.0)
  EXPECT_EQ(bits_of(b), (std::vector<int64_t>{0x3F80, 0x3F80}));
  b.mul_(3);
  EXPECT_EQ(b.dtype(), kBFloat16);
  EXPECT_EQ(test::values_as_double(b), (std::vector<double>{3, 3}));
  TT_EXPECT_THROW_WITH(i.add_(0.5), Error, "add_", "float32", "int32");
  Tensor w = where(tensor({true, false}), full({2}, 2.5, kHalf), full({2}, -1.0, kHalf));
  EXPECT_EQ(w.dtype(), kHalf);
  EXPECT_EQ(test::values_as_double(w), (std::vector<double>{2.5, -1.0}));
}

// CRC-32 (zlib's), to re-seal an archive after editing it: the last 4 bytes of a file
// (little-endian) are the CRC-32 of all the bytes before them (serialize/archive.cpp).
uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFU;
  for (const char ch : bytes) {
    crc ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

TEST_F(Dtypes, SaveAndLoadRoundTrip) {
  const std::string path = ::testing::TempDir() + "dtypes_roundtrip.ttc";
  const std::vector<Tensor> saved = {tensor({1, -2, 70000}, kInt), tensor({-3, 300}, kShort),
                                     full({2, 2}, 0.1, kBFloat16), full({3}, -65504.0, kHalf)};
  save(saved, path);
  std::vector<Tensor> loaded;
  load(loaded, path);
  ASSERT_EQ(loaded.size(), saved.size());
  for (size_t k = 0; k < saved.size(); ++k) {
    EXPECT_EQ(loaded[k].dtype(), saved[k].dtype());
    EXPECT_EQ(loaded[k].sizes(), saved[k].sizes());
    EXPECT_EQ(std::memcmp(loaded[k].data_ptr(), saved[k].data_ptr(),
                          static_cast<size_t>(saved[k].nbytes())),
              0);
  }
  // A file naming a dtype this build does not know is a clear error, not a misread.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = bytes.find("\"bfloat16\"");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 10, "\"bfloat61\"");
  bytes.resize(bytes.size() - 4);
  const uint32_t crc = crc32(bytes);
  for (int k = 0; k < 4; ++k) bytes.push_back(static_cast<char>((crc >> (8 * k)) & 0xFFU));
  std::ofstream(path, std::ios::binary) << bytes;
  std::vector<Tensor> bad;
  TT_EXPECT_THROW_WITH(load(bad, path), Error, "unknown dtype", "bfloat61");
  std::remove(path.c_str());
}

// Ops without float16/bfloat16/int16/int32 support refuse them by name — never a wrong answer.
// (matmul, relu, softmax, cumsum, var and most other ops compute float16/bfloat16 in float32 and
// round once: tests/amp/.)
TEST_F(Dtypes, UnsupportedOpsNameTheOpAndTheDtype) {
  const Tensor b = ones({1, 1, 2, 2}, kBFloat16), i = ones({2, 2}, kInt);
  TT_EXPECT_THROW_WITH(upsample_bilinear2d(b, {4, 4}, false), TypeError, "upsample_bilinear2d",
                       "bfloat16");
  TT_EXPECT_THROW_WITH(i.max(), TypeError, "int32");
  TT_EXPECT_THROW_WITH(tensor({1}, kInt8).add(1), TypeError, "int8", "storage dtype");
}

}  // namespace
}  // namespace tinytorch
