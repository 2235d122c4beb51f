// tito site --out DIR: the course as a static website, for reading in a browser.
//
// Renders the chapters (modules/NN_name/README.md, per modules/modules.json), the milestones'
// READMEs, the guides (docs/*.md) and the top-level README.md with Debian's pandoc (GFM in,
// HTML out; no network, no JavaScript) and writes, into DIR:
//   index.html          the contents page: the module map of modules/modules.json with each
//                       module's status there and its state in this checkout (what
//                       `./tito module status` says: course.h's module_status), the milestones
//                       and the guides
//   <same path as the source, README.md -> index.html, X.md -> X.html>, e.g.
//                       modules/05_autograd/index.html, docs/LEARNER_GUIDE.html, readme.html
//   site.css            the one style sheet (pandoc's C++ highlighting classes included)
//   runs/...            the figures the programs drew (see below), copied
//   .tito-site          marks DIR as tito's output: a later run may replace it, no other folder
//
// Each page: a sidebar with every chapter, milestone and guide (on a phone it follows the text,
// a "Contents" link at the top jumps to it), an anchor link on every heading (GitHub's heading
// ids, so README.md#some-heading links keep working), highlighted C++ and diagrams in <pre>
// blocks that never wrap (they scroll sideways). Links between the Markdown files become links
// between the pages; a link to any other file of the repository (a source file, LICENSE)
// becomes plain text naming the file, since the site does not carry the sources.
//
// Figures drawn by runs. A chapter shows a picture a program writes by referencing the file
// where the program writes it, relative to the chapter, as an ordinary Markdown image:
//   ![The graph of one training step](../../runs/lab05/autograd_graph.svg)
// (an editor's Markdown preview shows it too, once the program ran). runs/ is git-ignored: the
// pictures are never committed or drawn by hand. When the file exists, the site copies it and
// shows it there; when it does not, the page says which command draws it: runs/labNN/... ->
// `./tito lab NN`, runs/YYYY/... -> `./tito milestone run YYYY`.
//
// The whole site is built in a temporary folder next to DIR and then renamed into place, so DIR
// is either the old site or the new one, never half of each.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "course.h"
#include "module_map.h"
#include "util.h"

