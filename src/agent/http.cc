#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <mutex>

#include "agent/http.h"

namespace edgeloop::agent {
namespace {

// The plugin sits next to the executable (build/bin, or the install's bin directory).
std::string PluginPath() {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : dir.substr(0, slash);
  return dir + "/" + EDGELOOP_AGENT_HTTPS_PLUGIN;
}

Result<HttpTlsFactory> LoadTlsPlugin() {
  static std::once_flag once;
  static HttpTlsFactory factory = nullptr;
  static std::string error;
  std::call_once(once, [] {
    const std::string path = PluginPath();
    void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = ::dlerror();
      error = "https: cannot load the TLS plugin: " + std::string(e != nullptr ? e : path);
      return;
    }
    factory = reinterpret_cast<HttpTlsFactory>(::dlsym(lib, kHttpTlsFactorySymbol));
    if (factory == nullptr) error = "https: " + path + " has no " + kHttpTlsFactorySymbol;
  });
  if (factory == nullptr) return Status::Unavailable(error);
  return factory;
}

}  // namespace

Result<std::unique_ptr<HttpClient>> NewHttpClient(const HttpClientOptions& options) {
  if (options.base.rfind("http://", 0) == 0) return NewPlainHttpClient(options);
  if (options.base.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("'" + options.base + "' must start with http:// or https://");
  }
  EL_ASSIGN_OR_RETURN(HttpTlsFactory factory, LoadTlsPlugin());
  HttpClient* c = factory(&options);
  if (c == nullptr) return Status::Unavailable("https: the TLS plugin could not create a client for " + options.base);
  return std::unique_ptr<HttpClient>(c);
}

}  // namespace edgeloop::agent
