#include "paho_api.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace edgeloop::mqtt {
namespace {

struct Loaded {
  PahoApi api{};
  Status status;
};

template <typename F>
bool Bind(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr && missing->empty()) *missing = name;
  return *out != nullptr;
}

Loaded Load(const char* file) {
  Loaded l;
  // RTLD_LOCAL: both variants export the same names; each must bind to its own.
  void* lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* e = dlerror();
    l.status = Status::IOError(std::string("mqtt: cannot load ") + file + ": " + (e != nullptr ? e : "?"));
    return l;
  }
  std::string missing;
  PahoApi& a = l.api;
  Bind(lib, "MQTTAsync_createWithOptions", &a.createWithOptions, &missing);
  Bind(lib, "MQTTAsync_setCallbacks", &a.setCallbacks, &missing);
  Bind(lib, "MQTTAsync_setDisconnected", &a.setDisconnected, &missing);
  Bind(lib, "MQTTAsync_connect", &a.connect, &missing);
  Bind(lib, "MQTTAsync_disconnect", &a.disconnect, &missing);
  Bind(lib, "MQTTAsync_isConnected", &a.isConnected, &missing);
  Bind(lib, "MQTTAsync_sendMessage", &a.sendMessage, &missing);
  Bind(lib, "MQTTAsync_subscribe", &a.subscribe, &missing);
  Bind(lib, "MQTTAsync_destroy", &a.destroy, &missing);
  Bind(lib, "MQTTAsync_freeMessage", &a.freeMessage, &missing);
  Bind(lib, "MQTTAsync_free", &a.free, &missing);
  Bind(lib, "MQTTAsync_strerror", &a.strerror, &missing);
  Bind(lib, "MQTTProperties_add", &a.propertiesAdd, &missing);
  Bind(lib, "MQTTProperties_free", &a.propertiesFree, &missing);
  Bind(lib, "MQTTReasonCode_toString", &a.reasonCodeToString, &missing);
  if (!missing.empty()) {
    l.status = Status::IOError(std::string("mqtt: ") + file + " has no symbol " + missing);
  }
  return l;  // the library stays loaded for the life of the process
}

}  // namespace

Result<const PahoApi*> LoadPaho(bool tls) {
  static std::once_flag once[2];
  static Loaded loaded[2];
  const int i = tls ? 1 : 0;
  std::call_once(once[i], [&] { loaded[i] = Load(tls ? EDGELOOP_PAHO_TLS_LIB : EDGELOOP_PAHO_PLAIN_LIB); });
  if (!loaded[i].status.ok()) return loaded[i].status;
  return &loaded[i].api;
}

}  // namespace edgeloop::mqtt