namespace tito::site_command {
namespace {

namespace fs = tito::fs;
using nlohmann::json;

constexpr const char* kMarker = ".tito-site";
constexpr const char* kHighlightStyle = "pygments";
constexpr const char* kPandocPackage = "pandoc";

struct Options {
  std::string out;
  int jobs = 0;  // 0: the number of cores, at most 4
};

struct Page {
  std::string source;  // repository-relative Markdown file; empty for the contents page
  std::string output;  // site-relative HTML file
  std::string group;   // sidebar section: "Modules", "Milestones", "Guides", or "" (top)
  std::string label;   // sidebar text
  std::string title;   // the first level-1 heading (after rendering)
  std::vector<std::pair<std::string, std::string>> sections;  // level-2 headings: id, text
  std::string body;                                           // the rendered HTML fragment
  std::vector<std::string> warnings;
};

struct Figure {
  std::string path;  // repository-relative, "runs/lab05/autograd_graph.svg"
  std::string page;  // the page showing it (site-relative)
  bool drawn = false;
  std::string command;  // what draws it
};

// ---- Small helpers ---------------------------------------------------------------------------

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "X/README.md" -> "X/index.html", "README.md" -> "readme.html" (index.html is the contents
// page), "docs/A.md" -> "docs/A.html": pages keep their sources' folders, so a relative link
// or image path written for the Markdown files points at the same place on the site.
std::string output_for(const std::string& source) {
  const fs::path p(source);
  if (p.filename() == "README.md") {
    return p.parent_path().empty() ? "readme.html" : (p.parent_path() / "index.html").string();
  }
  return fs::path(p).replace_extension(".html").string();
}

// Path of site-relative `target` as seen from the page `from` (site-relative too).
std::string relative_url(const std::string& target, const std::string& from) {
  const auto dir = fs::path(from).parent_path();
  if (dir.empty()) return target;
  return fs::path(target).lexically_relative(dir).generic_string();
}

// A URL with a scheme (https:, mailto:, file:, ...) leaves the site: kept as written.
bool has_scheme(const std::string& url) {
  const auto pos = url.find_first_of(":/?#");
  return pos != std::string::npos && pos > 0 && url[pos] == ':';
}

// The repository-relative path a link in `source` names, or nullopt when it leaves the
// repository. "../02_activations/README.md" in modules/01_tensor/README.md ->
// "modules/02_activations/README.md".
std::optional<std::string> resolve(const std::string& source, const std::string& link) {
  auto p = (fs::path(source).parent_path() / link).lexically_normal().generic_string();
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty() || p == "." || starts_with(p, "../") || p == ".." || fs::path(p).is_absolute()) {
    return std::nullopt;
  }
  return p;
}

// The command that writes a figure under runs/: runs/lab05/... -> ./tito lab 05,
// runs/1986/... -> ./tito milestone run 1986.
std::string drawing_command(const std::string& path) {
  const auto parts = fs::path(path);
  auto it = parts.begin();
  if (it == parts.end() || *it != "runs" || ++it == parts.end()) return "";
  const auto dir = it->string();
  const auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  if (dir.size() == 5 && starts_with(dir, "lab") && digits(dir.substr(3))) {
    return "./tito lab " + dir.substr(3);
  }
  if (dir.size() == 4 && digits(dir)) return "./tito milestone run " + dir;
  return "";
}

// The text of a list of pandoc inlines (for titles and the sidebar).
std::string plain_text(const json& inlines) {
  std::string out;
  if (!inlines.is_array()) return out;
  for (const auto& node : inlines) {
    const std::string type = node.value("t", "");
    if (type == "Str") {
      out += node["c"].get<std::string>();
    } else if (type == "Space" || type == "SoftBreak" || type == "LineBreak") {
      out += ' ';
    } else if (type == "Code") {
      out += node["c"][1].get<std::string>();
    } else if (type == "Link" || type == "Span" || type == "Image" || type == "Quoted" ||
               type == "Cite") {
      out += plain_text(node["c"][1]);
    } else if (node.contains("c")) {  // Emph, Strong, Strikeout, ...
      out += plain_text(node["c"]);
    }
  }
  return out;
}

json raw_html(const std::string& html) {
  return json{{"t", "RawInline"}, {"c", json::array({"html", html})}};
}

// ---- One page: Markdown -> pandoc's AST -> rewritten -> HTML ---------------------------------

struct SiteContext {
  fs::path root;
  fs::path work;                              // scratch files of the pandoc runs
  std::map<std::string, std::string> output;  // page source -> page output
};

class PageRewriter {
 public:
  PageRewriter(const SiteContext& site, Page& page) : site_(site), page_(page) {}

  void rewrite(json& node) {
    if (node.is_array()) {
      for (auto& child : node) rewrite(child);
      return;
    }
    if (!node.is_object()) return;
    const std::string type = node.value("t", "");
    if (type == "Image") {
      image(node);
      return;
    }
    if (type == "Link") link(node);
    if (const auto c = node.find("c"); c != node.end()) rewrite(*c);
    if (type == "Header") header(node);
  }

  std::vector<Figure> figures;
  std::set<std::string> copies;  // repository files the page shows (images)

 private:
  // Header [level, [id, classes, attributes], inlines]: a "#" link to itself at the end.
  void header(json& node) {
    auto& c = node["c"];
    const int level = c[0].get<int>();
    const std::string id = c[1][0].get<std::string>();
    const auto text = plain_text(c[2]);
    if (level == 1 && page_.title.empty()) page_.title = text;
    if (id.empty()) {
      page_.warnings.push_back("heading without an id: " + text);
      return;
    }
    if (level == 2) page_.sections.emplace_back(id, text);
    c[2].push_back(raw_html("<a class=\"anchor\" href=\"#" + html_escape(id) +
                            "\" aria-label=\"Link to this section\">#</a>"));
  }

  // Link [attributes, inlines, [url, title]].
  void link(json& node) {
    auto& target = node["c"][2];
    const std::string url = target[0].get<std::string>();
    if (url.empty() || url[0] == '#' || has_scheme(url)) return;
    const auto hash = url.find('#');
    const std::string path = url.substr(0, hash);
    const std::string fragment = hash == std::string::npos ? "" : url.substr(hash);
    const auto resolved = resolve(page_.source, path);
    if (!resolved) {
      page_.warnings.push_back("link outside the repository: " + url);
      to_text(node, "", "broken-link");
      return;
    }
    std::string page = *resolved;
    std::error_code ec;
    if (fs::is_directory(site_.root / page, ec)) page += "/README.md";
    if (const auto it = site_.output.find(page); it != site_.output.end()) {
      target[0] = relative_url(it->second, page_.output) + fragment;
      return;
    }
    if (fs::exists(site_.root / *resolved, ec)) {
      to_text(node, *resolved, "repo-path");
    } else {
      page_.warnings.push_back("link to a missing file: " + url);
      to_text(node, *resolved, "broken-link");
    }
  }

