// DefaultModelLoader for a build without the inference runtime (src/classifier not built):
// every model is refused with a clear reason, so the agent still runs, spools and updates.
#include "agent/model.h"

namespace edgeloop::agent {

ModelLoader DefaultModelLoader() {
  return [](const std::string&) -> Result<std::unique_ptr<Model>> {
    return Status::Unavailable("this edgeloop-agent was built without the inference runtime (src/classifier)");
  };
}

}  // namespace edgeloop::agent
