#include "module_map.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sha256.h"

namespace tito {

namespace {

using nlohmann::json;

std::vector<std::string> string_list(const json& object, const char* key,
                                     const std::string& where) {
  std::vector<std::string> out;
  if (!object.contains(key) || object[key].is_null()) return out;
  if (!object[key].is_array()) throw Error(where + ": '" + key + "' must be a list of strings");
  for (const auto& item : object[key]) {
    if (!item.is_string()) throw Error(where + ": '" + key + "' must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string string_field(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key) || !object[key].is_string()) {
    throw Error(where + ": missing string field '" + key + "'");
  }
  return object[key].get<std::string>();
}

// An optional string field: `fallback` when it is absent or null, an Error when it is something
// else. (json::value() would throw nlohmann's type_error for a present field of another type.)
std::string optional_string(const json& object, const char* key, const std::string& fallback,
                            const std::string& where) {
  if (!object.contains(key) || object[key].is_null()) return fallback;
  if (!object[key].is_string()) {
    throw Error(where + ": '" + key + "' must be a string, got " + object[key].dump());
  }
  return object[key].get<std::string>();
}

}  // namespace

const ModuleInfo* ModuleMap::find(const std::string& id) const {
  for (const auto& m : modules) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const ModuleInfo& ModuleMap::module(const std::string& id) const {
  if (const auto* m = find(id)) return *m;
  throw Error("unknown module '" + id + "' (the modules you can work on: " + available_ids() + ")");
}

const ModuleInfo& ModuleMap::available_module(const std::string& id) const {
  const auto& m = module(id);
  if (!m.available()) {
    throw Error("module " + m.id + " (" + m.name + ") is planned and not available yet; " +
                "the modules you can work on: " + available_ids());
  }
  return m;
}

std::string ModuleMap::available_ids() const {
  std::string ids;
  for (const auto& m : modules) {
    if (m.available()) ids += (ids.empty() ? "" : ", ") + m.id;
  }
  return ids.empty() ? "none yet" : ids;
}

const ModuleInfo* ModuleMap::owner_of_file(const std::string& path) const {
  for (const auto& m : modules) {
    for (const auto& f : m.files) {
      if (f == path) return &m;
    }
  }
  return nullptr;
}

std::vector<std::string> ModuleMap::transitive_prerequisites(const std::string& id) const {
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& m) {
    for (const auto& p : module(m).prerequisites) {
      if (seen.insert(p).second) visit(p);
    }
  };
  visit(id);
  seen.erase(id);
  std::vector<std::string> out;
  for (const auto& m : modules) {
    if (seen.count(m.id) != 0) out.push_back(m.id);
  }
  return out;
}

std::vector<std::string> ModuleMap::missing_prerequisites(const std::string& id,
                                                          const std::set<std::string>& done) const {
  auto out = transitive_prerequisites(id);
  std::erase_if(out, [&](const std::string& p) { return done.count(p) != 0; });
  return out;
}

std::vector<const ModuleInfo*> ModuleMap::course_order() const {
  std::vector<const ModuleInfo*> order;
  std::set<std::string> placed;
  for (const auto& m : modules) {
    // Every module recommended before m goes first (in map order), unless already placed.
    for (const auto& early : modules) {
      const auto& before = early.recommended_before;
      if (placed.count(early.id) == 0 &&
          std::find(before.begin(), before.end(), m.id) != before.end()) {
        order.push_back(&early);
        placed.insert(early.id);
      }
    }
    if (placed.insert(m.id).second) order.push_back(&m);
  }
  return order;
}

std::vector<std::string> ModuleMap::milestones_requiring(const std::string& id) const {
  std::vector<std::string> out;
  for (const auto& s : milestones) {
    const auto& r = s.requires_modules;
    if (std::find(r.begin(), r.end(), id) != r.end()) out.push_back(s.id);
  }
  return out;
}

std::string ModuleMap::recommendation(const ModuleInfo& module) const {
  if (module.recommended_before.empty()) return "";
  std::string text = "take it before";
  for (size_t i = 0; i < module.recommended_before.size(); ++i) {
    text += (i == 0 ? " " : ", ") + module.recommended_before[i];
  }
  const auto needing = milestones_requiring(module.id);
  if (!needing.empty()) {
    text += ": milestone";
    text += needing.size() == 1 ? " " : "s ";
    for (size_t i = 0; i < needing.size(); ++i) text += (i == 0 ? "" : ", ") + needing[i];
    text += needing.size() == 1 ? " needs it" : " need it";
  }
  return text;
}

ModuleMap load_module_map(const fs::path& root) {
  const auto path = root / "modules" / "modules.json";
  json doc;
  try {
    doc = json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw Error(path.string() + ": not valid JSON: " + e.what());
  }
  const std::string where = "modules/modules.json";
  if (!doc.is_object() || !doc.contains("modules") || !doc["modules"].is_array()) {
    throw Error(where + ": expected an object with a 'modules' list");
  }
  ModuleMap map;
  std::set<std::string> ids;
  for (const auto& m : doc["modules"]) {
    ModuleInfo info;
    const std::string here = where + ": module " + (m.contains("id") ? m["id"].dump() : "?");
    info.id = string_field(m, "id", here);
    if (info.id.size() != 2 || !std::isdigit(static_cast<unsigned char>(info.id[0])) ||
        !std::isdigit(static_cast<unsigned char>(info.id[1]))) {
      throw Error(here + ": 'id' must be two digits like \"01\"");
    }
    if (!ids.insert(info.id).second) throw Error(here + ": duplicate id");
    info.name = string_field(m, "name", here);
    info.title = optional_string(m, "title", info.name, here);
    info.chapter = optional_string(m, "chapter", "modules/" + info.dir_name() + "/README.md", here);
    info.files = string_list(m, "files", here);
    info.tests = string_list(m, "tests", here);
    info.hidden_tests = string_list(m, "hidden_tests", here);
    info.lab = optional_string(m, "lab", "", here);
    info.prerequisites = string_list(m, "prerequisites", here);
    info.recommended_before = string_list(m, "recommended_before", here);
    info.unlocks = string_list(m, "unlocks", here);
    if (m.contains("points") && !m["points"].is_null()) {
      if (!m["points"].is_number() || m["points"].get<double>() < 0) {
        throw Error(here + ": 'points' must be a number >= 0, got " + m["points"].dump());
      }
      info.points = m["points"].get<double>();
    }
    info.status = optional_string(m, "status", "planned", here);
    if (info.status != "available" && info.status != "planned") {
      throw Error(here + ": 'status' must be \"available\" or \"planned\", got \"" + info.status +
                  "\"");
    }
    map.modules.push_back(std::move(info));
  }
  for (const auto& m : map.modules) {
    for (const auto& p : m.prerequisites) {
      if (ids.count(p) == 0) {
        throw Error(where + ": module " + m.id + " has unknown prerequisite '" + p + "'");
      }
    }
    for (const auto& b : m.recommended_before) {
      if (ids.count(b) == 0 || b == m.id) {
        throw Error(where + ": module " + m.id + ": 'recommended_before' names '" + b +
                    "', expected the id of another module");
      }
    }
  }
  if (doc.contains("milestones") && doc["milestones"].is_array()) {
    for (const auto& s : doc["milestones"]) {
      MilestoneInfo info;
      const std::string here = where + ": milestone " + (s.contains("id") ? s["id"].dump() : "?");
      info.id = string_field(s, "id", here);
      info.name = optional_string(s, "name", info.id, here);
      info.title = optional_string(s, "title", info.name, here);
      info.requires_modules = string_list(s, "requires", here);
      info.status = optional_string(s, "status", "planned", here);
      info.directory =
          optional_string(s, "directory", "milestones/" + info.id + "_" + info.name, here);
      map.milestones.push_back(std::move(info));
    }
  }
  if (doc.contains("release") && doc["release"].is_object()) {
    map.release_exclude = string_list(doc["release"], "exclude", where + ": release");
    map.release_allow_lines = string_list(doc["release"], "allow_lines", where + ": release");
  }
  return map;
}

markers::StubContext stub_context(const ModuleInfo& module, const std::string& file) {
  return {module.id, module.name, file, module.chapter};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file_atomic(const fs::path& path, const std::string& content) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const auto tmp =
      path.parent_path() / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + tmp.string());
    out << content;
    out.flush();
    if (!out) throw Error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot replace " + path.string());
  }
}

std::string module_files_hash(const fs::path& root, const ModuleInfo& module) {
  Sha256 sha;
  for (const auto& file : module.files) {
    sha.update(file);
    sha.update(std::string_view("\0", 1));
    std::error_code ec;
    if (!fs::is_regular_file(root / file, ec)) {
      sha.update("<missing>");
    } else {
      const auto content = read_file(root / file);
      sha.update(std::to_string(content.size()));
      sha.update(std::string_view("\0", 1));
      sha.update(content);
    }
    sha.update(std::string_view("\0", 1));
  }
  return sha.hex_digest();
}

namespace {
std::string format_utc(const char* format) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}
}  // namespace

std::string utc_timestamp() {
  return format_utc("%Y-%m-%dT%H:%M:%SZ");
}
std::string compact_timestamp() {
  return format_utc("%Y%m%d-%H%M%S");
}

}  // namespace tito