  // A link to a file the site does not carry: its text, titled with the path.
  static void to_text(json& node, const std::string& path, const std::string& css_class) {
    json attributes = json::array();
    if (!path.empty()) attributes.push_back(json::array({"title", "in the repository: " + path}));
    json content = node["c"][1];
    node = json{
        {"t", "Span"},
        {"c", json::array({json::array({"", json::array({css_class}), attributes}), content})}};
  }

  // Image [attributes, inlines, [url, title]].
  void image(json& node) {
    auto& c = node["c"];
    const std::string url = c[2][0].get<std::string>();
    if (url.empty() || has_scheme(url)) return;
    const auto resolved = resolve(page_.source, url.substr(0, url.find('#')));
    if (!resolved) {
      page_.warnings.push_back("image outside the repository: " + url);
      node = raw_html("<span class=\"figure-missing\">image outside the repository: <code>" +
                      html_escape(url) + "</code></span>");
      return;
    }
    const auto& path = *resolved;
    const bool from_run = starts_with(path, "runs/");
    Figure figure{path, page_.output, false, from_run ? drawing_command(path) : ""};
    std::error_code ec;
    if (fs::is_regular_file(site_.root / path, ec)) {
      figure.drawn = true;
      copies.insert(path);
      c[2][0] = relative_url(path, page_.output);
      if (from_run) c[0][1].push_back("run-figure");
      if (from_run) figures.push_back(figure);
      return;
    }
    const auto alt = plain_text(c[1]);
    if (!from_run) {
      page_.warnings.push_back("image file missing: " + path);
      node = raw_html("<span class=\"figure-missing\">image missing: <code>" + html_escape(path) +
                      "</code></span>");
      return;
    }
    figures.push_back(figure);
    const std::string how = figure.command.empty()
                                ? "the program that writes it (see the text)"
                                : "<code>" + html_escape(figure.command) + "</code>";
    node = raw_html("<span class=\"figure-missing\" role=\"note\"><strong>Figure not drawn yet" +
                    (alt.empty() ? std::string() : ": " + html_escape(alt)) +
                    ".</strong> A run draws it into <code>" + html_escape(path) + "</code>: run " +
                    how + ", then <code>./tito site</code> again.</span>");
  }

