// Fuzzes the tokenizer vocabulary loaders, CharTokenizer::load and BpeTokenizer::load: the input
// is a vocabulary file ("tinytorch-char 1" or "tinytorch-bpe 1", text; tinytorch/text/tokenizer.h),
// given to both. A vocabulary that loads must round-trip: decode(encode(s)) == s for every byte
// string it can encode (a BPE vocabulary: every byte string), each special token encodes to its
// one id, and every id decodes to its token's bytes. A loaded vocabulary that breaks this is a
// crash: the loader let an inconsistent vocabulary through.
#include "fuzz_support.h"

namespace {

namespace tt = tinytorch;

// Fixed texts: words, whitespace runs, digits and symbols (the pre-tokenizer's classes), every
// byte value, a chunk longer than kMaxTokenBytes, and the input itself.
std::vector<std::string> texts(const uint8_t* data, size_t size) {
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  return {"",
          "Hello, world! The then there  \n\t 123 4567 <|endoftext|>",
          bytes,
          std::string(300, 'a'),
          "<|endoftext|><|endoftext|>x<|end",
          std::string(reinterpret_cast<const char*>(data), size)};
}

void fuzz_char(const std::string& path, const std::vector<std::string>& samples) {
  tt::text::CharTokenizer tok;
  try {
    tok = tt::text::CharTokenizer::load(path);
  } catch (const tt::Error&) {
    return;
  }
  // The vocabulary's own bytes always encode, to the ids 0 .. V-1.
  const std::vector<int64_t> own = tok.encode(tok.vocabulary());
  for (size_t i = 0; i < own.size(); ++i) {
    if (own[i] != static_cast<int64_t>(i)) std::abort();
  }
  for (const std::string& text : samples) {
    std::vector<int64_t> ids;
    try {
      ids = tok.encode(text);  // a byte outside the vocabulary is an error
    } catch (const tt::Error&) {
      continue;
    }
    if (tok.decode(ids) != text) std::abort();
  }
}

void fuzz_bpe(const std::string& path, const std::vector<std::string>& samples) {
  tt::text::BpeTokenizer tok;
  try {
    tok = tt::text::BpeTokenizer::load(path);
  } catch (const tt::Error&) {
    return;
  }
  std::vector<std::string> all = samples;
  std::string specials;
  for (const std::string& s : tok.special_tokens()) {
    // A special token alone is one id: its own (a longer special token cannot start inside it).
    const std::vector<int64_t> ids = tok.encode(s);
    if (ids.size() != 1 || ids[0] != tok.special_token_id(s)) std::abort();
    specials += s + " x";
  }
  all.push_back(specials);
  for (const std::string& text : all) {
    const std::vector<int64_t> ids = tok.encode(text);  // every byte string encodes
    if (tok.decode(ids) != text) std::abort();
  }
  for (int64_t id = 0; id < tok.vocab_size(); ++id) {
    const std::vector<int64_t> one{id};
    if (tok.decode(one) != tok.token_bytes(id)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tt::fuzz::InputFile file;
  const std::string& path = file.write(data, size);
  const std::vector<std::string> samples = texts(data, size);
  fuzz_char(path, samples);
  fuzz_bpe(path, samples);
  return 0;
}
