// Internal to src/data: validation shared by the generators.
#ifndef EDGELOOP_SRC_DATA_CLASS_MIX_H_
#define EDGELOOP_SRC_DATA_CLASS_MIX_H_

#include <vector>

#include "edgeloop/common/status.h"

namespace edgeloop::data {

// Three finite weights >= 0, not all 0 (normal, warning, failure).
Status CheckClassMix(const std::vector<double>& mix);

}  // namespace edgeloop::data

#endif  // EDGELOOP_SRC_DATA_CLASS_MIX_H_