  const SiteContext& site_;
  Page& page_;
};

fs::path pandoc_program() {
  const auto pandoc = tito::find_program("pandoc");
  if (!pandoc) {
    throw tito::Error(
        "tito site renders the chapters with pandoc, which is not installed; install Debian's "
        "package: sudo apt-get install -y --no-install-recommends " +
        std::string(kPandocPackage));
  }
  return *pandoc;
}

void run_pandoc(const std::vector<std::string>& argv, const std::string& what) {
  const auto r = tito::capture(argv);
  if (r.exit_code != 0) {
    throw tito::Error("pandoc failed on " + what + " (exit " + std::to_string(r.exit_code) +
                      "): " + r.output + "\n  command: " + tito::join_command(argv));
  }
}

struct Rendered {
  std::vector<Figure> figures;
  std::set<std::string> copies;
};

Rendered render_page(const SiteContext& site, const fs::path& pandoc, Page& page, size_t index) {
  const auto stem = site.work / ("page" + std::to_string(index));
  const auto ast_in = stem.string() + ".in.json";
  const auto ast_out = stem.string() + ".out.json";
  const auto html = stem.string() + ".html";
  run_pandoc({pandoc.string(), "--from=gfm", "--to=json", "--output=" + ast_in,
              (site.root / page.source).string()},
             page.source);
  json doc;
  try {
    doc = json::parse(tito::read_file(ast_in));
  } catch (const json::exception& e) {
    throw tito::Error("pandoc's AST of " + page.source + " is not valid JSON: " + e.what());
  }
  PageRewriter rewriter(site, page);
  rewriter.rewrite(doc["blocks"]);
  tito::write_file_atomic(ast_out, doc.dump());
  run_pandoc({pandoc.string(), "--from=json", "--to=html5",
              "--highlight-style=" + std::string(kHighlightStyle), "--output=" + html, ast_out},
             page.source);
  page.body = tito::read_file(html);
  if (page.title.empty()) page.title = page.label;
  return {std::move(rewriter.figures), std::move(rewriter.copies)};
}

// pandoc's CSS for its highlighting classes, from a one-line C++ snippet and a template that
// holds only that variable.
std::string highlighting_css(const fs::path& pandoc, const fs::path& work) {
  const auto snippet = work / "highlight.md";
  const auto templ = work / "highlight.template";
  const auto css = work / "highlight.css";
  tito::write_file_atomic(snippet, "```cpp\nint main() { return 0; }\n```\n");
  tito::write_file_atomic(templ, "$highlighting-css$\n");
  run_pandoc(
      {pandoc.string(), "--from=gfm", "--to=html5", "--standalone", "--metadata=title:highlight",
       "--template=" + templ.string(), "--highlight-style=" + std::string(kHighlightStyle),
       "--output=" + css.string(), snippet.string()},
      "the highlighting style");
  return tito::read_file(css);
}

// ---- The frame of every page: sidebar, style sheet ---------------------------------------------

const char* kStyle = R"css(
/* tito site: the one style sheet. No JavaScript; the layout is a grid with the sidebar on the
   left, and on narrow screens (phones) one column with the sidebar after the text. */
:root { --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --side: #f6f8fa; --border: #d1d9e0;
        --link: #0969da; --code-bg: #f6f8fa; --note: #fff8c5; --note-border: #d4a72c; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.6;
       font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans",
                    sans-serif; }
a { color: var(--link); }
.layout { display: grid; grid-template-columns: 18rem minmax(0, 1fr);
          grid-template-areas: "nav main"; }
main { grid-area: main; min-width: 0; max-width: 60rem; padding: 1.5rem 2.5rem 4rem;
       overflow-wrap: break-word; }
nav.sidebar { grid-area: nav; position: sticky; top: 0; height: 100vh; overflow-y: auto;
              background: var(--side); border-right: 1px solid var(--border);
              padding: 1rem 1rem 3rem; font-size: 0.9rem; line-height: 1.45; }
nav.sidebar .home { display: block; font-weight: 700; font-size: 1.05rem; margin-bottom: 0.5rem;
                    color: var(--fg); text-decoration: none; }
nav.sidebar .group { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.06em;
                 color: var(--muted); margin: 1.1rem 0 0.3rem; }
nav.sidebar ul { list-style: none; margin: 0; padding: 0; }
nav.sidebar li { margin: 0.1rem 0; }
nav.sidebar a { text-decoration: none; }
nav.sidebar a:hover { text-decoration: underline; }
nav.sidebar .current > a { font-weight: 700; color: var(--fg); }
nav.sidebar ul.sections { margin: 0.2rem 0 0.4rem 0.8rem; padding-left: 0.6rem;
                          border-left: 2px solid var(--border); font-size: 0.85rem; }
nav.sidebar .planned { color: var(--muted); }
.to-contents { display: none; }
footer { color: var(--muted); font-size: 0.8rem; margin-top: 3rem;
         border-top: 1px solid var(--border); padding-top: 0.5rem; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; scroll-margin-top: 1rem; }
h1 { font-size: 1.9rem; } h2 { font-size: 1.45rem; margin-top: 2.2rem; }
h2 { border-bottom: 1px solid var(--border); padding-bottom: 0.2rem; }
a.anchor { margin-left: 0.4rem; color: var(--muted); text-decoration: none; opacity: 0.3;
           font-weight: 400; }
h1:hover a.anchor, h2:hover a.anchor, h3:hover a.anchor, h4:hover a.anchor,
h5:hover a.anchor, h6:hover a.anchor, a.anchor:focus { opacity: 1; }
/* Code and diagrams: monospace, never wrapped; a long line scrolls sideways. */
pre, code, kbd { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
                 font-size: 0.86em; }
pre { white-space: pre; overflow-wrap: normal; word-break: normal; overflow-x: auto;
      background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px;
      padding: 0.75rem 1rem; line-height: 1.35; tab-size: 4; }
pre code { font-size: inherit; white-space: pre; background: none; padding: 0; }
:not(pre) > code { background: var(--code-bg); padding: 0.1em 0.3em; border-radius: 4px;
                   overflow-wrap: anywhere; }
div.sourceCode { overflow: visible; margin: 1em 0; background: none; }
pre.sourceCode { overflow-x: auto; margin: 0; }
table { border-collapse: collapse; display: block; max-width: 100%; overflow-x: auto;
        margin: 1em 0; }
th, td { border: 1px solid var(--border); padding: 0.3rem 0.6rem; vertical-align: top; }
th { background: var(--side); }
blockquote { margin: 1em 0; padding: 0 1em; color: var(--muted);
             border-left: 4px solid var(--border); }
img { max-width: 100%; height: auto; }
img.run-figure { display: block; margin: 1rem 0; border: 1px solid var(--border);
                 background: #fff; }
.figure-missing { display: block; margin: 1rem 0; padding: 0.6rem 0.9rem; border-radius: 6px;
                  background: var(--note); border: 1px dashed var(--note-border); }
.repo-path { border-bottom: 1px dotted var(--muted); }
.broken-link { color: #cf222e; }
.state-completed { color: #1a7f37; font-weight: 600; }
.state-tests-passing { color: #0969da; font-weight: 600; }
.state-in-progress { color: #9a6700; }
.muted { color: var(--muted); }
@media (max-width: 50rem) {
  .layout { display: block; }
  main { padding: 0.5rem 1rem 2rem; }
  nav.sidebar { position: static; height: auto; border-right: 0;
                border-top: 1px solid var(--border); }
  .to-contents { display: block; padding: 0.5rem 1rem; background: var(--side);
                 border-bottom: 1px solid var(--border); font-size: 0.9rem; }
  h1 { font-size: 1.5rem; }
}
)css";

std::string sidebar(const std::vector<Page>& pages, const std::vector<std::string>& planned,
                    const Page& current) {
  std::ostringstream out;
  out << "<nav class=\"sidebar\" id=\"nav\" aria-label=\"Course contents\">\n"
      << "<a class=\"home\" href=\"" << relative_url("index.html", current.output)
      << "\">TinyTorch C++</a>\n";
  for (const std::string group : {"", "Modules", "Milestones", "Guides"}) {
    std::ostringstream items;
    for (const auto& page : pages) {
      if (page.group != group) continue;
      const bool here = &page == &current;
      items << "<li" << (here ? " class=\"current\"" : "") << "><a href=\""
            << html_escape(relative_url(page.output, current.output)) << "\""
            << (here ? " aria-current=\"page\"" : "") << ">" << html_escape(page.label) << "</a>";
      if (here && !page.sections.empty()) {
        items << "\n<ul class=\"sections\">\n";
        for (const auto& [id, text] : page.sections) {
          items << "<li><a href=\"#" << html_escape(id) << "\">" << html_escape(text)
                << "</a></li>\n";
        }
        items << "</ul>";
      }
      items << "</li>\n";
    }
    if (group == "Modules") {
      for (const auto& label : planned) {
        items << "<li class=\"planned\">" << html_escape(label) << " (planned)</li>\n";
      }
    }
    if (items.tellp() == 0) continue;
    if (!group.empty()) out << "<p class=\"group\">" << html_escape(group) << "</p>\n";
    out << "<ul>\n" << items.str() << "</ul>\n";
  }
  out << "</nav>\n";
  return out.str();
}

std::string frame(const std::vector<Page>& pages, const std::vector<std::string>& planned,
                  const Page& page) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<title>" << html_escape(page.title)
      << (page.output == "index.html" ? "" : " — TinyTorch C++")
      << "</title>\n<link rel=\"stylesheet\" href=\"" << relative_url("site.css", page.output)
      << "\">\n</head>\n<body>\n"
      << "<a class=\"to-contents\" href=\"#nav\">☰ Contents</a>\n<div class=\"layout\">\n"
      << "<main id=\"content\">\n"
      << page.body << "<footer>"
      << (page.source.empty() ? std::string("Generated by <code>./tito site</code>.")
                              : "Generated by <code>./tito site</code> from <code>" +
                                    html_escape(page.source) + "</code>.")
      << "</footer>\n</main>\n"
      << sidebar(pages, planned, page) << "</div>\n</body>\n</html>\n";
  return out.str();
}

// ---- The contents page ------------------------------------------------------------------------

std::string heading(int level, const std::string& id, const std::string& text) {
  const auto l = std::to_string(level);
  return "<h" + l + " id=\"" + id + "\">" + html_escape(text) + "<a class=\"anchor\" href=\"#" +
         id + "\" aria-label=\"Link to this section\">#</a></h" + l + ">\n";
}

std::string state_class(tito::ModuleState state) {
  switch (state) {
    case tito::ModuleState::kCompleted:
      return "state-completed";
    case tito::ModuleState::kTestsPassing:
      return "state-tests-passing";
    case tito::ModuleState::kInProgress:
      return "state-in-progress";
    default:
      return "muted";
  }
}

std::string contents_body(const fs::path& root, const tito::ModuleMap& map,
                          const std::map<std::string, std::string>& output,
                          const std::vector<Page>& pages, const std::vector<Figure>& figures) {
  const auto link_to = [&](const std::string& source, const std::string& text) {
    const auto it = output.find(source);
    if (it == output.end()) return html_escape(text);
    return "<a href=\"" + html_escape(it->second) + "\">" + html_escape(text) + "</a>";
  };
  std::ostringstream out;
  out << heading(1, "tinytorch-c-the-course", "TinyTorch C++ — the course")
      << "<p>Build a deep-learning framework in C++20, one module at a time: each chapter "
         "explains a piece, you write it, its tests and lab check it, and the milestones train "
         "real models with it. Start with the "
      << link_to("README.md", "README") << " and the "
      << link_to("docs/LEARNER_GUIDE.md", "learner's guide") << ".</p>\n";

  out << heading(2, "modules", "Modules")
      << "<p>The module map, <code>modules/modules.json</code>. <em>Status</em> is the map's: an "
         "<code>available</code> module has its chapter, tests and lab, a <code>planned</code> "
         "one does not yet. <em>In this checkout</em> is what <code>./tito module status</code> "
         "derives from the files and test results of the checkout the site was built from, when "
         "it was built: <em>not started</em> (every function is still the released stub), "
         "<em>in progress</em>, <em>tests passing</em> (the last <code>./tito module test "
         "NN</code> passed for exactly these files) or <em>completed</em> (<code>./tito module "
         "complete NN</code> passed). Run <code>./tito site</code> again to refresh it.</p>\n"
      << "<table class=\"module-map\">\n<thead><tr><th>#</th><th>Chapter</th><th>Status</th>"
         "<th>In this checkout</th><th>Needs</th></tr></thead>\n<tbody>\n";
  for (const auto& m : map.modules) {
    const auto status = tito::module_status(root, m);
    std::string needs;
    for (const auto& p : m.prerequisites) needs += (needs.empty() ? "" : ", ") + p;
    out << "<tr id=\"module-" << m.id << "\"><td>" << m.id << "</td><td>"
        << link_to(m.chapter, m.title) << "</td><td>" << html_escape(m.status) << "</td><td>"
        << "<span class=\"" << state_class(status.state) << "\">"
        << html_escape(tito::state_name(status.state)) << "</span>";
    if (m.available() && !status.detail.empty()) {
      out << "<br><span class=\"muted\">" << html_escape(status.detail) << "</span>";
    }
    out << "</td><td>" << (needs.empty() ? "—" : needs) << "</td></tr>\n";
  }
  out << "</tbody>\n</table>\n";

  std::set<std::string> done;
  for (const auto& m : map.modules) {
    if (m.available() && tito::is_completed(root, m)) done.insert(m.id);
  }
  out << heading(2, "milestones", "Milestones")
      << "<p>Programs that train real models with your framework: <code>./tito milestone run "
         "YEAR</code>. A milestone is unlocked in this checkout when the modules it needs are "
         "completed.</p>\n"
      << "<table class=\"milestones\">\n<thead><tr><th>Year</th><th>Milestone</th><th>Needs</th>"
         "<th>In this checkout</th></tr></thead>\n<tbody>\n";
  for (const auto& s : map.milestones) {
    std::string needs;
    std::string missing;
    for (const auto& id : s.requires_modules) {
      needs += (needs.empty() ? "" : ", ") + id;
      if (done.count(id) == 0) missing += (missing.empty() ? "" : ", ") + id;
    }
    out << "<tr id=\"milestone-" << html_escape(s.id) << "\"><td>" << html_escape(s.id)
        << "</td><td>" << link_to(s.directory + "/README.md", s.title) << "</td><td>"
        << (needs.empty() ? "—" : needs) << "</td><td>"
        << (missing.empty() ? "<span class=\"state-completed\">unlocked</span>"
                            : "locked <span class=\"muted\">(complete " + missing + ")</span>")
        << (s.status == "available" ? "" : " <span class=\"muted\">(program planned)</span>")
        << "</td></tr>\n";
  }
  out << "</tbody>\n</table>\n";

  out << heading(2, "guides", "Guides") << "<ul>\n";
  for (const auto& page : pages) {
    if (page.group == "Guides" || page.source == "README.md") {
      out << "<li>" << link_to(page.source, page.title) << "</li>\n";
    }
  }
  out << "</ul>\n";

  out << heading(2, "figures", "Figures from runs")
      << "<p>The training curves, decision regions, measured charts and the autograd graph on "
         "these pages are SVG files the programs write under <code>runs/</code> (never "
         "committed, never drawn by hand); the site shows the ones your runs have drawn.</p>\n"
      << "<ul>\n";
  for (const auto& f : figures) {
    const auto page =
        std::find_if(pages.begin(), pages.end(), [&](const Page& p) { return p.output == f.page; });
    out << "<li><code>" << html_escape(f.path) << "</code> on "
        << "<a href=\"" << html_escape(f.page) << "\">"
        << html_escape(page == pages.end() ? f.page : page->label) << "</a>: "
        << (f.drawn ? "<span class=\"state-completed\">drawn</span>"
                    : "not drawn yet" + (f.command.empty()
                                             ? std::string()
                                             : " (<code>" + html_escape(f.command) + "</code>)"))
        << "</li>\n";
  }
  out << "</ul>\n";
  return out.str();
}

// ---- Output folder ---------------------------------------------------------------------------

// The folder to write, refused when it holds anything but an earlier site.
fs::path checked_out_dir(const std::string& text) {
  if (text.empty()) throw tito::Error("--out needs a folder, e.g. --out site");
  auto out = fs::absolute(text).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  std::error_code ec;
  const auto status = fs::symlink_status(out, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw tito::Error("--out " + text + ": a file is in the way (tito site writes a folder " +
                      "there); remove it or choose another folder");
  }
  if (fs::is_directory(status) && !fs::is_empty(out, ec) && !fs::exists(out / kMarker, ec)) {
    throw tito::Error("--out " + text + ": the folder has files that tito site did not write (no " +
                      kMarker +
                      " marker); choose a new or empty folder — tito site replaces only a site "
                      "it wrote");
  }
  fs::create_directories(out.parent_path(), ec);
  if (!fs::is_directory(out.parent_path(), ec)) {
    throw tito::Error("--out " + text + ": cannot create its parent folder " +
                      out.parent_path().string());
  }
  return out;
}

// Removes the staging folder unless the site was published.
struct StagingGuard {
  fs::path dir;
  ~StagingGuard() {
    if (dir.empty()) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Replaces `out` by `staging` (two renames; the old site is removed afterwards).
void publish(const fs::path& staging, const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(out, ec)) {
    fs::rename(staging, out);
    return;
  }
  const auto old =
      out.parent_path() / ("." + out.filename().string() + ".old-" + std::to_string(getpid()));
  fs::remove_all(old, ec);
  fs::rename(out, old);
  fs::rename(staging, out);
  fs::remove_all(old, ec);
}

// ---- The command --------------------------------------------------------------------------------

std::string short_label(const tito::ModuleInfo& m) {
  const auto colon = m.title.find(':');
  return m.id + " " + (colon == std::string::npos ? m.title : m.title.substr(0, colon));
}

// "1969 XOR", "1957 Perceptron": short names are acronyms (mlp, cnn, gpt).
std::string milestone_label(const tito::MilestoneInfo& s) {
  std::string name = s.name;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (name.size() <= 3 || i == 0) name[i] = static_cast<char>(std::toupper(c));
  }
  return s.id + " " + name;
}

// "LEARNER_GUIDE" -> "Learner guide"
std::string guide_label(const std::string& stem) {
  std::string out;
  for (size_t i = 0; i < stem.size(); ++i) {
    const auto c = static_cast<unsigned char>(stem[i]);
    out += stem[i] == '_' ? ' ' : static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

int run_site(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto pandoc = pandoc_program();
  const auto out = checked_out_dir(opts.out);
  if (root.lexically_normal() == out ||
      starts_with(root.lexically_normal().string(), out.string() + "/")) {
    throw tito::Error("--out " + opts.out + " would replace the repository");
  }

  std::vector<Page> pages;
  std::vector<std::string> planned;  // modules without a chapter yet, for the sidebar
  std::error_code ec;
  const auto add = [&](const std::string& source, const std::string& group,
                       const std::string& label) {
    if (!fs::is_regular_file(root / source, ec)) return false;
    pages.push_back(Page{source, output_for(source), group, label, "", {}, "", {}});
    return true;
  };
  pages.push_back(Page{"", "index.html", "", "Contents", "Contents", {}, "", {}});
  add("README.md", "", "README");
  for (const auto& m : map.modules) {
    if (!add(m.chapter, "Modules", short_label(m))) planned.push_back(short_label(m));
  }
  for (const auto& s : map.milestones)
    add(s.directory + "/README.md", "Milestones", milestone_label(s));
  std::vector<std::string> guides;
  for (const auto& entry : fs::directory_iterator(root / "docs", ec)) {
    if (entry.path().extension() == ".md") guides.push_back(entry.path().filename().string());
  }
  std::sort(guides.begin(), guides.end());
  for (const auto& g : guides) add("docs/" + g, "Guides", guide_label(fs::path(g).stem()));

  const auto staging =
      out.parent_path() / ("." + out.filename().string() + ".tmp-" + std::to_string(getpid()));
  fs::remove_all(staging, ec);
  StagingGuard guard{staging};
  fs::create_directories(staging / ".work");
  SiteContext site{root, staging / ".work", {}};
  for (const auto& page : pages) {
    if (!page.source.empty()) site.output[page.source] = page.output;
  }

  // Render the Markdown pages, a few pandoc processes at a time.
  tito::print_step("Rendering " + std::to_string(pages.size() - 1) + " pages with pandoc into " +
                   out.string());
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  const size_t jobs = opts.jobs > 0 ? static_cast<size_t>(opts.jobs) : std::min(cores, 4U);
  std::vector<Rendered> rendered(pages.size());
  std::vector<std::exception_ptr> errors(pages.size());
  std::atomic<size_t> next{1};  // pages[0] is the contents page
  std::vector<std::thread> workers;
  for (size_t w = 0; w < std::min(jobs, pages.size()); ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < pages.size(); i = next++) {
        try {
          rendered[i] = render_page(site, pandoc, pages[i], i);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }

  std::vector<Figure> figures;
  std::set<std::string> copies;
  for (auto& r : rendered) {
    figures.insert(figures.end(), r.figures.begin(), r.figures.end());
    copies.insert(r.copies.begin(), r.copies.end());
  }
  pages[0].body = contents_body(root, map, site.output, pages, figures);

  for (const auto& page : pages) {
    tito::write_file_atomic(staging / page.output, frame(pages, planned, page));
  }
  for (const auto& file : copies) {
    fs::create_directories((staging / file).parent_path());
    fs::copy_file(root / file, staging / file, fs::copy_options::overwrite_existing);
  }
  tito::write_file_atomic(staging / "site.css",
                          std::string(kStyle) + "\n/* pandoc's highlighting (" + kHighlightStyle +
                              ") */\n" + highlighting_css(pandoc, site.work));
  tito::write_file_atomic(staging / kMarker,
                          "Written by ./tito site; a later ./tito site --out replaces this "
                          "folder.\n");
  fs::remove_all(site.work);
  publish(staging, out);
  guard.dir.clear();

  size_t warnings = 0;
  for (const auto& page : pages) {
    for (const auto& w : page.warnings) {
      tito::print_warning(page.source + ": " + w);
      ++warnings;
    }
  }
  const auto drawn =
      std::count_if(figures.begin(), figures.end(), [](const Figure& f) { return f.drawn; });
  std::cout << "Wrote " << pages.size() << " pages to " << out.string()
            << "; figures from runs: " << drawn << " of " << figures.size() << " drawn"
            << (warnings > 0 ? "; " + std::to_string(warnings) + " warning(s)" : "") << ".\n";
  for (const auto& f : figures) {
    if (!f.drawn) {
      std::cout << "  not drawn yet: " << f.path
                << (f.command.empty() ? "" : " (run " + f.command + ")") << '\n';
    }
  }
  std::cout << "Open it: xdg-open " << (out / "index.html").string() << '\n';
  return 0;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("--out", opts->out,
                 "Folder to write the site into (created; a site tito wrote there is replaced)")
      ->required();
  app.add_option("-j,--jobs", opts->jobs, "pandoc processes at a time (default: cores, at most 4)")
      ->check(CLI::Range(1, 64));
  app.footer(
      "Renders the chapters, the milestones' READMEs and the guides with Debian's pandoc "
      "(sudo apt-get install -y --no-install-recommends pandoc) into a static site; open "
      "OUT/index.html in a browser. Figures the programs drew under runs/ are included.");
  return [opts] { return run_site(*opts); };
}

const tito::RegisterCommand kRegistered{
    "site", "Render the course (chapters, milestones, guides) as a static website", setup};

}  // namespace
}  // namespace tito::site_command
