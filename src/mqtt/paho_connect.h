// What the Paho-based clients (mqtt::Client on MQTTAsync, the agent's MqttLink on MQTTClient) set
// the same way on a connect: the last will and TLS. Templates because the two Paho APIs have
// parallel but distinct structs; Options is any options struct with server_uri, ca_file and an
// optional `will` (topic, payload, qos, retained).
#pragma once

#include <string>

namespace edgeloop::mqtt {

// ssl://, mqtts:// and wss:// need the TLS variant of Paho (and OpenSSL).
inline bool IsTlsUri(const std::string& uri) {
  return uri.rfind("ssl://", 0) == 0 || uri.rfind("mqtts://", 0) == 0 || uri.rfind("wss://", 0) == 0;
}

// Points connect->will at *will (filled from options.will) and connect->ssl at *ssl (server
// certificate and host name verified against options.ca_file, or the system's CAs) when the URI is
// TLS. *will and *ssl must be Paho's initialised structs and outlive the connect call.
template <typename Options, typename Will, typename Ssl, typename Connect>
void SetWillAndTls(const Options& options, Will* will, Ssl* ssl, Connect* connect) {
  if (options.will) {
    will->topicName = options.will->topic.c_str();
    will->message = nullptr;
    will->payload.data = options.will->payload.data();
    will->payload.len = static_cast<int>(options.will->payload.size());
    will->qos = options.will->qos;
    will->retained = options.will->retained ? 1 : 0;
    connect->will = will;
  }
  if (IsTlsUri(options.server_uri)) {
    ssl->trustStore = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
    ssl->enableServerCertAuth = 1;
    ssl->verify = 1;  // check the host name against the certificate
    connect->ssl = ssl;
  }
}

}  // namespace edgeloop::mqtt
