// The store's schema, one text for SQLite and PostgreSQL (CREATE ... IF NOT EXISTS, so opening an
// existing store is a no-op). Window text is the comma-separated float form (EncodeFloats).
// Note: a dead letter's payload is kept as text with invalid UTF-8 bytes replaced, since
// PostgreSQL's TEXT refuses them.
#ifndef EDGELOOP_STORE_SCHEMA_H_
#define EDGELOOP_STORE_SCHEMA_H_

#include <string>

#include "store/sql_conn.h"

namespace edgeloop::store {

std::string SchemaSql(Dialect d);

}  // namespace edgeloop::store

#endif  // EDGELOOP_STORE_SCHEMA_H_
