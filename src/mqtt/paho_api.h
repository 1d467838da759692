// The Paho MQTTAsync entry points the client uses, loaded with dlopen: the plain library for tcp://
// and the TLS one (which pulls in OpenSSL, ~3 MB resident) only when a TLS URI is configured. The
// agent's footprint target (8 MB resident) cannot be met with libcrypto mapped and initialised.
#pragma once

#include <MQTTAsync.h>

#include "edgeloop/common/status.h"

namespace edgeloop::mqtt {

struct PahoApi {
  decltype(&MQTTAsync_createWithOptions) createWithOptions;
  decltype(&MQTTAsync_setCallbacks) setCallbacks;
  decltype(&MQTTAsync_setDisconnected) setDisconnected;
  decltype(&MQTTAsync_connect) connect;
  decltype(&MQTTAsync_disconnect) disconnect;
  decltype(&MQTTAsync_isConnected) isConnected;
  decltype(&MQTTAsync_sendMessage) sendMessage;
  decltype(&MQTTAsync_subscribe) subscribe;
  decltype(&MQTTAsync_destroy) destroy;
  decltype(&MQTTAsync_freeMessage) freeMessage;
  decltype(&MQTTAsync_free) free;
  decltype(&MQTTAsync_strerror) strerror;
  decltype(&MQTTProperties_add) propertiesAdd;
  decltype(&MQTTProperties_free) propertiesFree;
  decltype(&MQTTReasonCode_toString) reasonCodeToString;
};

// The API of the plain (tls = false) or the TLS variant, loaded on first use and kept for the life
// of the process. Errors name the library and what dlopen/dlsym said.
Result<const PahoApi*> LoadPaho(bool tls);

}  // namespace edgeloop::mqtt
