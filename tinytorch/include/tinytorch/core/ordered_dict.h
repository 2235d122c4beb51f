// tinytorch/core/ordered_dict.h — a dictionary that remembers insertion order.
//
// state_dict() must list parameters in the order they were registered ("fc1.weight",
// "fc1.bias", "fc2.weight", ...) so that printing, saving and comparing are reproducible; a
// std::map would sort the keys, a std::unordered_map would scramble them. libtorch uses
// torch::OrderedDict for the same reason. Lookups go through a hash index; items live in a
// vector in insertion order.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinytorch/core/exception.h"

namespace tinytorch {

template <typename Key, typename Value>
class OrderedDict {
 public:
  struct Item {
    Key key;
    Value value;
  };

  OrderedDict() = default;
  explicit OrderedDict(std::string key_description)
      : key_description_(std::move(key_description)) {}

  // Adds a new key; a key that is already present is an error (use insert_or_assign to replace).
  Value& insert(Key key, Value value) {
    TT_CHECK(!contains(key), key_description_, " '", key, "' already defined");
    index_.emplace(key, items_.size());
    items_.push_back({std::move(key), std::move(value)});
    return items_.back().value;
  }
  Value& insert_or_assign(Key key, Value value) {
    if (Value* v = find(key)) return *v = std::move(value);
    return insert(std::move(key), std::move(value));
  }

  bool contains(const Key& key) const { return index_.count(key) != 0; }
  Value* find(const Key& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value;
  }
  const Value* find(const Key& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value;
  }
  Value& operator[](const Key& key) { return at(key); }
  const Value& operator[](const Key& key) const { return at(key); }
  Value& at(const Key& key) {
    Value* v = find(key);
    TT_CHECK_INDEX(v != nullptr, key_description_, " '", key, "' is not defined");
    return *v;
  }
  const Value& at(const Key& key) const {
    const Value* v = find(key);
    TT_CHECK_INDEX(v != nullptr, key_description_, " '", key, "' is not defined");
    return *v;
  }

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }
  void clear() {
    items_.clear();
    index_.clear();
  }

  std::vector<Key> keys() const {
    std::vector<Key> out;
    for (const Item& i : items_) out.push_back(i.key);
    return out;
  }
  std::vector<Value> values() const {
    std::vector<Value> out;
    for (const Item& i : items_) out.push_back(i.value);
    return out;
  }
  const std::vector<Item>& items() const { return items_; }

  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::string key_description_ = "Key";
  std::vector<Item> items_;
  std::unordered_map<Key, size_t> index_;
};

}  // namespace tinytorch
