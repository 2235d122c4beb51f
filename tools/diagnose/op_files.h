// tools/diagnose/op_files.h — which source files implement a recorded op, forward and backward.
//
// A trace names ops by the node they record ("SoftmaxBackward0"); a learner needs the file to
// open. The forward of an op is its native (and, for element-wise ops, the strided loop they all
// run on); its backward is its formula in derivatives.cpp, and the native backward kernel the
// formula calls, where it has one. tito maps the files to modules with modules.json's "files".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tinytorch::diagnose {

// Repository-relative paths; empty for a node the table does not know.
std::vector<std::string> op_files(std::string_view node, bool backward);

// Every node name the table knows (a test checks that it covers every node the differentiable
// layer, tinytorch/src/autograd/variable_ops.cpp, records).
std::vector<std::string> known_nodes();

}  // namespace tinytorch::diagnose
