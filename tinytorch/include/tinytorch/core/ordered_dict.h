// tinytorch/core/ordered_dict.h — a dictionary that remembers insertion order.
//
// state_dict() must list parameters in the order they were registered ("fc1.weight",
// "fc1.bias", "fc2.weight", ...) so that printing, saving and comparing are reproducible; a
// std::map would sort the keys, a std::unordered_map would scramble them. libtorch uses
// torch::OrderedDict for the same reason. Lookups go through a hash index; items live in a
// vector in insertion order.
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinytorch/core/exception.h"

namespace tinytorch {

namespace detail {

// OrderedDict<Key, Value>::Item, libtorch's: one (key, value) entry. The key is read-only (the
// dictionary's index is keyed on it); the value is reached through value(), or through * and ->
// as if the item were a pointer to it:
//
//   for (auto& p : net->named_parameters()) std::cout << p.key() << p.value().sizes();
//   for (const auto& p : net->named_parameters()) n += p->numel();  // = p.value().numel()
//
// It also has the tuple protocol (get<0> is the key, get<1> the value, and the std::tuple_size /
// std::tuple_element specialisations below), so a structured binding names both, as for a
// std::pair — which libtorch's Item lacks:
//
//   for (auto& [name, p] : net->named_parameters()) ...      // name: const std::string&
//
// (A class of its own rather than one nested in OrderedDict: std::tuple_size cannot be
// specialised for a nested class of a template, whose arguments could not be deduced.)
template <typename Key, typename Value>
class OrderedDictItem {
 public:
  OrderedDictItem(Key key, Value value) : pair_(std::move(key), std::move(value)) {}

  const Key& key() const noexcept { return pair_.first; }
  Value& value() noexcept { return pair_.second; }
  const Value& value() const noexcept { return pair_.second; }
  const std::pair<Key, Value>& pair() const noexcept { return pair_; }

  Value& operator*() noexcept { return value(); }
  const Value& operator*() const noexcept { return value(); }
  Value* operator->() noexcept { return &value(); }
  const Value* operator->() const noexcept { return &value(); }

  // The tuple protocol, for structured bindings: one overload per value category, so that
  // `auto& [k, v]`, `const auto& [k, v]` and `auto [k, v]` (a copy, bound as an xvalue) all work.
  template <std::size_t I>
  decltype(auto) get() & noexcept {
    static_assert(I < 2, "an OrderedDict item has two elements: the key and the value");
    if constexpr (I == 0)
      return key();
    else
      return value();
  }
  template <std::size_t I>
  decltype(auto) get() const& noexcept {
    static_assert(I < 2, "an OrderedDict item has two elements: the key and the value");
    if constexpr (I == 0)
      return key();
    else
      return value();
  }
  template <std::size_t I>
  decltype(auto) get() && noexcept {
    static_assert(I < 2, "an OrderedDict item has two elements: the key and the value");
    if constexpr (I == 0)
      return std::move(pair_.first);
    else
      return std::move(pair_.second);
  }

 private:
  // std::pair<const Key, Value> would make the item unassignable, and so the vector of items
  // unable to erase or reorder; key() being the only way in keeps the key read-only instead.
  std::pair<Key, Value> pair_;
};

}  // namespace detail

template <typename Key, typename Value>
class OrderedDict {
 public:
  using Item = detail::OrderedDictItem<Key, Value>;

  OrderedDict() = default;
  explicit OrderedDict(std::string key_description)
      : key_description_(std::move(key_description)) {}

  // Adds a new key; a key that is already present is an error (use insert_or_assign to replace).
  Value& insert(Key key, Value value) {
    TT_CHECK(!contains(key), key_description_, " '", key, "' already defined");
    index_.emplace(key, items_.size());
    items_.emplace_back(std::move(key), std::move(value));
    return items_.back().value();
  }
  Value& insert_or_assign(Key key, Value value) {
    if (Value* v = find(key)) return *v = std::move(value);
    return insert(std::move(key), std::move(value));
  }

  bool contains(const Key& key) const { return index_.count(key) != 0; }
  Value* find(const Key& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
  }
  const Value* find(const Key& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
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

  // Removes `key` and its value; the later items move up one place. A missing key is an error.
  void erase(const Key& key) {
    auto it = index_.find(key);
    TT_CHECK_INDEX(it != index_.end(), key_description_, " '", key, "' is not defined");
    const size_t position = it->second;
    index_.erase(it);
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(position));
    for (size_t i = position; i < items_.size(); ++i) index_[items_[i].key()] = i;
  }

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }
  void clear() {
    items_.clear();
    index_.clear();
  }

  std::vector<Key> keys() const {
    std::vector<Key> out;
    for (const Item& i : items_) out.push_back(i.key());
    return out;
  }
  std::vector<Value> values() const {
    std::vector<Value> out;
    for (const Item& i : items_) out.push_back(i.value());
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

// The tuple protocol's two traits: an item is a (const Key, Value) pair. Element 0 is const
// because get<0> hands out the key read-only; std::tuple_element<I, const Item> adds the const
// to the value itself.
template <typename Key, typename Value>
struct std::tuple_size<tinytorch::detail::OrderedDictItem<Key, Value>>
    : std::integral_constant<std::size_t, 2> {};
template <typename Key, typename Value>
struct std::tuple_element<0, tinytorch::detail::OrderedDictItem<Key, Value>> {
  using type = const Key;
};
template <typename Key, typename Value>
struct std::tuple_element<1, tinytorch::detail::OrderedDictItem<Key, Value>> {
  using type = Value;
};
