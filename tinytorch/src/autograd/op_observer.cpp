// The process-wide op observer (autograd/op_observer.h). Its hooks are one line each: in
// Recorder::finish (variable_ops.cpp) and in Node::operator() (node.cpp).
#include "tinytorch/autograd/op_observer.h"

namespace tinytorch::autograd {

namespace detail {
std::atomic<OpObserver*> g_op_observer{nullptr};
}  // namespace detail

OpObserver* set_op_observer(OpObserver* observer) {
  // NOTE: the hooks load the pointer relaxed. An observer is installed before the ops it should
  // see start (on this thread, or before the threads that run them are created), which orders
  // its construction before every call; exchange() keeps the swap itself atomic.
  return detail::g_op_observer.exchange(observer, std::memory_order_acq_rel);
}

}  // namespace tinytorch::autograd
