// A Client that enters the API server's request path without HTTP: the same
// authentication-free admin path kubectl's requests take after the token
// check (defaulting, validation, admission, error mapping), so `kennel up`
// components see exactly what remote ones see.
#pragma once

// clang-format off
#include <utility>  // before Boost 1.74's awaitable.hpp, which needs std::exchange
#include <boost/asio/any_io_executor.hpp>
// clang-format on
#include <memory>

#include "apiserver/handler.h"
#include "client/client.h"

namespace kennel::client {

// handler and the executor's context must outlive the client. Requests run as
// coroutines on executor (the server's I/O threads); the calling thread blocks
// until the answer, so never call from those threads.
std::unique_ptr<Client> NewInProcessClient(apiserver::Handler* handler,
                                           boost::asio::any_io_executor executor);

}  // namespace kennel::client
